//! What `status` shows: the active devices with their members, as a tree for people and as
//! JSON for programs. Pure rendering; the command gathers the facts.

use crate::json::Json;
use pmemtab::devnum::DevNum;
use pmemtab::size::{human_bytes, SECTOR_BYTES};
use pmemtab::text::escape_control as shown;
use std::fmt::Write;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevStatus {
    pub name: String,
    /// None for `single` entries (no dm device).
    pub dm_uuid: Option<String>,
    pub devnum: DevNum,
    /// `dm-0`, `pmem1`
    pub kernel: Option<String>,
    /// linear / striped / single
    pub layout: String,
    pub sectors: u64,
    pub dax: Option<bool>,
    pub open_count: Option<i32>,
    pub suspended: bool,
    /// `dmsetup table` text, empty for single.
    pub table: String,
    pub members: Vec<MemberStatus>,
    pub mounts: Vec<MountShown>,
    /// The pmemtab line declaring it, when there is one.
    pub line: Option<usize>,
}

/// Where a device is mounted and what that mount does with DAX (`always`, `never`, `inode`):
/// a DAX-capable device can be mounted with DAX off.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountShown {
    /// As mountinfo has it, text or not.
    pub point: std::path::PathBuf,
    pub dax: &'static str,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberStatus {
    pub devnum: DevNum,
    pub blockdev: Option<String>,
    pub namespace: Option<String>,
    pub uuid: Option<String>,
    pub raw_uuid: Option<String>,
    pub dax: Option<bool>,
    /// The namespace's `numa_node` (the CPU node it is attached to) and `target_node` (the
    /// node its memory becomes), as ndctl names them; none when unknown.
    pub numa_node: Option<i32>,
    pub target_node: Option<i32>,
}

/// A system-ram entry with at least one member in system-ram mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemStatus {
    pub name: String,
    pub line: usize,
    pub members: Vec<MemMember>,
}

/// A CXL region a pmemtab line declares, as it is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionStatus {
    /// The entry.
    pub name: String,
    pub line: usize,
    /// `region0`
    pub region: String,
    /// `pmem`, `ram`
    pub mode: String,
    pub size: u64,
    pub granularity: u64,
    pub committed: bool,
    pub bound: bool,
    /// `up` made it in this boot (it is recorded): `down` tears it down.
    pub made_by_pmemtab: bool,
    /// Position order: (serial, memdev, endpoint decoder).
    pub targets: Vec<(u64, String, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemMember {
    /// `dax1.0`
    pub dax: String,
    pub namespace: String,
    pub uuid: Option<String>,
    /// `system-ram` (bound to kmem) or `devdax`, as `daxctl list` says.
    pub mode: String,
    pub node: i32,
    /// The namespace's `numa_node`: the CPU node it is attached to.
    pub numa_node: Option<i32>,
    /// The CPU nodes nearest to `node` (the distance table), where its users best run.
    pub nearest: Vec<i32>,
    pub blocks: u64,
    pub online: u64,
    pub block_size: u64,
    /// The zone of its online blocks, when they agree.
    pub zone: Option<String>,
}

fn mem_tree(out: &mut String, mems: &[MemStatus]) {
    for m in mems {
        let online: u64 = m.members.iter().map(|x| x.online * x.block_size).sum();
        let total: u64 = m.members.iter().map(|x| x.blocks * x.block_size).sum();
        let nodes = pmemtab::kmem::nodes_text(m.members.iter().map(|x| x.node));
        let near = pmemtab::numa::node_list(m.members.iter().flat_map(|x| x.nearest.clone()));
        let near = if near.is_empty() {
            String::new()
        } else {
            format!(", nearest CPUs on node {near}")
        };
        let _ = writeln!(
            out,
            "{} system-ram, {nodes}, {} of {} online{near}, pmemtab line {}",
            shown(&m.name),
            human_bytes(online),
            human_bytes(total),
            m.line
        );
        for (i, x) in m.members.iter().enumerate() {
            let branch = if i + 1 == m.members.len() {
                "└─"
            } else {
                "├─"
            };
            let _ = write!(out, " {branch}{} {}", shown(&x.dax), shown(&x.namespace));
            if let Some(u) = &x.uuid {
                let _ = write!(out, " uuid={}", shown(u));
            }
            let _ = write!(
                out,
                " {}, node {}, {}/{} blocks online",
                x.mode, x.node, x.online, x.blocks
            );
            if let Some(z) = &x.zone {
                let _ = write!(out, ", zone {}", shown(z));
            }
            out.push('\n');
        }
    }
}

/// ` node 0`, ` node 0 (memory on node 2)`: as ndctl, nothing when the node is unknown.
fn node_text(out: &mut String, numa: Option<i32>, target: Option<i32>) {
    match (numa, target) {
        (Some(n), Some(t)) if n != t => {
            let _ = write!(out, " node {n} (memory on node {t})");
        }
        (Some(n), _) => {
            let _ = write!(out, " node {n}");
        }
        (None, Some(t)) => {
            let _ = write!(out, " memory on node {t}");
        }
        (None, None) => {}
    }
}

fn flag(v: Option<bool>, yes: &str, no: &str) -> String {
    match v {
        Some(true) => yes.into(),
        Some(false) => no.into(),
        None => "dax unknown".into(),
    }
}

/// `dmsetup ls --tree`-like text: the block devices, then the memory. Every name and path
/// from the kernel or sysfs is shown as `check` shows names (control characters escaped).
pub fn tree(devs: &[DevStatus], mems: &[MemStatus], regions: &[RegionStatus]) -> String {
    let mut out = String::new();
    for r in regions {
        let _ = writeln!(
            out,
            "{} ({}) CXL {} region, {}, granularity {}, {}, {}, {}, pmemtab line {}",
            shown(&r.name),
            shown(&r.region),
            shown(&r.mode),
            human_bytes(r.size),
            r.granularity,
            if r.committed {
                "committed"
            } else {
                "NOT COMMITTED"
            },
            if r.bound { "bound" } else { "NOT BOUND" },
            if r.made_by_pmemtab {
                "made by pmemtab"
            } else {
                "not made by pmemtab (down leaves it)"
            },
            r.line
        );
        for (i, (serial, memdev, decoder)) in r.targets.iter().enumerate() {
            let branch = if i + 1 == r.targets.len() {
                "└─"
            } else {
                "├─"
            };
            let _ = writeln!(
                out,
                " {branch}position {i}: serial={serial:#x} {} {}",
                shown(memdev),
                shown(decoder)
            );
        }
    }
    for d in devs {
        let kernel = d
            .kernel
            .as_deref()
            .map(|k| format!(", {}", shown(k)))
            .unwrap_or_default();
        let _ = write!(
            out,
            "{} ({}{kernel}) {}, {}, {}",
            shown(&d.name),
            d.devnum,
            shown(&d.layout),
            human_bytes(d.sectors * SECTOR_BYTES),
            flag(d.dax, "DAX-capable", "NOT DAX-capable")
        );
        if d.suspended {
            out.push_str(", SUSPENDED");
        }
        if let Some(n) = d.open_count {
            let _ = write!(out, ", open {n}");
        }
        for m in &d.mounts {
            let _ = write!(
                out,
                ", mounted on {} (dax={})",
                pmemtab::text::escape_path(&m.point),
                m.dax
            );
        }
        if let Some(l) = d.line {
            let _ = write!(out, ", pmemtab line {l}");
        }
        out.push('\n');
        for (i, m) in d.members.iter().enumerate() {
            let branch = if i + 1 == d.members.len() {
                "└─"
            } else {
                "├─"
            };
            let _ = write!(
                out,
                " {branch}{} ({})",
                shown(m.blockdev.as_deref().unwrap_or("?")),
                m.devnum
            );
            if let Some(ns) = &m.namespace {
                let _ = write!(out, " {}", shown(ns));
            }
            if let Some(u) = &m.uuid {
                let _ = write!(out, " uuid={}", shown(u));
            }
            if let Some(u) = &m.raw_uuid {
                let _ = write!(out, " raw_uuid={}", shown(u));
            }
            node_text(&mut out, m.numa_node, m.target_node);
            if m.dax == Some(false) {
                out.push_str(" NOT DAX");
            }
            out.push('\n');
        }
        for line in d.table.lines() {
            let _ = writeln!(out, "   table: {}", shown(line));
        }
    }
    mem_tree(&mut out, mems);
    out
}

fn opt<T: Into<Json>>(v: Option<T>) -> Json {
    v.map_or(Json::Null, Into::into)
}

/// `{"devices": [...], "memory": [...]}`: one object per block device and per system-ram
/// entry (written with the crate's JSON writer).
pub fn json(devs: &[DevStatus], mems: &[MemStatus], regions: &[RegionStatus]) -> String {
    let items = devs
        .iter()
        .map(|d| {
            let members = d
                .members
                .iter()
                .map(|m| {
                    Json::obj()
                        .with("dev", Json::from(m.devnum.to_string()))
                        .with("blockdev", opt(m.blockdev.clone()))
                        .with("namespace", opt(m.namespace.clone()))
                        .with("uuid", opt(m.uuid.clone()))
                        .with("raw_uuid", opt(m.raw_uuid.clone()))
                        .with("dax", opt(m.dax))
                        .with("numa_node", m.numa_node.map(Json::from))
                        .with("target_node", m.target_node.map(Json::from))
                })
                .collect();
            Json::obj()
                .with("name", Json::from(d.name.as_str()))
                .with("dm_uuid", opt(d.dm_uuid.clone()))
                .with("dev", Json::from(d.devnum.to_string()))
                .with("kernel_name", opt(d.kernel.clone()))
                .with("layout", Json::from(d.layout.as_str()))
                .with("size", Json::from(d.sectors * SECTOR_BYTES))
                .with("dax", opt(d.dax))
                .with("open_count", opt(d.open_count))
                .with("suspended", Json::from(d.suspended))
                .with("table", Json::from(d.table.as_str()))
                .with("line", opt(d.line.map(|l| l as u64)))
                .with(
                    "mounts",
                    Json::Arr(
                        d.mounts
                            .iter()
                            // JSON strings are Unicode: a path that is not UTF-8 is
                            // given with U+FFFD, as serde's to_string_lossy would.
                            .map(|m| Json::from(m.point.to_string_lossy().as_ref()))
                            .collect(),
                    ),
                )
                .with(
                    "mounts_dax",
                    Json::Arr(d.mounts.iter().map(|m| Json::from(m.dax)).collect()),
                )
                .with("members", Json::Arr(members))
        })
        .collect();
    let memory = mems
        .iter()
        .map(|m| {
            let members = m
                .members
                .iter()
                .map(|x| {
                    Json::obj()
                        .with("dax", Json::from(x.dax.as_str()))
                        .with("namespace", Json::from(x.namespace.as_str()))
                        .with("uuid", opt(x.uuid.clone()))
                        .with("mode", Json::from(x.mode.as_str()))
                        .with("node", Json::from(x.node))
                        .with("numa_node", x.numa_node.map(Json::from))
                        .with("target_node", Json::from(x.node))
                        .with(
                            "nearest_cpu_nodes",
                            Json::Arr(x.nearest.iter().map(|n| Json::from(*n)).collect()),
                        )
                        .with("online_memblocks", Json::from(x.online))
                        .with("total_memblocks", Json::from(x.blocks))
                        .with("block_size", Json::from(x.block_size))
                        .with("online_bytes", Json::from(x.online * x.block_size))
                        .with("zone", opt(x.zone.clone()))
                })
                .collect();
            let mut nodes: Vec<i32> = m.members.iter().map(|x| x.node).collect();
            nodes.sort_unstable();
            nodes.dedup();
            Json::obj()
                .with("name", Json::from(m.name.as_str()))
                .with("layout", Json::from("system-ram"))
                .with(
                    "nodes",
                    Json::Arr(nodes.into_iter().map(Json::from).collect()),
                )
                .with(
                    "size",
                    Json::from(
                        m.members
                            .iter()
                            .map(|x| x.blocks * x.block_size)
                            .sum::<u64>(),
                    ),
                )
                .with("line", Json::from(m.line as u64))
                .with("members", Json::Arr(members))
        })
        .collect();
    let regions = regions
        .iter()
        .map(|r| {
            let targets = r
                .targets
                .iter()
                .enumerate()
                .map(|(i, (serial, memdev, decoder))| {
                    Json::obj()
                        .with("position", Json::from(i as u64))
                        .with("serial", Json::from(*serial))
                        .with("memdev", Json::from(memdev.as_str()))
                        .with("decoder", Json::from(decoder.as_str()))
                })
                .collect();
            Json::obj()
                .with("name", Json::from(r.name.as_str()))
                .with("region", Json::from(r.region.as_str()))
                .with("mode", Json::from(r.mode.as_str()))
                .with("size", Json::from(r.size))
                .with("interleave_granularity", Json::from(r.granularity))
                .with("committed", Json::from(r.committed))
                .with("bound", Json::from(r.bound))
                .with("made_by_pmemtab", Json::from(r.made_by_pmemtab))
                .with("line", Json::from(r.line as u64))
                .with("targets", Json::Arr(targets))
        })
        .collect();
    Json::obj()
        .with("devices", Json::Arr(items))
        .with("memory", Json::Arr(memory))
        .with("regions", Json::Arr(regions))
        .pretty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<DevStatus> {
        let m = |minor, ns: &str, u: &str| MemberStatus {
            devnum: DevNum { major: 259, minor },
            blockdev: Some(format!("pmem{minor}")),
            namespace: Some(ns.into()),
            uuid: Some(u.into()),
            raw_uuid: None,
            dax: Some(true),
            numa_node: Some(minor as i32),
            target_node: Some(minor as i32),
        };
        vec![DevStatus {
            name: "fast0".into(),
            dm_uuid: Some("PMEMTAB-fast0".into()),
            devnum: DevNum {
                major: 253,
                minor: 0,
            },
            kernel: Some("dm-0".into()),
            layout: "striped".into(),
            sectors: 2 * 1044480,
            dax: Some(true),
            open_count: Some(1),
            suspended: false,
            table: "0 2088960 striped 2 4096 259:1 0 259:0 0\n".into(),
            members: vec![m(1, "namespace1.0", "aaaa"), m(0, "namespace0.0", "bbbb")],
            mounts: vec![MountShown {
                point: "/mnt/fast".into(),
                dax: "always",
            }],
            line: Some(3),
        }]
    }

    #[test]
    fn tree_text() {
        assert_eq!(
            tree(&sample(), &[], &[]),
            "fast0 (253:0, dm-0) striped, 1020.00 MiB, DAX-capable, open 1, mounted on /mnt/fast (dax=always), pmemtab line 3\n \
             ├─pmem1 (259:1) namespace1.0 uuid=aaaa node 1\n \
             └─pmem0 (259:0) namespace0.0 uuid=bbbb node 0\n   \
             table: 0 2088960 striped 2 4096 259:1 0 259:0 0\n"
        );
    }

    /// Names a person or another tool chose (a dm name, a mount point) are shown escaped,
    /// one device a line (issue 28: status printed TAB, ESC, DEL and newlines raw).
    #[test]
    fn tree_escapes_what_it_did_not_write() {
        let mut d = sample();
        d[0].name = "fa\tst\x1b[2J\x7f".into();
        d[0].mounts[0].point = "/mnt/a\nb".into();
        d[0].members[0].namespace = Some("ns\r".into());
        let t = tree(&d, &[], &[]);
        assert!(
            t.starts_with("fa\\tst\\x1b[2J\\x7f (253:0, dm-0) striped"),
            "{t}"
        );
        assert!(t.contains("mounted on /mnt/a\\nb (dax=always)"), "{t}");
        assert!(t.contains(" ns\\r uuid=aaaa"), "{t}");
        assert_eq!(t.lines().count(), 4, "{t}");
        assert!(!t.chars().any(|c| c.is_control() && c != '\n'), "{t}");
    }

    #[test]
    fn json_text() {
        let j = json(&sample(), &[], &[]);
        assert!(j.starts_with("{\n  \"devices\": [\n    {\n      \"name\": \"fast0\",\n      \"dm_uuid\": \"PMEMTAB-fast0\",\n      \"dev\": \"253:0\","), "{j}");
        assert!(
            j.contains("\"mounts\": [\n        \"/mnt/fast\"\n      ],\n      \"mounts_dax\": [\n        \"always\"\n      ],"),
            "{j}"
        );
        assert!(j.contains("\"size\": 1069547520,\n      \"dax\": true,\n      \"open_count\": 1,\n      \"suspended\": false,"), "{j}");
        assert!(
            j.contains("\"table\": \"0 2088960 striped 2 4096 259:1 0 259:0 0\\n\""),
            "{j}"
        );
        assert!(j.contains("\"blockdev\": \"pmem0\",\n          \"namespace\": \"namespace0.0\",\n          \"uuid\": \"bbbb\",\n          \"raw_uuid\": null,\n          \"dax\": true,\n          \"numa_node\": 0,\n          \"target_node\": 0\n"), "{j}");
        assert_eq!(
            json(&[], &[], &[]),
            "{\n  \"devices\": [],\n  \"memory\": [],\n  \"regions\": []\n}\n"
        );
    }
}
