//! What a device already holds: the magic numbers of the filesystems, volume managers and
//! partition tables one finds at the start of a disk (our own detection: no libblkid in the
//! initramfs), and the stripe hints an ext4 or XFS superblock records.

use pmemtab::geometry::Stripe;
use std::io::Read;
use std::path::Path;

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

/// Reads the head of `dev` (at most [`PROBE_BYTES`]).
pub fn read_head(dev: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = std::fs::File::open(dev)?;
    let mut head = Vec::with_capacity(PROBE_BYTES);
    f.by_ref().take(PROBE_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Reads the head of `dev` and looks for a signature.
pub fn probe(dev: &Path) -> std::io::Result<Option<&'static str>> {
    Ok(detect(&read_head(dev)?))
}

fn le16(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u16::from_le_bytes(
        b.get(at..at + 2)?.try_into().ok()?,
    )))
}
fn le32(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_le_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}
fn be32(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(u32::from_be_bytes(
        b.get(at..at + 4)?.try_into().ok()?,
    )))
}

/// The stripe hints of an ext4 or XFS filesystem at the head of a device, in bytes.
pub fn stripe(head: &[u8]) -> Option<Stripe> {
    match detect(head)? {
        "ext2/3/4" => {
            // Superblock at 1024: s_log_block_size @0x18, s_raid_stride @0x164 (blocks),
            // s_raid_stripe_width @0x170 (blocks).
            let block = 1024u64.checked_shl(u32::try_from(le32(head, 1024 + 0x18)?).ok()?)?;
            Some(Stripe {
                unit_bytes: le16(head, 1024 + 0x164)?.checked_mul(block)?,
                width_bytes: le32(head, 1024 + 0x170)?.checked_mul(block)?,
            })
        }
        "xfs" => {
            // Big-endian superblock at 0: sb_blocksize @4, sb_unit @184, sb_width @188 (blocks).
            let block = be32(head, 4)?;
            Some(Stripe {
                unit_bytes: be32(head, 184)?.checked_mul(block)?,
                width_bytes: be32(head, 188)?.checked_mul(block)?,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn no_stripe_from_other_signatures_or_short_heads() {
        let mut head = vec![0u8; PROBE_BYTES];
        head[0x10040..0x10048].copy_from_slice(b"_BHRfS_M");
        assert_eq!(stripe(&head), None);
        let mut short = vec![0u8; 0x440];
        short[0x438] = 0x53;
        short[0x439] = 0xef;
        assert_eq!(stripe(&short), None);
    }
}
