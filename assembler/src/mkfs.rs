//! The `mkfs` option: make a filesystem only on a device that holds no known signature, with
//! geometry that keeps allocations 2 MiB aligned (stride/stripe width for ext4, su/sw for XFS).
//!
//! Detection is our own (no libblkid in the initramfs): the magic numbers of the filesystems,
//! volume managers and partition tables one finds at the start of a disk. Anything recognised
//! means "in use": mkfs is skipped, never forced.

use crate::wait;
use pmemtab::tab::{FsType, Layout};
use pmemtab::units::HUGE_PAGE_BYTES;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// How much of the device is read for signatures (btrfs's superblock sits at 64 KiB).
pub const PROBE_BYTES: usize = 128 << 10;

/// (name, offset, magic)
const MAGICS: &[(&str, usize, &[u8])] = &[
    ("xfs", 0, b"XFSB"),
    ("ext2/3/4", 0x438, &[0x53, 0xef]),
    ("btrfs", 0x10040, b"_BHRfS_M"),
    ("LUKS", 0, b"LUKS\xba\xbe"),
    ("LUKS2", 0x4000, b"SKUL\xba\xbe"),
    ("LVM2 PV", 0x200, b"LABELONE"),
    ("LVM2 PV", 0x400, b"LABELONE"),
    ("GPT", 0x200, b"EFI PART"),
    ("swap", 4086, b"SWAPSPACE2"),
    ("swap", 4086, b"SWAP-SPACE"),
    ("md RAID 1.1", 0, &[0xfc, 0x4e, 0x2b, 0xa9]),
    ("md RAID 1.2", 0x1000, &[0xfc, 0x4e, 0x2b, 0xa9]),
    ("f2fs", 0x400, &[0x10, 0x20, 0xf5, 0xf2]),
    ("erofs", 0x400, &[0xe2, 0xe1, 0xf5, 0xe0]),
    ("squashfs", 0, b"hsqs"),
    (
        "bcache",
        0x1018,
        &[
            0xc6, 0x85, 0x73, 0xf6, 0x4e, 0x1a, 0x45, 0xca, 0x82, 0x65, 0xf5, 0x7f, 0x48, 0xba,
            0x6d, 0x81,
        ],
    ),
    ("ISO 9660", 0x8001, b"CD001"),
    ("NTFS", 3, b"NTFS    "),
    ("FAT", 0x36, b"FAT"),
    ("FAT32", 0x52, b"FAT32"),
];

/// The first signature found in the head of a device, if any.
pub fn detect(head: &[u8]) -> Option<&'static str> {
    for (name, off, magic) in MAGICS {
        if head.get(*off..off + magic.len()) == Some(*magic) {
            return Some(name);
        }
    }
    // An MBR (boot signature 55 aa) — a partition table or boot sector.
    if head.get(510..512) == Some(&[0x55, 0xaa]) {
        return Some("MBR/boot sector");
    }
    None
}

/// Reads the head of `dev` and looks for a signature.
pub fn probe(dev: &Path) -> std::io::Result<Option<&'static str>> {
    let mut f = std::fs::File::open(dev)?;
    let mut head = Vec::with_capacity(PROBE_BYTES);
    f.by_ref().take(PROBE_BYTES as u64).read_to_end(&mut head)?;
    Ok(detect(&head))
}

/// Below this, XFS gets 4 allocation groups: with a stripe unit set, mkfs.xfs picks so many
/// small groups on a small device that its 64 MiB minimum log no longer fits in one
/// ("Log size must be at least 64MB", seen at 512 MiB; 600 MiB and more work).
const XFS_SMALL_BYTES: u64 = 4 << 30;

/// mkfs arguments (without the program and device) for a layout of `members` devices and a
/// device of `bytes`.
pub fn mkfs_args(fstype: FsType, layout: Layout, members: usize, bytes: u64) -> Vec<String> {
    // A stripe unit of one chunk; other layouts use 2 MiB so extents start on huge pages.
    let (chunk, width) = match layout {
        Layout::Striped { chunk_bytes } => (chunk_bytes, members.max(1) as u64),
        _ => (HUGE_PAGE_BYTES, 1),
    };
    match fstype {
        FsType::Ext4 => {
            let stride = chunk / 4096;
            vec![
                "-q".into(),
                "-b".into(),
                "4096".into(),
                "-E".into(),
                format!("stride={stride},stripe_width={}", stride * width),
            ]
        }
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
                format!("su={}k,sw={width}{small}", chunk / 1024),
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

/// What [`ensure_fs`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Made {
    Created,
    /// A signature was there: left alone.
    Existing(&'static str),
}

/// Runs mkfs on `dev` unless it already holds a signature.
pub fn ensure_fs(
    dev: &Path,
    fstype: FsType,
    layout: Layout,
    members: usize,
    bytes: u64,
    timeout: Duration,
) -> Result<Made, MkfsError> {
    let dev_s = dev.display().to_string();
    if let Some(sig) = probe(dev).map_err(|source| MkfsError::Probe {
        dev: dev_s.clone(),
        source,
    })? {
        return Ok(Made::Existing(sig));
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
            .args(mkfs_args(fstype, layout, members, bytes))
            .arg(dev),
        timeout,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tag: &str, size: u64) -> PathBuf {
        let p = std::env::temp_dir().join(format!("pmem-mkfs-{tag}-{}.img", std::process::id()));
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(size).unwrap();
        p
    }

    #[test]
    fn signatures_at_their_offsets() {
        let mut head = vec![0u8; PROBE_BYTES];
        assert_eq!(detect(&head), None);
        head[0x438] = 0x53;
        head[0x439] = 0xef;
        assert_eq!(detect(&head), Some("ext2/3/4"));
        let mut head = vec![0u8; PROBE_BYTES];
        head[0x10040..0x10048].copy_from_slice(b"_BHRfS_M");
        assert_eq!(detect(&head), Some("btrfs"));
        let mut head = vec![0u8; 1024];
        head[510] = 0x55;
        head[511] = 0xaa;
        assert_eq!(detect(&head), Some("MBR/boot sector"));
        // A short read (tiny device) is not a signature.
        assert_eq!(detect(&[0u8; 10]), None);
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
    #[test]
    fn ext4_made_once_with_stride() {
        let img = image("ext4", 64 << 20);
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        assert_eq!(
            ensure_fs(
                &img,
                FsType::Ext4,
                striped,
                2,
                64 << 20,
                Duration::from_secs(60)
            )
            .unwrap(),
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
        // Second time: left alone.
        assert_eq!(
            ensure_fs(
                &img,
                FsType::Xfs,
                striped,
                2,
                64 << 20,
                Duration::from_secs(60)
            )
            .unwrap(),
            Made::Existing("ext2/3/4")
        );
        std::fs::remove_file(&img).unwrap();
    }

    #[test]
    fn xfs_made_with_stripe_unit() {
        // 512 MiB: the size at which mkfs.xfs's own choice of allocation groups fails.
        let img = image("xfs", 512 << 20);
        let striped = Layout::Striped {
            chunk_bytes: 2 << 20,
        };
        assert_eq!(
            ensure_fs(
                &img,
                FsType::Xfs,
                striped,
                2,
                512 << 20,
                Duration::from_secs(120)
            )
            .unwrap(),
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
        std::fs::remove_file(&img).unwrap();
    }
}
