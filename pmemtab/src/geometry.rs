//! The stripe geometry a filesystem on an entry's device is made with, and the check that a
//! filesystem found there was made for this device and not for another arrangement of the
//! same namespaces. One rule for `mkfs` (which writes these hints) and `up` (which reads
//! them back from the superblock).

use crate::size::{honest_bytes, HUGE_PAGE_BYTES};
use crate::tab::Layout;

/// Stripe hints as a filesystem records them: ext4's RAID stride and stripe width, XFS's
/// sunit and swidth, converted to bytes. Zero means "not recorded".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stripe {
    pub unit_bytes: u64,
    pub width_bytes: u64,
}

impl Stripe {
    /// The hints `mkfs` writes for `members` members: one chunk per member for a stripe, one
    /// 2 MiB unit otherwise, so extents start on huge pages.
    pub fn for_layout(layout: Layout, members: usize) -> Stripe {
        match layout {
            Layout::Striped { chunk_bytes } => Stripe {
                unit_bytes: chunk_bytes,
                width_bytes: chunk_bytes.saturating_mul(members.max(1) as u64),
            },
            _ => Stripe {
                unit_bytes: HUGE_PAGE_BYTES,
                width_bytes: HUGE_PAGE_BYTES,
            },
        }
    }

    /// Members of the stripe the hints describe (width / unit), or 1.
    pub fn members(self) -> u64 {
        match self.width_bytes.checked_div(self.unit_bytes) {
            Some(n) if n > 0 => n,
            _ => 1,
        }
    }
}

/// Why a filesystem's recorded stripe does not fit the entry's device, or None when it fits
/// or records nothing. A stripe entry needs exactly its chunk and member count (mkfs.ext4 and
/// mkfs.xfs record the same from a dm-striped device's topology when run by hand); a linear
/// or single device needs a filesystem not made for a stripe of several members.
pub fn conflict(layout: Layout, members: usize, found: Stripe) -> Option<String> {
    if found.unit_bytes == 0 {
        return None;
    }
    let fits = match layout {
        Layout::Striped { .. } => found == Stripe::for_layout(layout, members),
        _ => found.members() <= 1,
    };
    (!fits).then(|| {
        let want = match layout {
            Layout::Striped { chunk_bytes } => {
                format!(
                    "{} chunks over {members} members",
                    honest_bytes(chunk_bytes)
                )
            }
            _ => "no stripe".to_string(),
        };
        format!(
            "it was made for {} chunks over {} members, the entry declares {want}",
            honest_bytes(found.unit_bytes),
            found.members()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const M2: u64 = 2 << 20;

    #[test]
    fn what_mkfs_writes() {
        let s = Layout::Striped { chunk_bytes: M2 };
        assert_eq!(
            Stripe::for_layout(s, 3),
            Stripe {
                unit_bytes: M2,
                width_bytes: 3 * M2
            }
        );
        assert_eq!(
            Stripe::for_layout(Layout::Linear, 3),
            Stripe {
                unit_bytes: M2,
                width_bytes: M2
            }
        );
    }

    #[test]
    fn conflicts() {
        let s2 = Layout::Striped { chunk_bytes: M2 };
        let s4 = Layout::Striped {
            chunk_bytes: 2 * M2,
        };
        let made = Stripe::for_layout(s2, 2);
        assert_eq!(conflict(s2, 2, made), None);
        assert_eq!(
            conflict(s4, 2, made).as_deref(),
            Some("it was made for 2.00 MiB chunks over 2 members, the entry declares 4.00 MiB chunks over 2 members")
        );
        assert!(conflict(s2, 3, made).is_some());
        assert!(conflict(Layout::Linear, 2, made).is_some());
        // A linear filesystem (unit = width) may sit on a linear or single device...
        let linear = Stripe::for_layout(Layout::Linear, 2);
        assert_eq!(conflict(Layout::Linear, 3, linear), None);
        assert_eq!(conflict(Layout::Single, 1, linear), None);
        // ...but not on a stripe, and nothing recorded is nothing to compare.
        assert!(conflict(s2, 2, linear).is_some());
        assert_eq!(
            conflict(
                s2,
                2,
                Stripe {
                    unit_bytes: 0,
                    width_bytes: 0
                }
            ),
            None
        );
    }
}
