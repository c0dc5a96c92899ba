//! The device-mapper device of a linear or striped entry: its targets, its size and its uuid.

use super::{Device, Reason};
use crate::devnum::DevNum;
use crate::dmtable::{Target, TargetKind};
use crate::ns::Resolved;
use crate::size::{Sectors, HUGE_PAGE_BYTES};
use crate::tab::Entry;

/// Prefix of the dm uuid of every device pmemtab creates; `down --all` and `status` use it to
/// tell our devices from LVM's, cryptsetup's, ... (lsblk shows it lowercased as TYPE).
pub const DM_UUID_PREFIX: &str = "PMEMTAB-";
/// The kernel's limit for dm uuids (DM_UUID_LEN - 1).
const DM_UUID_MAX: usize = 128;

/// The dm uuid for a device name: the project prefix plus the name, shortened with a hash when
/// it would exceed the kernel's limit (so it stays unique and deterministic).
pub fn dm_uuid(name: &str) -> String {
    let full = format!("{DM_UUID_PREFIX}{name}");
    if full.len() <= DM_UUID_MAX {
        return full;
    }
    // FNV-1a: tiny, deterministic, no dependency.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let keep = DM_UUID_MAX - DM_UUID_PREFIX.len() - 17;
    let mut cut = keep;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{DM_UUID_PREFIX}{}-{h:016x}", &name[..cut])
}

fn too_small(r: &Resolved, unit: u64) -> Reason {
    Reason::TooSmall {
        member: r.member.clone(),
        dev: r.ns.dev.clone(),
        size: r.ns.size,
        unit,
    }
}

/// dm-linear over the members in order (`devs`: their device numbers), whole 2 MiB units of
/// each.
pub(super) fn linear(
    entry: &Entry,
    members: &[Resolved],
    devs: &[DevNum],
) -> Result<Device, Reason> {
    let mut targets = Vec::with_capacity(members.len());
    let mut start = Sectors(0);
    for (r, dev) in members.iter().zip(devs) {
        // Whole 2 MiB units only, so every boundary stays huge-page aligned.
        let length = Sectors::from_bytes(r.ns.size - r.ns.size % HUGE_PAGE_BYTES);
        if length.0 == 0 {
            return Err(too_small(r, HUGE_PAGE_BYTES));
        }
        targets.push(Target {
            start,
            length,
            kind: TargetKind::Linear {
                dev: *dev,
                offset: Sectors(0),
            },
        });
        start = Sectors(start.0.checked_add(length.0).ok_or(Reason::TooLarge)?);
    }
    Ok(Device::Dm {
        uuid: dm_uuid(&entry.name),
        targets,
        size: start,
    })
}

/// dm-striped over the members in order, as many whole chunks of each as the smallest has.
pub(super) fn striped(
    entry: &Entry,
    chunk_bytes: u64,
    members: &[Resolved],
    devs: &[DevNum],
) -> Result<Device, Reason> {
    let smallest = members.iter().map(|r| r.ns.size).min().unwrap_or(0);
    let per_member = smallest - smallest % chunk_bytes.max(1);
    if per_member == 0 {
        if let Some(r) = members.iter().find(|r| r.ns.size == smallest) {
            return Err(too_small(r, chunk_bytes));
        }
    }
    let per_member = Sectors::from_bytes(per_member);
    let length = per_member
        .0
        .checked_mul(members.len() as u64)
        .ok_or(Reason::TooLarge)?;
    let length = Sectors(length);
    let stripes = devs.iter().map(|d| (*d, Sectors(0))).collect();
    let chunk = Sectors::from_bytes(chunk_bytes);
    let targets = vec![Target {
        start: Sectors(0),
        length,
        kind: TargetKind::Striped { chunk, stripes },
    }];
    Ok(Device::Dm {
        uuid: dm_uuid(&entry.name),
        targets,
        size: length,
    })
}
