//! Legacy pmem emulated in RAM with the kernel's `memmap=SIZE!START`, chosen from the firmware
//! memory map. Three stages, kept apart:
//! - [`firmware`] reads the map (`/sys/firmware/memmap`, or the `BIOS-e820:` lines of a boot
//!   log) into plain [`firmware::MapEntry`] values, and the memory-block size;
//! - [`arg`] is the `memmap=` and `mem=` syntax, both ways: the claims the running command line
//!   already makes, and the text of the argument we propose;
//! - [`ranges`] is the pure rule that picks the ranges (or refuses, saying why).
//!
//! Writing the boot loader's configuration is the `pmemtab-memmap` tool's business, not this
//! module's.

pub mod arg;
pub mod firmware;
pub mod ranges;

/// Where the printed entry may not be mounted: it is formatted at every boot (`mkfs`) on RAM
/// that forgets at every power-off, so not the root, nor what the system runs from or keeps
/// its data in, nor the kernel's own filesystems. A directory below them (`/var/tmp/scratch`)
/// is the admin's to choose.
pub const SYSTEM_DIRS: [&str; 18] = [
    "/", "/bin", "/boot", "/dev", "/efi", "/etc", "/home", "/lib", "/lib64", "/opt", "/proc",
    "/root", "/run", "/sbin", "/srv", "/sys", "/usr", "/var",
];

/// Whether `mount_point` (simplified, as the pmemtab parser leaves it) is one of
/// [`SYSTEM_DIRS`].
pub fn is_system_dir(mount_point: &str) -> bool {
    SYSTEM_DIRS.contains(&mount_point)
}

/// 1 GiB.
pub const GIB: u64 = 1 << 30;
/// 1 MiB.
pub const MIB: u64 = 1 << 20;

/// A half-open physical address range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PhysRange {
    pub start: u64,
    pub end: u64,
}

impl PhysRange {
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
    /// The last byte, as /proc/iomem and /sys/firmware/memmap write ranges.
    pub fn last(&self) -> u64 {
        self.end.saturating_sub(1)
    }
}

#[cfg(test)]
mod tests {
    /// Issue 28: only / was refused, for a reason every one of these shares; below them the
    /// admin chooses.
    #[test]
    fn system_directories_are_no_scratch_mount() {
        for d in [
            "/", "/usr", "/var", "/etc", "/home", "/boot", "/srv", "/run",
        ] {
            assert!(super::is_system_dir(d), "{d}");
        }
        for d in [
            "/mnt/scratch",
            "/var/tmp/scratch",
            "/tmp",
            "/scratch",
            "/usr/local/x",
        ] {
            assert!(!super::is_system_dir(d), "{d}");
        }
    }
}
