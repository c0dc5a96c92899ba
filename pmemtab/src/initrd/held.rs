//! Whether the running system's `/` or `/usr` sits on a device pmemtab sets up: an image
//! built without what sets it up could not mount it, and removing the package would leave
//! such an image behind.

use super::Image;
use crate::devnum::DevNum;
use crate::tab::Entry;
use std::path::Path;

/// A mount of the running system that the boot needs (`/` or `/usr`) and its device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootMount {
    pub mount_point: String,
    pub devnum: DevNum,
}

/// A boot mount on a device pmemtab sets up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// `/` or `/usr`.
    pub mount_point: String,
    /// The device pmemtab sets up, as a user knows it: `/dev/mapper/NAME`, `/dev/pmemN`.
    pub device: String,
    /// The entry that sets it up, if pmemtab still has one: for a dm device the entry whose
    /// dm uuid it carries, for a namespace the `single` entry it was planned for.
    pub entry: Option<String>,
}

/// How deep a stack of block devices over a pmemtab device is followed (dm-crypt over LVM
/// over a stripe is three).
const MAX_STACK: usize = 8;

/// The boot mounts of the running system that sit on a device pmemtab sets up, or on a device
/// stacked on one (dm-crypt, LVM): a device-mapper device whose uuid has pmemtab's prefix, or
/// the namespace a `single` entry was planned for (`singles`: each entry's block device).
/// Read from `sysfs` (`dev/block/MAJ:MIN/{dm,slaves}`).
pub fn held(
    sysfs: &Path,
    entries: &[Entry],
    mounts: &[BootMount],
    singles: &[(&Entry, DevNum, &str)],
) -> Vec<Held> {
    let mut out = Vec::new();
    for m in mounts {
        if let Some((found, device, entry)) = pmemtab_device(sysfs, entries, singles, m.devnum, 0) {
            // Stacked (dm-crypt, LVM): say what the mount is on, then ours below it.
            let device = if found == m.devnum {
                device
            } else {
                format!("{} over {device}", device_name(sysfs, m.devnum))
            };
            out.push(Held {
                mount_point: m.mount_point.clone(),
                device,
                entry,
            });
        }
    }
    out
}

/// A block device as users know it: `/dev/mapper/NAME` for device-mapper, else `/dev/` and
/// the kernel's name (the directory `dev/block/MAJ:MIN` links to), else `MAJ:MIN`.
fn device_name(sysfs: &Path, d: DevNum) -> String {
    let dir = sysfs.join(format!("dev/block/{d}"));
    if let Ok(name) = crate::sysfs::read_line(&dir.join("dm/name")) {
        return format!("/dev/mapper/{name}");
    }
    std::fs::read_link(&dir)
        .ok()
        .and_then(|l| {
            l.file_name()
                .map(|n| format!("/dev/{}", n.to_string_lossy()))
        })
        .unwrap_or_else(|| d.to_string())
}

fn pmemtab_device(
    sysfs: &Path,
    entries: &[Entry],
    singles: &[(&Entry, DevNum, &str)],
    d: DevNum,
    depth: usize,
) -> Option<(DevNum, String, Option<String>)> {
    let dir = sysfs.join(format!("dev/block/{d}"));
    if let Ok(uuid) = crate::sysfs::read_line(&dir.join("dm/uuid")) {
        if uuid.starts_with(crate::plan::DM_UUID_PREFIX) {
            let name =
                crate::sysfs::read_line(&dir.join("dm/name")).unwrap_or_else(|_| d.to_string());
            let entry = entries
                .iter()
                .find(|e| e.layout().is_dm() && crate::plan::dm_uuid(&e.name) == uuid)
                .map(|e| e.name.to_string());
            return Some((d, format!("/dev/mapper/{name}"), entry));
        }
    }
    if let Some((e, _, blockdev)) = singles.iter().find(|(_, n, _)| *n == d) {
        return Some((d, format!("/dev/{blockdev}"), Some(e.name.to_string())));
    }
    if depth >= MAX_STACK {
        return None;
    }
    let slaves = std::fs::read_dir(dir.join("slaves")).ok()?;
    for s in slaves.flatten() {
        let Some(below) = crate::sysfs::read_line(&s.path().join("dev"))
            .ok()
            .and_then(|t| DevNum::parse(&t))
        else {
            continue;
        };
        if let Some(found) = pmemtab_device(sysfs, entries, singles, below, depth + 1) {
            return Some(found);
        }
    }
    None
}

/// The boot mounts on pmemtab devices that the image would not set up: no entry it sets up
/// makes that device or declares that mount point. An image built so could not mount them.
pub fn uncovered<'h>(image: &Image<'_>, held: &'h [Held]) -> Vec<&'h Held> {
    held.iter()
        .filter(|h| {
            !image.entries.iter().any(|e| {
                e.mount_point().map(|m| m.as_str()) == Some(h.mount_point.as_str())
                    || h.entry.as_deref() == Some(e.name.as_str())
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initrd::image;

    /// A block device of the fake sysfs: MAJ:MIN, its dm name and uuid, what it sits on.
    type Dev<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a [&'a str]);

    fn sysfs_with(devs: &[Dev<'_>]) -> testsupport::Scratch {
        let d = testsupport::Scratch::new("initrd-held");
        for (num, dm, slaves) in devs {
            let dir = d.join(format!("dev/block/{num}"));
            std::fs::create_dir_all(dir.join("slaves")).unwrap();
            if let Some((name, uuid)) = dm {
                std::fs::create_dir_all(dir.join("dm")).unwrap();
                std::fs::write(dir.join("dm/name"), format!("{name}\n")).unwrap();
                std::fs::write(dir.join("dm/uuid"), format!("{uuid}\n")).unwrap();
            }
            for (i, s) in slaves.iter().enumerate() {
                let sd = dir.join(format!("slaves/s{i}"));
                std::fs::create_dir_all(&sd).unwrap();
                std::fs::write(sd.join("dev"), format!("{s}\n")).unwrap();
            }
        }
        d
    }

    #[test]
    fn boot_mounts_on_pmemtab_devices() {
        let parsed = crate::tab::parse(
            "sys striped:2M name=a,name=b / ext4\nfast single name=c /srv/fast ext4\n",
        );
        // 254:0 root's stripe; 254:1 dm-crypt over 254:2, someone else's dm over our 254:3;
        // 259:4 the namespace of 'fast'; 8:1 a disk.
        let sys = sysfs_with(&[
            ("254:0", Some(("sys", "PMEMTAB-sys")), &[]),
            ("254:1", Some(("crypt", "CRYPT-LUKS2-x")), &["254:2"]),
            ("254:2", Some(("lv", "LVM-x")), &["254:3"]),
            ("254:3", Some(("old", "PMEMTAB-old")), &[]),
            ("259:4", None, &[]),
            ("8:1", None, &[]),
        ]);
        let dn = |s: &str| DevNum::parse(s).unwrap();
        let mount = |mp: &str, d: &str| BootMount {
            mount_point: mp.into(),
            devnum: dn(d),
        };
        let fast = &parsed.entries[1];
        let singles = [(fast, dn("259:4"), "pmem0.4")];
        let held_of = |mounts: &[BootMount]| held(sys.path(), &parsed.entries, mounts, &singles);
        assert_eq!(
            held_of(&[mount("/", "254:0")]),
            [Held {
                mount_point: "/".into(),
                device: "/dev/mapper/sys".into(),
                entry: Some("sys".into())
            }]
        );
        assert_eq!(
            held_of(&[mount("/usr", "254:1")]),
            [Held {
                mount_point: "/usr".into(),
                device: "/dev/mapper/crypt over /dev/mapper/old".into(),
                entry: None
            }]
        );
        assert_eq!(
            held_of(&[mount("/", "259:4")]),
            [Held {
                mount_point: "/".into(),
                device: "/dev/pmem0.4".into(),
                entry: Some("fast".into())
            }]
        );
        assert!(held_of(&[mount("/", "8:1"), mount("/usr", "7:0")]).is_empty());

        // Covered: the image sets up an entry that declares / (under any name) or makes the
        // device; not covered: a device no entry makes, a single entry that is not /.
        let img = image(&parsed, &[]);
        let all = held_of(&[mount("/", "254:0"), mount("/usr", "254:1")]);
        let un: Vec<&str> = uncovered(&img, &all)
            .iter()
            .map(|h| h.mount_point.as_str())
            .collect();
        assert_eq!(un, ["/usr"]);
        let single_root = held_of(&[mount("/", "259:4")]);
        let renamed = crate::tab::parse("other striped:2M name=a,name=b / ext4\n");
        assert!(uncovered(&image(&renamed, &[]), &held_of(&[mount("/", "254:0")])).is_empty());
        assert_eq!(uncovered(&image(&renamed, &[]), &single_root).len(), 0);
        let no_root = crate::tab::parse("fast single name=c /srv/fast ext4\n");
        assert_eq!(uncovered(&image(&no_root, &[]), &single_root).len(), 1);
    }
}
