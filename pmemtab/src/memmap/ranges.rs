//! The rule that picks `memmap=` ranges: a pure function of the firmware map, the memory-block
//! size, what the command line already claims and the request.
//!
//! 1. Usable RAM is every "System RAM" entry (adjacent ones merged), minus every other entry
//!    that overlaps it, minus what the running command line gives away (`memmap=` `!`, `$`,
//!    `#`, `%` items, not counting the ones the caller says are ours) and above a `mem=` limit.
//! 2. A region may start no lower than [`LOW_LIMIT`] (the kernel image, the initrd the boot
//!    loader places below it, the real-mode trampoline, swiotlb and the DMA zones live there),
//!    and keeps [`GUARD`] from every end of usable RAM: it never touches a reserved, ACPI,
//!    PCI (a hole in the map), persistent-memory or claimed range, nor another region (two
//!    adjacent `!` ranges would be merged into one by the kernel).
//! 3. Regions go above 4 GiB when one fits there, else anywhere above the low limit; in each of
//!    those two places the largest alignment that fits wins (1 GiB or the memory-block size,
//!    whichever is larger first, then the other, then 2 MiB), and among equal choices the
//!    highest address (the top of RAM, away from what the kernel allocates early).
//! 4. The request is refused when it leaves less than the floor of RAM, or does not fit; the
//!    refusal says what the largest possible region is.

use super::arg::Claim;
use super::firmware::{Kind, MapEntry};
use super::{PhysRange, GIB, MIB};
use crate::size::HUGE_PAGE_BYTES;

/// No region starts below this physical address. Measured in the GRUB lab (4 GiB guest, Debian's
/// GRUB 2.06 i386-pc, kernel 6.1): GRUB put the initrd at 0x36a49000, below 896 MiB, and the
/// kernel image sits at 16 MiB; a `memmap=128M!832M` over that initrd still booted (the kernel
/// logged "Move RAMDISK" to high memory). So this limit is margin for what lives low (the
/// initrd, the real-mode trampoline, swiotlb, ZONE_DMA/DMA32 users, crashkernel), not a
/// measured necessity.
pub const LOW_LIMIT: u64 = GIB;
/// The distance every region keeps from anything that is not usable RAM.
pub const GUARD: u64 = 2 * MIB;
/// Regions go above this when they can.
pub const HIGH: u64 = 4 * GIB;
/// RAM that must stay RAM unless the caller says otherwise.
pub const DEFAULT_MIN_RAM: u64 = GIB;
/// More `memmap=` regions than this and the kernel's decompressor stops avoiding them when it
/// picks a random physical address for itself: it disables physical KASLR.
pub const KASLR_MEMMAP_LIMIT: usize = 4;

/// The most regions one run proposes: each is an item of the `memmap=` argument (up to about
/// 20 bytes) on a kernel command line of at most 2047 bytes, and a member of one striped
/// entry; 32 already make some 700 bytes.
pub const MAX_COUNT: u32 = 32;

/// The machine, as read.
#[derive(Clone, Debug, Default)]
pub struct Machine {
    pub map: Vec<MapEntry>,
    /// The memory-block size, if sysfs has memory blocks.
    pub block_size: Option<u64>,
    /// What the running command line claims, without the claims of our own drop-in.
    pub claims: Vec<Claim>,
}

/// What the user asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Bytes per region.
    pub size: u64,
    pub count: u32,
    /// RAM that must remain RAM.
    pub min_ram: u64,
}

/// One proposed region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub span: PhysRange,
    /// The alignment it was placed at.
    pub align: u64,
}

/// The memmap= ranges proposed for one request (pmemtab::plan::Plan is an entry's dm plan).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proposal {
    /// In the order placed (highest first).
    pub regions: Vec<Region>,
    /// Usable RAM before (step 1, without the guard and low limit).
    pub ram: u64,
    /// RAM that remains.
    pub left: u64,
    /// Where regions could go (steps 1 and 2), lowest first.
    pub room: Vec<PhysRange>,
}

/// Why nothing is proposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unfit {
    /// Sizes are whole 2 MiB units, and at least one.
    Size { size: u64 },
    /// The count is zero.
    Count,
    /// More regions than [`MAX_COUNT`].
    TooMany { count: u32 },
    /// `memmap=exactmap` on the command line: the firmware map is not what the kernel uses.
    ExactMap,
    /// The regions would leave less RAM than the floor.
    Floor { ram: u64, left: u64, floor: u64 },
    /// They do not fit: `fits` regions of the size would, the largest possible region is
    /// `largest` (None: there is no room at all).
    NoFit {
        fits: u32,
        largest: Option<PhysRange>,
        room: Vec<PhysRange>,
    },
}

/// `spans` minus `cut`, in order.
fn subtract(spans: &[PhysRange], cut: PhysRange) -> Vec<PhysRange> {
    let mut out = Vec::new();
    for s in spans {
        if cut.end <= s.start || cut.start >= s.end {
            out.push(*s);
            continue;
        }
        if cut.start > s.start {
            out.push(PhysRange {
                start: s.start,
                end: cut.start,
            });
        }
        if cut.end < s.end {
            out.push(PhysRange {
                start: cut.end,
                end: s.end,
            });
        }
    }
    out
}

/// Step 1: usable RAM, lowest first.
pub fn usable_ram(m: &Machine) -> Vec<PhysRange> {
    let mut ram: Vec<PhysRange> = Vec::new();
    let mut entries: Vec<&MapEntry> = m.map.iter().filter(|e| e.kind == Kind::Ram).collect();
    entries.sort_by_key(|e| e.span);
    for e in entries {
        match ram.last_mut() {
            Some(last) if e.span.start <= last.end => last.end = last.end.max(e.span.end),
            _ => ram.push(e.span),
        }
    }
    for e in m.map.iter().filter(|e| e.kind != Kind::Ram) {
        ram = subtract(&ram, e.span);
    }
    for c in &m.claims {
        match c {
            Claim::Pmem(s) | Claim::Taken(s) => ram = subtract(&ram, *s),
            Claim::Limit(n) => {
                ram = subtract(
                    &ram,
                    PhysRange {
                        start: *n,
                        end: u64::MAX,
                    },
                )
            }
            Claim::Ram(_) | Claim::ExactMap => {}
        }
    }
    ram.retain(|s| !s.is_empty());
    ram
}

fn round_up(n: u64, a: u64) -> Option<u64> {
    n.checked_add(a - 1).map(|x| x / a * a)
}

/// Step 2 on a list of spans: the guard at both ends, nothing below the low limit, and
/// only whole 2 MiB units.
fn room_in(spans: &[PhysRange]) -> Vec<PhysRange> {
    spans
        .iter()
        .filter_map(|s| {
            let start = round_up(s.start.checked_add(GUARD)?.max(LOW_LIMIT), HUGE_PAGE_BYTES)?;
            let end = s.end.checked_sub(GUARD)? / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
            (end > start).then_some(PhysRange { start, end })
        })
        .collect()
}

/// Alignments to try, largest first: max(1 GiB, block), min(1 GiB, block), 2 MiB.
fn alignments(block: Option<u64>) -> Vec<u64> {
    let mut a = vec![GIB, HUGE_PAGE_BYTES];
    if let Some(b) = block.filter(|b| b.is_power_of_two() && *b >= HUGE_PAGE_BYTES) {
        a.push(b);
    }
    a.sort_unstable_by(|x, y| y.cmp(x));
    a.dedup();
    a
}

/// The part of `room` above 4 GiB.
fn high(room: &[PhysRange]) -> Vec<PhysRange> {
    room.iter()
        .filter(|s| s.end > HIGH)
        .map(|s| PhysRange {
            start: s.start.max(HIGH),
            end: s.end,
        })
        .collect()
}

/// One region at `align`: above 4 GiB if it fits there, else anywhere; the highest start.
fn place(room: &[PhysRange], size: u64, align: u64) -> Option<Region> {
    let top = |spans: &[PhysRange]| {
        spans
            .iter()
            .filter_map(|s| {
                let start = s.end.checked_sub(size)? / align * align;
                (start >= s.start).then_some(start)
            })
            .max()
    };
    let start = top(&high(room)).or_else(|| top(room))?;
    Some(Region {
        span: PhysRange {
            start,
            end: start + size,
        },
        align,
    })
}

/// Places up to `count` regions at `align` one after the other, each keeping the guard from
/// the ones before; stops at the first that does not fit.
fn place_all(mut room: Vec<PhysRange>, size: u64, count: u32, align: u64) -> Vec<Region> {
    let mut out = Vec::new();
    while out.len() < count as usize {
        let Some(r) = place(&room, size, align) else {
            break;
        };
        room = subtract(
            &room,
            PhysRange {
                start: r.span.start.saturating_sub(GUARD),
                end: r.span.end.saturating_add(GUARD),
            },
        );
        out.push(r);
    }
    out
}

/// Step 3 for the whole request: every region above 4 GiB at the largest alignment that lets
/// all of them fit there; else the same anywhere above the low limit. All regions of one
/// proposal share one alignment.
fn place_request(room: &[PhysRange], size: u64, count: u32, aligns: &[u64]) -> Option<Vec<Region>> {
    for place in [high(room), room.to_vec()] {
        for &align in aligns {
            let regions = place_all(place.clone(), size, count, align);
            if regions.len() == count as usize {
                return Some(regions);
            }
        }
    }
    None
}

/// Steps 1 to 4.
pub fn plan(m: &Machine, req: &Request) -> Result<Proposal, Unfit> {
    if req.size == 0 || req.size % HUGE_PAGE_BYTES != 0 {
        return Err(Unfit::Size { size: req.size });
    }
    if req.count == 0 {
        return Err(Unfit::Count);
    }
    if req.count > MAX_COUNT {
        return Err(Unfit::TooMany { count: req.count });
    }
    if m.claims.contains(&Claim::ExactMap) {
        return Err(Unfit::ExactMap);
    }
    let ram_spans = usable_ram(m);
    let ram: u64 = ram_spans.iter().map(PhysRange::len).sum();
    let room = room_in(&ram_spans);
    let total = req.size.saturating_mul(u64::from(req.count));
    let left = ram.saturating_sub(total);
    if ram < total.saturating_add(req.min_ram) {
        return Err(Unfit::Floor {
            ram,
            left,
            floor: req.min_ram,
        });
    }
    let aligns = alignments(m.block_size);
    let Some(regions) = place_request(&room, req.size, req.count, &aligns) else {
        let largest = room.iter().copied().max_by_key(|s| (s.len(), s.start));
        // How many regions of the size fit at all (at the alignment that fits the most).
        let fits = aligns
            .iter()
            .map(|&a| place_all(room.clone(), req.size, req.count, a).len())
            .max()
            .unwrap_or(0);
        return Err(Unfit::NoFit {
            fits: u32::try_from(fits).unwrap_or(u32::MAX),
            largest,
            room,
        });
    };
    Ok(Proposal {
        regions,
        ram,
        left,
        room,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(start: u64, end: u64, label: &str) -> MapEntry {
        let kind = match label {
            "System RAM" => Kind::Ram,
            "Persistent Memory (legacy)" => Kind::Persistent,
            _ => Kind::Other,
        };
        MapEntry {
            span: PhysRange { start, end },
            kind,
            label: label.into(),
        }
    }

    /// 3 GiB below the PCI hole, 5 GiB above 4 GiB, 128 MiB blocks.
    fn machine() -> Machine {
        Machine {
            map: vec![
                entry(0, 0x9fc00, "System RAM"),
                entry(0xf0000, 0x100000, "Reserved"),
                entry(0x100000, 3 * GIB, "System RAM"),
                entry(0xfed0_0000, 0xfee0_0000, "Reserved"),
                entry(4 * GIB, 9 * GIB, "System RAM"),
            ],
            block_size: Some(128 * MIB),
            claims: vec![],
        }
    }

    fn req(size: u64, count: u32) -> Request {
        Request {
            size,
            count,
            min_ram: DEFAULT_MIN_RAM,
        }
    }

    fn spans(p: &Proposal) -> Vec<(u64, u64)> {
        p.regions
            .iter()
            .map(|r| (r.span.start, r.span.len()))
            .collect()
    }

    #[test]
    fn prefers_high_memory_and_large_alignment() {
        let p = plan(&machine(), &req(GIB, 1)).unwrap();
        // 9 GiB - guard - 1 GiB rounded down to 1 GiB.
        assert_eq!(spans(&p), vec![(7 * GIB, GIB)]);
        assert_eq!(p.regions[0].align, GIB);
        let p = plan(&machine(), &req(4 * GIB + 512 * MIB, 1)).unwrap();
        assert_eq!(p.regions[0].align, 128 * MIB);
        assert!(p.regions[0].span.start >= 4 * GIB + GUARD);
        assert!(p.regions[0].span.end <= 9 * GIB - GUARD);
    }

    #[test]
    fn regions_never_touch_each_other() {
        let p = plan(&machine(), &req(GIB, 3)).unwrap();
        let mut r: Vec<PhysRange> = p.regions.iter().map(|r| r.span).collect();
        r.sort();
        for w in r.windows(2) {
            assert!(w[1].start >= w[0].end + GUARD, "{r:?}");
        }
        assert_eq!(p.left, p.ram - 3 * GIB);
    }

    #[test]
    fn falls_back_below_4g_above_the_low_limit() {
        let mut m = machine();
        m.map.pop();
        let p = plan(&m, &req(512 * MIB, 1)).unwrap();
        assert_eq!(spans(&p), vec![(2 * GIB, 512 * MIB)]);
        let p = plan(&m, &req(1536 * MIB, 1)).unwrap();
        assert!(p.regions[0].span.start >= LOW_LIMIT);
        assert!(p.regions[0].span.end <= 3 * GIB - GUARD);
    }

    #[test]
    fn never_over_other_ranges_or_claims() {
        let mut m = machine();
        m.map
            .push(entry(6 * GIB, 6 * GIB + 4096, "ACPI Non-volatile Storage"));
        m.map
            .push(entry(8 * GIB, 9 * GIB, "Persistent Memory (legacy)"));
        m.claims.push(Claim::Taken(PhysRange {
            start: 5 * GIB,
            end: 5 * GIB + 1,
        }));
        let p = plan(&m, &req(GIB, 1)).unwrap();
        let r = p.regions[0].span;
        for bad in [6 * GIB, 8 * GIB, 5 * GIB] {
            assert!(
                r.end + GUARD <= bad || r.start >= bad + GUARD,
                "{r:?} near {bad:#x}"
            );
        }
        m.claims.push(Claim::Limit(4 * GIB));
        let p = plan(&m, &req(GIB, 1)).unwrap();
        assert!(p.regions[0].span.end <= 3 * GIB);
        m.claims.push(Claim::ExactMap);
        assert_eq!(plan(&m, &req(GIB, 1)), Err(Unfit::ExactMap));
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            plan(&machine(), &req(3 * MIB, 1)),
            Err(Unfit::Size { size: 3 * MIB })
        );
        assert_eq!(plan(&machine(), &req(2 * MIB, 0)), Err(Unfit::Count));
        assert!(plan(&machine(), &req(2 * MIB, MAX_COUNT)).is_ok());
        assert_eq!(
            plan(&machine(), &req(2 * MIB, MAX_COUNT + 1)),
            Err(Unfit::TooMany {
                count: MAX_COUNT + 1
            })
        );
        match plan(&machine(), &req(6 * GIB, 1)) {
            Err(Unfit::NoFit { fits, largest, .. }) => {
                assert_eq!(fits, 0);
                let l = largest.unwrap();
                assert_eq!((l.start, l.end), (4 * GIB + GUARD, 9 * GIB - GUARD));
            }
            other => panic!("{other:?}"),
        }
        // Two 2 GiB regions fit above 4 GiB at block alignment, not at 1 GiB: both take it.
        let two = Request {
            min_ram: 0,
            ..req(2 * GIB, 2)
        };
        let p = plan(&machine(), &two).unwrap();
        assert!(p
            .regions
            .iter()
            .all(|r| r.align == 128 * MIB && r.span.start >= HIGH));
        match plan(&machine(), &Request { count: 3, ..two }) {
            Err(Unfit::NoFit { fits, .. }) => assert_eq!(fits, 2),
            other => panic!("{other:?}"),
        }
        match plan(&machine(), &req(7 * GIB + 512 * MIB, 1)) {
            Err(Unfit::Floor { floor, .. }) => assert_eq!(floor, GIB),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn every_proposal_obeys_the_rules() {
        // Many sizes and counts on one machine: each region aligned, inside room, apart.
        let m = machine();
        for size in (1..40).map(|i| i * 98 * MIB) {
            for count in 1..5 {
                let Ok(p) = plan(&m, &req(size, count)) else {
                    continue;
                };
                for r in &p.regions {
                    assert_eq!(r.span.start % r.align, 0);
                    assert_eq!(r.span.start % HUGE_PAGE_BYTES, 0);
                    assert!(p
                        .room
                        .iter()
                        .any(|s| s.start <= r.span.start && r.span.end <= s.end));
                }
            }
        }
    }
}
