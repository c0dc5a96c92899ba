//! mount(2) with DAX, and the check that DAX really is on afterwards.
//!
//! fstab-style options are split into mount flags (ro, nosuid, noatime, ...) and the data
//! string the filesystem parses (dax, errors=, ...) by the library's one table of options;
//! options meant for userspace (x-*, _netdev, nofail, ...) are dropped. DAX is verified in
//! `/proc/self/mountinfo`: ext4 and XFS show `dax=always` (ext2-style `dax`) when it is on;
//! XFS on a non-DAX device mounts anyway and shows `dax=never`. [`verify`] is that check,
//! shared by `mount` (which unmounts again when it fails) and `verify-dax` (which the boot
//! runs after systemd's mount unit, and which changes nothing). mountinfo is the library's
//! (`pmemtab::mountinfo`, read as bytes).

use nix::mount::MsFlags;
use pmemtab::devnum::DevNum;
pub use pmemtab::tab::DaxWant;
use std::path::{Path, PathBuf};

/// Options split for mount(2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub flags: MsFlags,
    pub data: String,
}

/// Maps fstab options to mount(2) flags and data, like mount(8) does (see
/// [`pmemtab::tab::options`]).
pub fn split_options(options: &[String]) -> Split {
    let (bits, data) = pmemtab::tab::options::split(options);
    Split {
        // The table holds the kernel's MS_* values; nix lacks a name for some (MS_NOSYMFOLLOW).
        flags: MsFlags::from_bits_retain(bits as nix::libc::c_ulong),
        data,
    }
}

pub use pmemtab::mountinfo::{read as mountinfo, MountEntry};

/// Where the device is mounted (for "busy" messages and idempotent mounts).
pub fn mounts_of(entries: &[MountEntry], d: DevNum) -> Vec<&MountEntry> {
    entries.iter().filter(|e| e.devnum == Some(d)).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum MountError {
    #[error("cannot create mount point {path}: {source}")]
    Mkdir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Mountinfo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{target} already has {other} mounted; unmount it first or change the mount point")]
    Occupied { target: String, other: String },
    #[error("mounting {device} on {target} ({fstype}, {options}) failed: {errno} ({}); {hint}", errno.desc())]
    Mount {
        device: String,
        target: String,
        fstype: String,
        options: String,
        errno: nix::errno::Errno,
        hint: &'static str,
    },
    #[error("{target} was mounted without DAX (kernel shows {shown}), so it was unmounted again; check that every member is an fsdax namespace (`pmem-assemble status`) and see dmesg")]
    NoDax { target: String, shown: String },
    #[error("{target} is mounted without DAX (kernel shows {shown}); check that every member is an fsdax namespace (`pmem-assemble status`) and see dmesg (XFS says \"Turning off DAX\"), or write dax=inode or dax=never in pmemtab if that is wanted")]
    MountedNoDax { target: String, shown: String },
    #[error("{target} was mounted without DAX and unmounting it failed too ({errno}); unmount it by hand")]
    NoDaxStuck {
        target: String,
        errno: nix::errno::Errno,
    },
    #[error("mount of {target} succeeded but it is not in mountinfo; see dmesg")]
    Vanished { target: String },
}

fn hint(errno: nix::errno::Errno) -> &'static str {
    use nix::errno::Errno::*;
    match errno {
        EINVAL => "the kernel refused the options or the device; dmesg says why (ext4 needs a DAX-capable device and 4096-byte blocks for DAX)",
        ENODEV => "the filesystem type is not known to the kernel; load its module (modprobe ext4/xfs)",
        ENOTBLK | ENOENT | ENXIO => "the device node is missing; run `pmem-assemble up` first",
        EBUSY => "the device or mount point is busy",
        EUCLEAN | EIO => "the filesystem needs checking (fsck / xfs_repair)",
        _ => "see dmesg",
    }
}

/// The outcome of [`mount_dax`].
#[derive(Debug, PartialEq, Eq)]
pub enum Mounted {
    New,
    /// The device was mounted there already (with DAX as wanted): nothing changed.
    Already,
}

/// The mount on top of `target` (canonical, as mountinfo shows it), if any.
fn top_mount(proc: &Path, target: &Path) -> Result<Option<MountEntry>, MountError> {
    let entries = mountinfo(proc).map_err(|source| MountError::Mountinfo {
        path: proc.join("self/mountinfo"),
        source,
    })?;
    Ok(entries.into_iter().rev().find(|e| e.mount_point == target))
}

/// The check of `pmem-assemble mount`, changing nothing: `target` has the block device
/// `devnum` mounted on top, with DAX as `want` requires. `Ok(None)`: nothing is mounted
/// there.
pub fn verify(
    devnum: DevNum,
    target: &Path,
    want: DaxWant,
    proc: &Path,
) -> Result<Option<MountEntry>, MountError> {
    // mountinfo shows the resolved path.
    let target = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let tstr = pmemtab::text::escape_path(&target);
    let Some(e) = top_mount(proc, &target)? else {
        return Ok(None);
    };
    if e.devnum != Some(devnum) {
        return Err(MountError::Occupied {
            target: tstr,
            other: e.source,
        });
    }
    if !e.dax_ok(want) {
        return Err(MountError::MountedNoDax {
            target: tstr,
            shown: e.super_opts.join(","),
        });
    }
    Ok(Some(e))
}

/// Mounts `source` (the block device `devnum`) on `target` and verifies DAX; a mount without
/// DAX is undone. Idempotent: the same device already mounted there is success.
pub fn mount_dax(
    source: &Path,
    devnum: DevNum,
    target: &Path,
    fstype: &str,
    options: &[String],
    proc: &Path,
) -> Result<Mounted, MountError> {
    let want = DaxWant::of(options);
    std::fs::create_dir_all(target).map_err(|source| MountError::Mkdir {
        path: target.to_path_buf(),
        source,
    })?;
    if verify(devnum, target, want, proc)?.is_some() {
        return Ok(Mounted::Already);
    }
    let target = std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf());
    let tstr = pmemtab::text::escape_path(&target);
    let split = split_options(options);
    nix::mount::mount(
        Some(source),
        &target,
        Some(fstype),
        split.flags,
        Some(split.data.as_str()),
    )
    .map_err(|errno| MountError::Mount {
        device: pmemtab::text::escape_path(source),
        target: tstr.clone(),
        fstype: fstype.to_string(),
        options: options.join(","),
        errno,
        hint: hint(errno),
    })?;
    let Some(e) = top_mount(proc, &target)? else {
        return Err(MountError::Vanished { target: tstr });
    };
    if e.devnum == Some(devnum) && e.dax_ok(want) {
        return Ok(Mounted::New);
    }
    match nix::mount::umount(&target) {
        Ok(()) => Err(MountError::NoDax {
            target: tstr,
            shown: e.super_opts.join(","),
        }),
        Err(errno) => Err(MountError::NoDaxStuck {
            target: tstr,
            errno,
        }),
    }
}

/// The mount point under an optional root (`--root /sysroot`).
pub fn under_root(root: Option<&Path>, mount_point: &str) -> PathBuf {
    match root {
        Some(r) => r.join(mount_point.trim_start_matches('/')),
        None => PathBuf::from(mount_point),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let sp = split_options(&s(&[
            "dax",
            "noatime",
            "nosuid",
            "errors=remount-ro",
            "x-systemd.requires=a",
            "defaults",
            "_netdev",
            "nofail",
            "ro",
            "rw",
        ]));
        assert_eq!(sp.flags, MsFlags::MS_NOATIME | MsFlags::MS_NOSUID);
        assert_eq!(sp.data, "dax,errors=remount-ro");
        assert_eq!(
            split_options(&s(&["dax=always", "ro"])).flags,
            MsFlags::MS_RDONLY
        );
        assert_eq!(split_options(&[]).data, "");
        // Flags the filesystem would refuse as data (EINVAL) are flags.
        let sp = split_options(&s(&["nosymfollow", "strictatime", "nostrictatime"]));
        assert_eq!(sp.data, "");
        assert_eq!(
            sp.flags.bits(),
            nix::libc::MS_NOSYMFOLLOW,
            "nosymfollow set, strictatime cleared again"
        );
        assert!(split_options(&s(&["nosymfollow", "symfollow"]))
            .flags
            .is_empty());
    }

    /// The library's table holds the kernel's numbers: they must be libc's.
    #[test]
    fn flag_values_are_the_kernels() {
        use nix::libc;
        use pmemtab::tab::options::ms;
        for (ours, theirs) in [
            (ms::RDONLY, libc::MS_RDONLY),
            (ms::NOSUID, libc::MS_NOSUID),
            (ms::NODEV, libc::MS_NODEV),
            (ms::NOEXEC, libc::MS_NOEXEC),
            (ms::SYNCHRONOUS, libc::MS_SYNCHRONOUS),
            (ms::DIRSYNC, libc::MS_DIRSYNC),
            (ms::NOSYMFOLLOW, libc::MS_NOSYMFOLLOW),
            (ms::NOATIME, libc::MS_NOATIME),
            (ms::NODIRATIME, libc::MS_NODIRATIME),
            (ms::SILENT, libc::MS_SILENT),
            (ms::RELATIME, libc::MS_RELATIME),
            (ms::I_VERSION, libc::MS_I_VERSION),
            (ms::STRICTATIME, libc::MS_STRICTATIME),
            (ms::LAZYTIME, libc::MS_LAZYTIME),
        ] {
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn dax_wishes() {
        assert_eq!(DaxWant::of(&s(&["dax"])), DaxWant::Always);
        assert_eq!(DaxWant::of(&s(&["noatime"])), DaxWant::Always);
        assert_eq!(DaxWant::of(&s(&["dax=inode"])), DaxWant::Inode);
        assert_eq!(DaxWant::of(&s(&["dax", "dax=never"])), DaxWant::Never);
    }

    // Lines as a 6.1 kernel prints them (ext4 with -o dax, XFS that turned DAX off).
    const INFO: &str = "\
22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw,dax=always
30 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=4096k
41 22 253:1 / /mnt/fast\\040data rw,noatime shared:20 - ext4 /dev/mapper/fast0 rw,dax=always,stripe=512
42 22 259:0 / /mnt/xfs rw,relatime shared:21 - xfs /dev/pmem0 rw,attr2,dax=never,inode64,noquota
";

    /// `verify` (the check of `mount` and of `verify-dax`) on a mountinfo as the kernel
    /// shows it: the device and DAX as wanted, or why not; it changes nothing.
    #[test]
    fn verify_reads_the_mount_and_changes_nothing() {
        let proc = testsupport::Scratch::new("verify");
        std::fs::create_dir_all(proc.join("self")).unwrap();
        std::fs::write(proc.join("self/mountinfo"), INFO).unwrap();
        let d = |major, minor| DevNum { major, minor };
        let ok = verify(
            d(253, 1),
            Path::new("/mnt/fast data"),
            DaxWant::Always,
            &proc,
        );
        assert_eq!(ok.unwrap().unwrap().source, "/dev/mapper/fast0");
        let off = verify(d(259, 0), Path::new("/mnt/xfs"), DaxWant::Always, &proc);
        assert!(
            matches!(&off, Err(MountError::MountedNoDax { shown, .. }) if shown.contains("dax=never")),
            "{off:?}"
        );
        assert!(verify(d(259, 0), Path::new("/mnt/xfs"), DaxWant::Never, &proc).is_ok());
        let other = verify(d(259, 9), Path::new("/mnt/xfs"), DaxWant::Never, &proc);
        assert!(
            matches!(other, Err(MountError::Occupied { .. })),
            "{other:?}"
        );
        let none = verify(d(259, 0), Path::new("/mnt/none"), DaxWant::Always, &proc);
        assert!(matches!(none, Ok(None)), "{none:?}");
        assert_eq!(
            std::fs::read_to_string(proc.join("self/mountinfo")).unwrap(),
            INFO
        );
    }

    #[test]
    fn root_prefix() {
        assert_eq!(
            under_root(Some(Path::new("/sysroot")), "/srv/pm"),
            PathBuf::from("/sysroot/srv/pm")
        );
        assert_eq!(under_root(None, "/srv/pm"), PathBuf::from("/srv/pm"));
        assert_eq!(
            under_root(Some(Path::new("/sysroot")), "/"),
            PathBuf::from("/sysroot/")
        );
    }
}
