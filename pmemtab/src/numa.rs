//! NUMA rules, pure: on which node a namespace sits, whether an entry's members mix nodes
//! (a stripe or concatenation across sockets), which CPU nodes are nearest to a memory node
//! (from the kernel's distance table), and the environment file that tells applications
//! (memkind, numactl) which nodes pmemtab onlined as system RAM. The scanner reads the
//! facts; pmem-assemble reads and writes the files; every decision is made here.

use crate::ns::{Namespace, Resolved};
use crate::size::human_bytes;
use crate::tab::Layout;

/// The option that says an entry mixes NUMA nodes on purpose and silences the warning.
pub const MIX_OPTION: &str = "numa-mix";

/// The variable memkind reads for the KMEM DAX nodes it may allocate from.
pub const KMEM_VAR: &str = "MEMKIND_DAX_KMEM_NODES";

/// The node a namespace is attached to, for the mix rule: its `numa_node` (the CPU node, as
/// ndctl names it), else its `target_node` (the node its memory becomes); none when the
/// platform says neither.
pub fn node_of(ns: &Namespace) -> Option<i32> {
    ns.numa_node.or(ns.target_node)
}

/// `node 0` or `node 0 (memory on node 2)`: where a namespace sits, for messages.
pub fn where_text(ns: &Namespace) -> String {
    match (ns.numa_node, ns.target_node) {
        (Some(n), Some(t)) if n != t => format!("node {n} (memory on node {t})"),
        (Some(n), _) => format!("node {n}"),
        (None, Some(t)) => format!("memory node {t}"),
        (None, None) => "no known node".into(),
    }
}

/// The warning for a striped or linear entry whose members sit on more than one NUMA node
/// (members whose node is unknown do not count); none when they share one, when the node is
/// known for fewer than two, for other layouts, and when `allowed` (the entry's
/// [`MIX_OPTION`]). It names every member's node. It never changes the plan.
pub fn mix_warning(layout: Layout, members: &[Resolved], allowed: bool) -> Option<String> {
    if allowed || !layout.is_dm() {
        return None;
    }
    let mut nodes: Vec<i32> = members.iter().filter_map(|r| node_of(&r.ns)).collect();
    nodes.sort_unstable();
    nodes.dedup();
    if nodes.len() < 2 {
        return None;
    }
    let each: Vec<String> = members
        .iter()
        .map(|r| format!("{} ({}) on {}", r.member, r.ns.dev, where_text(&r.ns)))
        .collect();
    let list: Vec<String> = nodes.iter().map(ToString::to_string).collect();
    let cost = match layout {
        Layout::Striped { chunk_bytes } => format!(
            "every other {} chunk crosses the interconnect between sockets, whichever node a process runs on",
            human_bytes(chunk_bytes)
        ),
        _ => "a process on one socket reaches part of the device across the interconnect".into(),
    };
    Some(format!(
        "members on NUMA nodes {}: {}; {cost}. Name one node's namespaces per entry, or add option {MIX_OPTION} if the mix is intended",
        list.join(","),
        each.join(", ")
    ))
}

/// The most nodes one range of a node list may name (the kernel's MAX_NUMNODES is at most
/// 1024): a bigger range is no node list, and would allocate without need.
const MAX_RANGE_NODES: i32 = 4096;

/// A kernel node list (`0-1,3`, as `/sys/devices/system/node/has_cpu` holds it): the nodes,
/// ascending. None for text that is no such list.
pub fn parse_node_list(s: &str) -> Option<Vec<i32>> {
    let s = s.trim();
    let mut out = Vec::new();
    if s.is_empty() {
        return Some(out);
    }
    for part in s.split(',') {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b) = (num(a)?, num(b)?);
        if a > b || b - a > MAX_RANGE_NODES {
            return None;
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

fn num(s: &str) -> Option<i32> {
    i32::try_from(crate::sysfs::parse_dec(s)?).ok()
}

/// The CPU nodes nearest to `node`, ascending: those of `cpu_nodes` at the smallest distance
/// in `distance` (the node's `nodeN/distance` row, one number per node of `online`, in
/// order). Empty when the row does not fit the online list or no CPU node is in it.
pub fn nearest_cpu_nodes(distance: &str, online: &[i32], cpu_nodes: &[i32]) -> Vec<i32> {
    let row: Option<Vec<u32>> = distance
        .split_whitespace()
        .map(|d| d.parse().ok())
        .collect();
    let Some(row) = row.filter(|r| r.len() == online.len()) else {
        return Vec::new();
    };
    let cpu: Vec<(i32, u32)> = online
        .iter()
        .zip(&row)
        .filter(|(n, _)| cpu_nodes.contains(n))
        .map(|(n, d)| (*n, *d))
        .collect();
    let Some(best) = cpu.iter().map(|(_, d)| *d).min() else {
        return Vec::new();
    };
    cpu.into_iter()
        .filter(|(_, d)| *d == best)
        .map(|(n, _)| n)
        .collect()
}

/// `1,2`: nodes as numactl's `--membind=` and memkind take them (ascending, once each).
pub fn node_list(nodes: impl IntoIterator<Item = i32>) -> String {
    let mut all: Vec<i32> = nodes.into_iter().collect();
    all.sort_unstable();
    all.dedup();
    let list: Vec<String> = all.iter().map(ToString::to_string).collect();
    list.join(",")
}

/// The KMEM environment file for these nodes: `MEMKIND_DAX_KMEM_NODES=1,2` and a newline,
/// as systemd's `EnvironmentFile=` reads it.
pub fn env_text(nodes: impl IntoIterator<Item = i32>) -> String {
    format!("{KMEM_VAR}={}\n", node_list(nodes))
}

/// The nodes a KMEM environment file names (what [`env_text`] wrote); none for a file that
/// has no such line.
pub fn env_nodes(text: &str) -> Option<Vec<i32>> {
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(KMEM_VAR)?.strip_prefix('='))?;
    parse_node_list(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tab::Member;

    fn member(dev: &str, numa: Option<i32>, target: Option<i32>) -> Resolved {
        Resolved {
            member: Member::Name(dev.replace("namespace", "n")),
            ns: Namespace {
                dev: dev.into(),
                region: "region0".into(),
                provider: None,
                mode: crate::ns::Mode::Fsdax,
                legacy: false,
                active: true,
                uuid: None,
                raw_uuid: None,
                name: None,
                blockdev: None,
                devnum: None,
                chardev: None,
                size: 1 << 30,
                resource: None,
                data_start: None,
                dax: true,
                numa_node: numa,
                target_node: target,
                align: None,
                sector_size: None,
            },
        }
    }

    const STRIPED: Layout = Layout::Striped {
        chunk_bytes: 2 << 20,
    };

    #[test]
    fn a_stripe_across_two_nodes_warns_naming_each_member() {
        let m = [
            member("namespace0.0", Some(0), Some(0)),
            member("namespace1.0", Some(1), Some(1)),
        ];
        assert_eq!(
            mix_warning(STRIPED, &m, false).as_deref(),
            Some("members on NUMA nodes 0,1: name=n0.0 (namespace0.0) on node 0, name=n1.0 (namespace1.0) on node 1; every other 2.00 MiB chunk crosses the interconnect between sockets, whichever node a process runs on. Name one node's namespaces per entry, or add option numa-mix if the mix is intended")
        );
        let w = mix_warning(Layout::Linear, &m, false).unwrap_or_default();
        assert!(w.starts_with("members on NUMA nodes 0,1: "), "{w}");
        assert!(w.contains("reaches part of the device across"), "{w}");
    }

    #[test]
    fn one_node_unknown_nodes_and_the_option_do_not_warn() {
        let same = [
            member("namespace0.0", Some(1), Some(1)),
            member("namespace0.1", Some(1), Some(1)),
        ];
        assert_eq!(mix_warning(STRIPED, &same, false), None);
        let unknown = [
            member("namespace0.0", Some(0), None),
            member("namespace1.0", None, None),
        ];
        assert_eq!(mix_warning(STRIPED, &unknown, false), None);
        let mixed = [
            member("namespace0.0", Some(0), None),
            member("namespace1.0", Some(1), None),
        ];
        assert_eq!(mix_warning(STRIPED, &mixed, true), None);
        assert!(mix_warning(STRIPED, &mixed, false).is_some());
        // system-ram members each become their own memory: nothing is interleaved.
        assert_eq!(mix_warning(Layout::SystemRam, &mixed, false), None);
        assert_eq!(mix_warning(Layout::Single, &mixed[..1], false), None);
    }

    #[test]
    fn the_cpu_node_decides_and_target_node_stands_in() {
        // Memory on nodes 2 and 3, both attached to socket 0: no interconnect between them.
        let one_socket = [
            member("namespace0.0", Some(0), Some(2)),
            member("namespace1.0", Some(0), Some(3)),
        ];
        assert_eq!(mix_warning(STRIPED, &one_socket, false), None);
        // No numa_node: target_node tells.
        let targets = [
            member("namespace0.0", None, Some(2)),
            member("namespace1.0", None, Some(3)),
        ];
        let w = mix_warning(STRIPED, &targets, false).unwrap_or_default();
        assert!(w.contains("(namespace0.0) on memory node 2"), "{w}");
        assert_eq!(
            where_text(&member("x", Some(0), Some(2)).ns),
            "node 0 (memory on node 2)"
        );
        assert_eq!(where_text(&member("x", None, None).ns), "no known node");
    }

    #[test]
    fn node_lists() {
        assert_eq!(parse_node_list("0-1,3\n"), Some(vec![0, 1, 3]));
        assert_eq!(parse_node_list("1"), Some(vec![1]));
        assert_eq!(parse_node_list("\n"), Some(vec![]));
        assert_eq!(parse_node_list("3-1"), None);
        assert_eq!(parse_node_list("a"), None);
        assert_eq!(parse_node_list("-1"), None);
        assert_eq!(parse_node_list("0-100000"), None);
        assert_eq!(node_list([2, 1, 2]), "1,2");
    }

    #[test]
    fn nearest_cpu_nodes_from_the_distance_row() {
        // Node 2 (memory only) on socket 1 of a two-socket machine.
        let online = [0, 1, 2];
        assert_eq!(nearest_cpu_nodes("30 17 10\n", &online, &[0, 1]), vec![1]);
        // Equally near to both.
        assert_eq!(nearest_cpu_nodes("20 20 10", &online, &[0, 1]), vec![0, 1]);
        // A node with CPUs is nearest to itself.
        assert_eq!(nearest_cpu_nodes("20 10", &[0, 1], &[0, 1]), vec![1]);
        assert_eq!(nearest_cpu_nodes("20 10", &online, &[0, 1]), vec![]);
        assert_eq!(nearest_cpu_nodes("x 10", &[0, 1], &[0]), vec![]);
        assert_eq!(nearest_cpu_nodes("20 10", &[0, 1], &[]), vec![]);
    }

    #[test]
    fn env_file() {
        assert_eq!(env_text([1]), "MEMKIND_DAX_KMEM_NODES=1\n");
        assert_eq!(env_text([3, 1, 3]), "MEMKIND_DAX_KMEM_NODES=1,3\n");
        assert_eq!(env_nodes(&env_text([3, 1])), Some(vec![1, 3]));
        assert_eq!(env_nodes("# x\nMEMKIND_DAX_KMEM_NODES=2\n"), Some(vec![2]));
        assert_eq!(env_nodes("OTHER=1\n"), None);
        assert_eq!(env_nodes("MEMKIND_DAX_KMEM_NODESX=1\n"), None);
    }
}
