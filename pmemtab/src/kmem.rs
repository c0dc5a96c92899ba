//! The rules of KMEM DAX (a devdax namespace hot-plugged as system RAM), pure: which memory
//! blocks a dax device's range gives, what the kernel's auto-online policy does with them,
//! what must be done to a block so it ends up online in the zone the entry asks for, and
//! whether a node grew by what it should. pmem-assemble's `kmem` module reads and writes
//! sysfs; every decision it takes is made here.

use std::fmt;
use std::ops::Range;

/// The zone onlined memory goes to (`zone=` of a system-ram entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Zone {
    /// ZONE_MOVABLE: only movable (user) pages, so the memory can be offlined and given back
    /// later; what daxctl does by default, and the default here.
    #[default]
    Movable,
    /// ZONE_NORMAL: the kernel may use it for its own allocations too, which pins it: it
    /// can then not be offlined until reboot.
    Normal,
}

impl Zone {
    /// As `zone=` spells it.
    pub fn parse(s: &str) -> Option<Zone> {
        match s {
            "movable" => Some(Zone::Movable),
            "normal" => Some(Zone::Normal),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Movable => "movable",
            Zone::Normal => "normal",
        }
    }

    /// What to write to `memoryN/state` to online a block into this zone.
    pub fn online_state(self) -> &'static str {
        match self {
            Zone::Movable => "online_movable",
            Zone::Normal => "online_kernel",
        }
    }

    /// The zone an online block's `valid_zones` names (`Movable`, `Normal`; the DMA zones
    /// are kernel zones too). An offline block lists the zones it could go to: use
    /// [`BlockState`] for that.
    pub fn of_valid_zones(s: &str) -> Option<Zone> {
        match s.split_whitespace().collect::<Vec<_>>().as_slice() {
            ["Movable"] => Some(Zone::Movable),
            ["Normal" | "DMA32" | "DMA"] => Some(Zone::Normal),
            _ => None,
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `/sys/devices/system/memory/auto_online_blocks`: what the kernel does with memory the
/// moment kmem adds it (`memhp_default_state=` sets it at boot).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoOnline {
    /// Left offline: pmem-assemble onlines every block in the entry's zone.
    Offline,
    /// Onlined in the zone the kernel chooses (`memory_hotplug.online_policy=`): Normal on
    /// most machines, Movable with `movable_node` or the auto-movable policy.
    Online,
    /// Onlined in ZONE_NORMAL.
    OnlineKernel,
    /// Onlined in ZONE_MOVABLE.
    OnlineMovable,
}

impl AutoOnline {
    pub fn parse(s: &str) -> Option<AutoOnline> {
        match s.trim() {
            "offline" => Some(AutoOnline::Offline),
            "online" => Some(AutoOnline::Online),
            "online_kernel" => Some(AutoOnline::OnlineKernel),
            "online_movable" => Some(AutoOnline::OnlineMovable),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AutoOnline::Offline => "offline",
            AutoOnline::Online => "online",
            AutoOnline::OnlineKernel => "online_kernel",
            AutoOnline::OnlineMovable => "online_movable",
        }
    }
}

/// Whether to hold the auto-online policy at `offline` while kmem adds the memory: whenever
/// the kernel would online it in a zone other than `want`, or in one of its own choosing
/// (`online`). Moving blocks afterwards mostly fails: the kernel puts its own pages into new
/// ZONE_NORMAL memory within milliseconds (seen on Debian's 6.12 with systemd).
pub fn hold_policy(policy: Option<AutoOnline>, want: Zone) -> bool {
    !matches!(
        (policy, want),
        (None | Some(AutoOnline::Offline), _)
            | (Some(AutoOnline::OnlineMovable), Zone::Movable)
            | (Some(AutoOnline::OnlineKernel), Zone::Normal)
    )
}

/// What sysfs says of one memory block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockState {
    Offline,
    /// Online, in this zone (None: one pmemtab does not know).
    Online(Option<Zone>),
    /// `going-offline` or anything else: the kernel is busy with it.
    Other(String),
}

impl BlockState {
    /// From `state` and `valid_zones`.
    pub fn parse(state: &str, valid_zones: &str) -> BlockState {
        match state.trim() {
            "offline" => BlockState::Offline,
            "online" => BlockState::Online(Zone::of_valid_zones(valid_zones)),
            other => BlockState::Other(other.to_string()),
        }
    }

    pub fn is_online(&self) -> bool {
        matches!(self, BlockState::Online(_))
    }
}

/// The memory blocks kmem hot-plugs for a dax device at `start` of `size` bytes: only whole
/// blocks inside the range (drivers/dax/kmem.c aligns the start up and the end down to the
/// block size). Returns the block numbers (`memoryN`) and the bytes left out.
pub fn blocks_of(start: u64, size: u64, block_size: u64) -> (Range<u64>, u64) {
    if block_size == 0 {
        return (0..0, size);
    }
    let first = start.div_ceil(block_size);
    let end = start.saturating_add(size) / block_size;
    let range = first..end.max(first);
    let used = (range.end - range.start).saturating_mul(block_size);
    (range, size.saturating_sub(used))
}

/// What must be done to one block so that it ends up online in `want`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing: online in the right zone.
    Keep,
    /// Offline: online it into `want`.
    Online,
    /// Online in the other zone: offline it, then online it into `want`. Only for memory
    /// just added (the kernel's auto-online put it there): memory that was in use is never
    /// moved behind its users' back.
    Rezone { from: Zone },
    /// Cannot be made right here: why.
    Refuse(String),
}

/// The step for one block. `fresh`: the memory was added by this run (so nothing of the
/// system's can be in it yet, beyond what the kernel took in the moment since).
pub fn step(state: &BlockState, want: Zone, fresh: bool) -> Step {
    match state {
        BlockState::Offline => Step::Online,
        BlockState::Online(Some(z)) if *z == want => Step::Keep,
        BlockState::Online(Some(z)) if fresh => Step::Rezone { from: *z },
        BlockState::Online(Some(z)) => Step::Refuse(format!(
            "it is online in zone {z}, the entry asks for {want}"
        )),
        BlockState::Online(None) => {
            Step::Refuse("it is online in a zone pmemtab does not know".into())
        }
        BlockState::Other(s) => Step::Refuse(format!("the kernel is changing it (state {s})")),
    }
}

/// Whether a node grew by what `blocks` blocks hold. MemTotal counts the pages the kernel
/// manages: with `memory_hotplug.memmap_on_memory` each block's own page array (1/64 of it)
/// lives inside it and is not counted.
pub fn grew_enough(grew_bytes: u64, blocks: u64, block_size: u64) -> bool {
    let full = blocks.saturating_mul(block_size);
    grew_bytes >= full - full / 64
}

/// `node 1` or `nodes 1,2`: where an entry's memory goes, for messages.
pub fn nodes_text(nodes: impl IntoIterator<Item = i32>) -> String {
    let mut all: Vec<i32> = nodes.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    let list: Vec<String> = all.iter().map(ToString::to_string).collect();
    let word = if all.len() == 1 { "node" } else { "nodes" };
    format!("{word} {}", list.join(","))
}

/// `Node 1 MemTotal:   917504 kB` in `nodeN/meminfo`: bytes.
pub fn node_mem_total(meminfo: &str) -> Option<u64> {
    meminfo.lines().find_map(|l| {
        let (_, rest) = l.split_once("MemTotal:")?;
        let kb: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        kb.checked_mul(1024)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn only_whole_blocks_inside_the_range_are_used() {
        // The lab's namespace: 1022 MiB of devdax at 4.5 GiB + 2 MiB in 128 MiB blocks.
        let start = (4608 + 2) * MIB;
        let (r, left) = blocks_of(start, 1022 * MIB, 128 * MIB);
        assert_eq!(r, 37..44);
        assert_eq!(left, 1022 * MIB - 7 * 128 * MIB);
        // Aligned exactly.
        assert_eq!(blocks_of(256 * MIB, 256 * MIB, 128 * MIB), (2..4, 0));
        // Less than a block: nothing.
        assert_eq!(
            blocks_of(130 * MIB, 100 * MIB, 128 * MIB),
            (2..2, 100 * MIB)
        );
        assert_eq!(blocks_of(0, 5, 0), (0..0, 5));
    }

    #[test]
    fn zones_read_as_sysfs_writes_them() {
        assert_eq!(Zone::of_valid_zones("Movable\n"), Some(Zone::Movable));
        assert_eq!(Zone::of_valid_zones("Normal\n"), Some(Zone::Normal));
        // An offline block lists candidates: no single zone.
        assert_eq!(Zone::of_valid_zones("Normal Movable\n"), None);
        assert_eq!(
            BlockState::parse("online\n", "Movable\n"),
            BlockState::Online(Some(Zone::Movable))
        );
        assert_eq!(
            BlockState::parse("offline\n", "Normal Movable"),
            BlockState::Offline
        );
        assert_eq!(
            BlockState::parse("going-offline\n", ""),
            BlockState::Other("going-offline".into())
        );
        assert_eq!(
            AutoOnline::parse("online_movable\n"),
            Some(AutoOnline::OnlineMovable)
        );
        assert_eq!(AutoOnline::parse("sideways"), None);
        assert_eq!(Zone::Normal.online_state(), "online_kernel");
    }

    #[test]
    fn the_policy_is_held_only_when_it_would_pick_another_zone() {
        use AutoOnline::*;
        assert!(!hold_policy(None, Zone::Movable));
        assert!(!hold_policy(Some(Offline), Zone::Normal));
        assert!(!hold_policy(Some(OnlineMovable), Zone::Movable));
        assert!(!hold_policy(Some(OnlineKernel), Zone::Normal));
        assert!(hold_policy(Some(Online), Zone::Movable));
        assert!(hold_policy(Some(Online), Zone::Normal));
        assert!(hold_policy(Some(OnlineMovable), Zone::Normal));
        assert!(hold_policy(Some(OnlineKernel), Zone::Movable));
    }

    #[test]
    fn steps_move_only_fresh_memory() {
        let normal = BlockState::Online(Some(Zone::Normal));
        assert_eq!(
            step(&BlockState::Offline, Zone::Movable, false),
            Step::Online
        );
        assert_eq!(step(&normal, Zone::Normal, false), Step::Keep);
        assert_eq!(
            step(&normal, Zone::Movable, true),
            Step::Rezone { from: Zone::Normal }
        );
        assert!(matches!(
            step(&normal, Zone::Movable, false),
            Step::Refuse(_)
        ));
        assert!(matches!(
            step(
                &BlockState::Other("going-offline".into()),
                Zone::Movable,
                true
            ),
            Step::Refuse(_)
        ));
    }

    #[test]
    fn node_growth_allows_for_memmap_on_memory() {
        assert!(grew_enough(7 * 128 * MIB, 7, 128 * MIB));
        assert!(grew_enough(7 * 126 * MIB, 7, 128 * MIB));
        assert!(!grew_enough(6 * 128 * MIB, 7, 128 * MIB));
        assert_eq!(
            node_mem_total("Node 1 MemTotal:         917504 kB\nNode 1 MemFree: 1 kB\n"),
            Some(917504 * 1024)
        );
        assert_eq!(node_mem_total("nothing"), None);
    }
}
