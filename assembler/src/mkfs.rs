//! The `mkfs` option: make a filesystem only where it cannot destroy one, with geometry that
//! keeps allocations 2 MiB aligned (stride/stripe width for ext4, su/sw for XFS).
//!
//! mkfs runs only when neither the assembled device nor any member holds a known signature
//! (see [`crate::signature`]) at its own start: a member that holds one while the device does
//! not was moved (members reordered, or taken from another device or a `single` entry), and
//! formatting would destroy what it holds. mkfs is never forced.

use crate::signature::{self, probe};
use crate::wait;
use pmemtab::geometry::Stripe;
use pmemtab::size::PAGE_BYTES;
use pmemtab::tab::{FsType, Layout};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Below this, XFS gets 4 allocation groups: with a stripe unit set, mkfs.xfs picks so many
/// small groups on a small device that its 64 MiB minimum log no longer fits in one
/// ("Log size must be at least 64MB", seen at 512 MiB; 600 MiB and more work).
const XFS_SMALL_BYTES: u64 = 4 << 30;

/// mkfs arguments (without the program and device) for a layout of `members` devices and a
/// device of `bytes`. No force flag, ever: mke2fs and mkfs.xfs then refuse on their own to
/// overwrite a filesystem they recognise and we did not.
pub fn mkfs_args(fstype: FsType, layout: Layout, members: usize, bytes: u64) -> Vec<String> {
    let stripe = Stripe::for_layout(layout, members);
    match fstype {
        FsType::Ext4 => vec![
            "-q".into(),
            "-b".into(),
            PAGE_BYTES.to_string(),
            "-E".into(),
            format!(
                "stride={},stripe_width={}",
                stripe.unit_bytes / PAGE_BYTES,
                stripe.width_bytes / PAGE_BYTES
            ),
        ],
        // reflink is off: the 6.1 kernel refuses DAX on reflink filesystems.
        FsType::Xfs => {
            let small = if bytes < XFS_SMALL_BYTES {
                ",agcount=4"
            } else {
                ""
            };
            vec![
                "-q".into(),
                "-m".into(),
                "reflink=0".into(),
                "-d".into(),
                format!(
                    "su={}k,sw={}{small}",
                    stripe.unit_bytes / 1024,
                    stripe.members()
                ),
            ]
        }
    }
}

/// Finds a program in $PATH, then the usual sbin directories (the initramfs may have no PATH).
pub fn find_program(name: &str, path_var: Option<&str>) -> Option<PathBuf> {
    let dirs = path_var
        .unwrap_or("")
        .split(':')
        .filter(|d| !d.is_empty())
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
    dirs.map(|d| Path::new(d).join(name)).find(|p| p.is_file())
}

#[derive(Debug, thiserror::Error)]
pub enum MkfsError {
    #[error("cannot read {dev} to look for a filesystem: {source}")]
    Probe { dev: String, source: std::io::Error },
    #[error("mkfs refused: {dev} holds no filesystem, but its member {member} ({path}) holds {sig} at its start, so the members were reordered or this namespace belonged to another device; restore the entry's members as they were, or erase the member on purpose with `wipefs -a {path}`")]
    MemberInUse {
        dev: String,
        member: String,
        path: String,
        sig: &'static str,
    },
    #[error("mkfs.{fstype} was not found in $PATH, /usr/sbin or /sbin; install {pkg}")]
    NoProgram {
        fstype: &'static str,
        pkg: &'static str,
    },
    #[error("{0}")]
    Run(#[from] wait::RunError),
    #[error("mkfs.{fstype} {dev} failed ({status}); see its output above")]
    Failed {
        fstype: &'static str,
        dev: String,
        status: std::process::ExitStatus,
    },
}

impl MkfsError {
    /// A refusal to format (the entry as declared would destroy data), not a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(self, MkfsError::MemberInUse { .. })
    }
}

/// What [`ensure_fs`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Made {
    Created,
    /// A signature was there: left alone.
    Existing(&'static str),
}

/// One member's block device, as the refusal names it.
pub struct MemberDev {
    /// `uuid=… (namespace1.0)`
    pub label: String,
    pub path: PathBuf,
}

/// Runs mkfs on `dev` unless it or a member already holds a signature (see the module); mkfs
/// is killed at `by`.
pub fn ensure_fs(
    dev: &Path,
    members: &[MemberDev],
    fstype: FsType,
    layout: Layout,
    bytes: u64,
    by: wait::Deadline,
) -> Result<Made, MkfsError> {
    let dev_s = dev.display().to_string();
    let probe_at = |path: &Path| {
        probe(path).map_err(|source| MkfsError::Probe {
            dev: path.display().to_string(),
            source,
        })
    };
    if let Some(sig) = probe_at(dev)? {
        return Ok(Made::Existing(sig));
    }
    // A `single` entry's member is the device itself: probed already.
    for m in members.iter().filter(|m| m.path != dev) {
        if let Some(sig) = probe_at(&m.path)? {
            return Err(MkfsError::MemberInUse {
                dev: dev_s,
                member: m.label.clone(),
                path: m.path.display().to_string(),
                sig,
            });
        }
    }
    let (fs, pkg) = match fstype {
        FsType::Ext4 => ("ext4", "e2fsprogs"),
        FsType::Xfs => ("xfs", "xfsprogs"),
    };
    let path_var = std::env::var("PATH").ok();
    let prog = find_program(&format!("mkfs.{fs}"), path_var.as_deref())
        .ok_or(MkfsError::NoProgram { fstype: fs, pkg })?;
    let status = wait::run(
        Command::new(prog)
            .args(mkfs_args(fstype, layout, members.len(), bytes))
            .arg(dev),
        by,
    )?;
    if !status.success() {
        return Err(MkfsError::Failed {
            fstype: fs,
            dev: dev_s,
            status,
        });
    }
    Ok(Made::Created)
}

/// Why the filesystem on a freshly assembled device was made for another arrangement of its
/// members (see [`pmemtab::geometry::conflict`]), or None.
pub fn geometry_conflict(
    dev: &Path,
    layout: Layout,
    members: usize,
) -> std::io::Result<Option<String>> {
    let head = signature::read_head(dev)?;
    Ok(signature::stripe(&head).and_then(|found| {
        pmemtab::geometry::conflict(layout, members, found).map(|why| {
            let fs = signature::detect(&head).unwrap_or("filesystem");
            format!("the {fs} filesystem on {}: {why}", dev.display())
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn image(tag: &str, size: u64) -> PathBuf {
        let p = std::env::temp_dir().join(format!("pmem-mkfs-{tag}-{}.img", std::process::id()));
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(size).unwrap();
        p
    }

    #[test]
    fn geometry_arguments() {
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        let g = 1 << 30;
        assert_eq!(
            mkfs_args(FsType::Ext4, striped, 2, g).join(" "),
            "-q -b 4096 -E stride=512,stripe_width=1024"
        );
        assert_eq!(
            mkfs_args(FsType::Xfs, striped, 2, 64 * g).join(" "),
            "-q -m reflink=0 -d su=2048k,sw=2"
        );
        assert_eq!(
            mkfs_args(FsType::Xfs, striped, 2, g).join(" "),
            "-q -m reflink=0 -d su=2048k,sw=2,agcount=4"
        );
        assert_eq!(
            mkfs_args(FsType::Xfs, Layout::Linear, 3, 64 * g).join(" "),
            "-q -m reflink=0 -d su=2048k,sw=1"
        );
        let big = Layout::Striped {
            chunk_bytes: 8 << 20,
        };
        assert_eq!(
            mkfs_args(FsType::Ext4, big, 4, g).join(" "),
            "-q -b 4096 -E stride=2048,stripe_width=8192"
        );
    }

    /// The real mkfs programs are the oracle: our detection must see what they wrote, and the
    /// geometry must land in the superblock.
    /// `n` blank member images (what an unused namespace reads as).
    fn blank_members(tag: &str, n: usize) -> Vec<MemberDev> {
        (0..n)
            .map(|i| MemberDev {
                label: format!("uuid=m{i} (namespace{i}.0)"),
                path: image(&format!("{tag}-m{i}"), 1 << 20),
            })
            .collect()
    }

    fn remove(members: &[MemberDev]) {
        for m in members {
            let _ = std::fs::remove_file(&m.path);
        }
    }

    #[test]
    fn never_a_force_flag() {
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        for fs in [FsType::Ext4, FsType::Xfs] {
            for layout in [striped, Layout::Linear, Layout::Single] {
                for bytes in [64 << 20, 64 << 30] {
                    let args = mkfs_args(fs, layout, 2, bytes);
                    assert!(
                        !args.iter().any(|a| a == "-f"
                            || a == "-F"
                            || a == "-FF"
                            || a == "--force"
                            || a.starts_with("-f") && a.len() == 2),
                        "{args:?}"
                    );
                }
            }
        }
    }

    /// The real mkfs programs are the oracle: our detection must see what they wrote, and the
    /// geometry must land in the superblock, where `up` reads it back.
    #[test]
    fn ext4_made_once_with_stride() {
        let img = image("ext4", 64 << 20);
        let members = blank_members("ext4", 2);
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        let secs = wait::Deadline::after(Duration::from_secs(60));
        assert_eq!(
            ensure_fs(&img, &members, FsType::Ext4, striped, 64 << 20, secs).unwrap(),
            Made::Created
        );
        assert_eq!(probe(&img).unwrap(), Some("ext2/3/4"));
        let out = Command::new("dumpe2fs")
            .arg("-h")
            .arg(&img)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("RAID stride:              512"), "{text}");
        assert!(text.contains("RAID stripe width:        1024"), "{text}");
        assert!(text.contains("Block size:               4096"), "{text}");
        let head = signature::read_head(&img).unwrap();
        assert_eq!(
            signature::stripe(&head),
            Some(Stripe::for_layout(striped, 2))
        );
        assert_eq!(geometry_conflict(&img, striped, 2).unwrap(), None);
        let chunk4 = Layout::Striped {
            chunk_bytes: 4 << 20,
        };
        let why = geometry_conflict(&img, chunk4, 2).unwrap().unwrap();
        assert!(why.contains("made for 2.00 MiB chunks over 2 members, the entry declares 4.00 MiB chunks over 2 members"), "{why}");
        // Second time: left alone.
        assert_eq!(
            ensure_fs(&img, &members, FsType::Xfs, striped, 64 << 20, secs).unwrap(),
            Made::Existing("ext2/3/4")
        );
        std::fs::remove_file(&img).unwrap();
        remove(&members);
    }

    #[test]
    fn a_member_holding_a_filesystem_is_never_formatted() {
        // The device reads blank (its head is now another member's), but member 1 holds ext4
        // at its own start: what swapping a formatted stripe's members gives.
        let dev = image("moved-dev", 64 << 20);
        let mut members = blank_members("moved", 2);
        let fs = image("moved-fs", 64 << 20);
        let secs = wait::Deadline::after(Duration::from_secs(60));
        let linear = Layout::Linear;
        assert_eq!(
            ensure_fs(&fs, &[], FsType::Ext4, linear, 64 << 20, secs).unwrap(),
            Made::Created
        );
        let _ = std::fs::remove_file(&members[1].path);
        members[1].path = fs.clone();
        let e = ensure_fs(&dev, &members, FsType::Ext4, linear, 64 << 20, secs).unwrap_err();
        assert!(e.is_refusal());
        let msg = e.to_string();
        assert!(
            msg.contains("its member uuid=m1 (namespace1.0)")
                && msg.contains("holds ext2/3/4 at its start")
                && msg.contains(&format!("wipefs -a {}", fs.display())),
            "{msg}"
        );
        assert_eq!(probe(&dev).unwrap(), None, "nothing was written");
        assert_eq!(probe(&fs).unwrap(), Some("ext2/3/4"));
        std::fs::remove_file(&dev).unwrap();
        remove(&members);
    }

    #[test]
    fn xfs_made_with_stripe_unit() {
        // 512 MiB: the size at which mkfs.xfs's own choice of allocation groups fails.
        let img = image("xfs", 512 << 20);
        let members = blank_members("xfs", 2);
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        let secs = wait::Deadline::after(Duration::from_secs(120));
        assert_eq!(
            ensure_fs(&img, &members, FsType::Xfs, striped, 512 << 20, secs).unwrap(),
            Made::Created
        );
        assert_eq!(probe(&img).unwrap(), Some("xfs"));
        let out = Command::new("xfs_db")
            .args(["-r", "-c", "sb 0", "-c", "p unit width"])
            .arg(&img)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        // In 4 KiB blocks: su 2 MiB = 512, sw 2 → width 1024.
        assert!(
            text.contains("unit = 512") && text.contains("width = 1024"),
            "{text}"
        );
        let head = signature::read_head(&img).unwrap();
        assert_eq!(
            signature::stripe(&head),
            Some(Stripe::for_layout(striped, 2))
        );
        assert!(geometry_conflict(&img, Layout::Linear, 2)
            .unwrap()
            .is_some());
        std::fs::remove_file(&img).unwrap();
        remove(&members);
    }
}
