//! Device nodes and uevents, with or without udev.
//!
//! What we chose (see pmem-assemble(8), DEVICE NODES):
//! - `/dev/mapper/control` is made with mknod when missing (devtmpfs normally has it once
//!   dm_mod is loaded), from the numbers in `/sys/class/misc/device-mapper/dev`.
//! - When udev runs (`/run/udev/control` exists), udev makes `/dev/mapper/<name>` from the
//!   resume uevent (the dm rules do so for events without a cookie); we wait for it, bounded,
//!   and make the node ourselves only if udev did not.
//! - Without udev (initramfs), we make `/dev/mapper/<name>` the symlink udev would make
//!   (`../dm-N`, devtmpfs's node), so that udev can replace it after switch-root; only where
//!   devtmpfs made no node do we mknod one (block, 0600, like libdevmapper).
//! - A device built without udev has no udev database entry, so after switch-root the
//!   coldplug "add" event is ignored by the dm rules. `up` on a device that is already active
//!   sends a "change" uevent when udev runs, and the `09-pmemtab.rules` rule marks our devices'
//!   events as coming from their owner so coldplug treats them as ready.

use crate::wait;
use pmemtab::devnum::DevNum;
use pmemtab::sysfs::read as read_attr;
use pmemtab::timeouts::Wait;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

pub fn control_path(dev: &Path) -> PathBuf {
    dev.join("mapper").join("control")
}

pub fn mapper_path(dev: &Path, name: &str) -> PathBuf {
    dev.join("mapper").join(name)
}

/// udev is running when its control socket exists (what libudev and systemd check).
pub fn udev_running(run: &Path) -> bool {
    run.join("udev/control").exists()
}

/// True when dm_mod is loaded (its misc device is registered).
pub fn dm_loaded(sysfs: &Path) -> bool {
    sysfs.join("class/misc/device-mapper").exists()
}

fn makedev(d: DevNum) -> nix::libc::dev_t {
    nix::sys::stat::makedev(u64::from(d.major), u64::from(d.minor))
}

fn mknod(path: &Path, kind: nix::sys::stat::SFlag, d: DevNum) -> io::Result<()> {
    use nix::sys::stat::Mode;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    nix::sys::stat::mknod(path, kind, Mode::from_bits_truncate(0o600), makedev(d))
        .map_err(io::Error::from)
}

/// Makes `<dev>/mapper/control` when it is missing.
pub fn ensure_control(dev: &Path, sysfs: &Path) -> io::Result<PathBuf> {
    let path = control_path(dev);
    if path.exists() {
        return Ok(path);
    }
    let src = sysfs.join("class/misc/device-mapper/dev");
    let text = read_attr(&src)?;
    let d = DevNum::parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not MAJ:MIN", src.display()),
        )
    })?;
    mknod(&path, nix::sys::stat::SFlag::S_IFCHR, d)?;
    Ok(path)
}

/// The node (or udev's symlink) at `path` is the block device `d`.
fn is_node_of(path: &Path, d: DevNum) -> bool {
    std::fs::metadata(path)
        .map(|m| m.file_type().is_block_device() && m.rdev() == makedev(d))
        .unwrap_or(false)
}

/// Makes sure `<dev>/mapper/<name>` is the block device `d`; returns its path. When we make
/// it ourselves, it is the symlink udev would make (`../dm-N`, to the node devtmpfs made), so
/// that udev can take it over later (after switch-root) instead of meeting a node it will
/// not replace; a node is made only where devtmpfs made none.
pub fn ensure_mapper_node(
    dev: &Path,
    sysfs: &Path,
    name: &str,
    d: DevNum,
    udev: bool,
    by: wait::Deadline,
) -> io::Result<PathBuf> {
    let path = mapper_path(dev, name);
    if udev
        && wait::poll(by.cap(Wait::UdevGrace), || {
            is_node_of(&path, d).then_some(())
        })
        .is_some()
    {
        return Ok(path);
    }
    if is_node_of(&path, d) {
        return Ok(path);
    }
    // A stale node from an earlier device of this name (another minor), or nothing.
    if std::fs::symlink_metadata(&path).is_ok() {
        std::fs::remove_file(&path)?;
    }
    match kernel_name(sysfs, d).filter(|k| is_node_of(&dev.join(k), d)) {
        Some(kernel) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::os::unix::fs::symlink(Path::new("..").join(kernel), &path)?;
        }
        None => mknod(&path, nix::sys::stat::SFlag::S_IFBLK, d)?,
    }
    Ok(path)
}

/// Removes `<dev>/mapper/<name>` after the device is gone (udev does it when it runs; we wait
/// for it, then clean up what is left).
pub fn remove_mapper_node(
    dev: &Path,
    name: &str,
    udev: bool,
    by: wait::Deadline,
) -> io::Result<()> {
    let path = mapper_path(dev, name);
    let gone = || std::fs::symlink_metadata(&path).is_err();
    if udev && wait::poll(by.cap(Wait::UdevGrace), || gone().then_some(())).is_some() {
        return Ok(());
    }
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() || m.file_type().is_block_device() => {
            std::fs::remove_file(&path)
        }
        _ => Ok(()),
    }
}

/// `<sysfs>/dev/block/MAJ:MIN`, the device's sysfs directory (a symlink to .../dm-N).
pub fn block_dir(sysfs: &Path, d: DevNum) -> PathBuf {
    sysfs.join("dev/block").join(d.to_string())
}

/// The kernel name (`dm-0`) of a block device.
pub fn kernel_name(sysfs: &Path, d: DevNum) -> Option<String> {
    let link = std::fs::read_link(block_dir(sysfs, d)).ok()?;
    link.file_name().map(|n| n.to_string_lossy().into_owned())
}

/// `queue/dax` of a block device: can it do DAX?
pub fn queue_dax(sysfs: &Path, d: DevNum) -> io::Result<bool> {
    let text = read_attr(&block_dir(sysfs, d).join("queue/dax"))?;
    Ok(text.trim() == "1")
}

/// Devices stacked on this one (`holders/`), e.g. another dm device.
pub fn holders(sysfs: &Path, d: DevNum) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(block_dir(sysfs, d).join("holders"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The device number of the device-mapper device called `name`, from sysfs
/// (`<sysfs>/block/dm-N/dm/name`); `None` when no such device exists. Reads only sysfs, so it
/// needs neither `/dev/mapper/control` nor dm_mod loaded.
pub fn dm_devnum_by_name(sysfs: &Path, name: &str) -> io::Result<Option<DevNum>> {
    let dir = sysfs.join("block");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with("dm-") {
            continue;
        }
        let path = entry.path();
        let Ok(dm_name) = read_attr(&path.join("dm/name")) else {
            continue;
        };
        if dm_name.trim_end_matches('\n') != name {
            continue;
        }
        let dev = read_attr(&path.join("dev"))?;
        return DevNum::parse(&dev).map(Some).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: unexpected content {dev:?}", path.join("dev").display()),
            )
        });
    }
    Ok(None)
}

/// Asks the kernel to send a "change" uevent for the device, so udev (re)processes it.
pub fn send_change(sysfs: &Path, d: DevNum) -> io::Result<()> {
    std::fs::write(block_dir(sysfs, d).join("uevent"), "change")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon() -> wait::Deadline {
        wait::Deadline::after(std::time::Duration::from_secs(5))
    }

    fn tmp(tag: &str) -> testsupport::Scratch {
        testsupport::Scratch::new(&format!("nodes-{tag}"))
    }

    #[test]
    fn dm_devices_are_found_by_name_in_sysfs() {
        let sys = tmp("dm-by-name");
        for (kname, name, dev) in [("dm-0", "other", "254:0"), ("dm-1", "fast", "254:1")] {
            let d = sys.join("block").join(kname);
            std::fs::create_dir_all(d.join("dm")).unwrap();
            std::fs::write(d.join("dm/name"), format!("{name}\n")).unwrap();
            std::fs::write(d.join("dev"), format!("{dev}\n")).unwrap();
        }
        std::fs::create_dir_all(sys.join("block/pmem0")).unwrap();
        assert_eq!(
            dm_devnum_by_name(&sys, "fast").unwrap(),
            Some(DevNum {
                major: 254,
                minor: 1
            })
        );
        assert_eq!(dm_devnum_by_name(&sys, "fas").unwrap(), None);
        assert_eq!(
            dm_devnum_by_name(&sys.join("nowhere"), "fast").unwrap(),
            None
        );
    }

    #[test]
    fn control_node_from_sysfs_numbers() {
        let root = tmp("ctl");
        let (dev, sys) = (root.join("dev"), root.join("sys"));
        assert!(
            ensure_control(&dev, &sys).is_err(),
            "no dm_mod: no control node"
        );
        assert!(!dm_loaded(&sys));
        std::fs::create_dir_all(sys.join("class/misc/device-mapper")).unwrap();
        std::fs::write(sys.join("class/misc/device-mapper/dev"), "10:236\n").unwrap();
        assert!(dm_loaded(&sys));
        let p = ensure_control(&dev, &sys).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert!(m.file_type().is_char_device());
        assert_eq!(
            m.rdev(),
            makedev(DevNum {
                major: 10,
                minor: 236
            })
        );
        assert_eq!(m.mode() & 0o777, 0o600);
        // Present: left alone.
        assert_eq!(ensure_control(&dev, &sys).unwrap(), p);
    }

    #[test]
    fn mapper_node_made_replaced_and_removed() {
        let root = tmp("map");
        let d0 = DevNum {
            major: 253,
            minor: 0,
        };
        let d1 = DevNum {
            major: 253,
            minor: 1,
        };
        let p =
            ensure_mapper_node(&root, &root.join("no-sys"), "fast0", d0, false, soon()).unwrap();
        assert!(is_node_of(&p, d0));
        // Same device: unchanged. Other minor (stale node): replaced.
        ensure_mapper_node(&root, &root.join("no-sys"), "fast0", d0, false, soon()).unwrap();
        ensure_mapper_node(&root, &root.join("no-sys"), "fast0", d1, false, soon()).unwrap();
        assert!(is_node_of(&p, d1) && !is_node_of(&p, d0));
        remove_mapper_node(&root, "fast0", false, soon()).unwrap();
        assert!(std::fs::symlink_metadata(&p).is_err());
        // A regular file is not ours to remove.
        std::fs::write(&p, "x").unwrap();
        remove_mapper_node(&root, "fast0", false, soon()).unwrap();
        assert!(p.exists());
    }

    #[test]
    fn without_udev_the_link_udev_would_make() {
        let root = tmp("link");
        let (dev, sys) = (root.join("dev"), root.join("sys"));
        let d = DevNum {
            major: 253,
            minor: 3,
        };
        // devtmpfs's node and sysfs's dev/block/253:3 -> .../dm-3
        std::fs::create_dir_all(&dev).unwrap();
        mknod(&dev.join("dm-3"), nix::sys::stat::SFlag::S_IFBLK, d).unwrap();
        std::fs::create_dir_all(sys.join("dev/block")).unwrap();
        std::os::unix::fs::symlink(
            "../../devices/virtual/block/dm-3",
            sys.join("dev/block/253:3"),
        )
        .unwrap();
        let p = ensure_mapper_node(&dev, &sys, "fast0", d, false, soon()).unwrap();
        assert_eq!(std::fs::read_link(&p).unwrap(), Path::new("../dm-3"));
        assert!(is_node_of(&p, d));
        remove_mapper_node(&dev, "fast0", false, soon()).unwrap();
        assert!(std::fs::symlink_metadata(&p).is_err());
    }

    #[test]
    fn udev_symlink_is_accepted() {
        let root = tmp("udev");
        let d = DevNum {
            major: 253,
            minor: 2,
        };
        mknod(&root.join("dm-2"), nix::sys::stat::SFlag::S_IFBLK, d).unwrap();
        std::fs::create_dir_all(root.join("mapper")).unwrap();
        std::os::unix::fs::symlink("../dm-2", root.join("mapper/fast0")).unwrap();
        let p = ensure_mapper_node(&root, &root.join("no-sys"), "fast0", d, true, soon()).unwrap();
        assert!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink(),
            "udev's link kept"
        );
        let run = root.join("run");
        assert!(!udev_running(&run));
        std::fs::create_dir_all(run.join("udev/control")).unwrap();
        assert!(udev_running(&run));
    }

    #[test]
    fn sysfs_attributes_of_a_block_device() {
        let root = tmp("sys");
        let d = DevNum {
            major: 253,
            minor: 0,
        };
        let real = root.join("devices/virtual/block/dm-0");
        std::fs::create_dir_all(real.join("queue")).unwrap();
        std::fs::create_dir_all(real.join("holders/dm-1")).unwrap();
        std::fs::write(real.join("queue/dax"), "1\n").unwrap();
        std::fs::create_dir_all(root.join("dev/block")).unwrap();
        std::os::unix::fs::symlink(
            "../../devices/virtual/block/dm-0",
            root.join("dev/block/253:0"),
        )
        .unwrap();
        assert_eq!(kernel_name(&root, d).as_deref(), Some("dm-0"));
        assert!(queue_dax(&root, d).unwrap());
        std::fs::write(real.join("queue/dax"), "0\n").unwrap();
        assert!(!queue_dax(&root, d).unwrap());
        assert_eq!(holders(&root, d), vec!["dm-1".to_string()]);
        send_change(&root, d).unwrap();
        assert_eq!(
            std::fs::read_to_string(real.join("uevent")).unwrap(),
            "change"
        );
    }
}
