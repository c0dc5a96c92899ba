//! Checks scanned namespaces against oracles no one here wrote: `ndctl list -vvv -BDRN`
//! output, an `ls -l /dev` listing of the pmem/dax nodes, and `/proc/iomem`, all captured in
//! the same boot as the sysfs tree. Meant for any capture: the fixtures here, and trees the VM
//! lab captures later.

use super::json::Json;
use pmemtab::devnum::DevNum;
use pmemtab::ns::{Mode, Namespace};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What a capture directory holds besides `sys/`.
pub struct Oracle {
    /// `ndctl list -vvv -BDRN` (`-v` at least: raw_uuid, numa_node only show verbose).
    pub ndctl_json: String,
    /// `ls -l /dev/pmem* /dev/dax*` lines (GNU or busybox).
    pub dev_nodes: Option<String>,
    /// `/proc/iomem` read as root.
    pub iomem: Option<String>,
}

impl Oracle {
    /// Reads `ndctl-list.json`, and `dev-nodes` and `iomem` when present, from `dir`.
    pub fn load(dir: &std::path::Path) -> Oracle {
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
        Oracle {
            ndctl_json: read("ndctl-list.json").expect("capture has ndctl-list.json"),
            dev_nodes: read("dev-nodes"),
            iomem: read("iomem"),
        }
    }
}

/// Every difference between `scanned` and the oracle, one line each; empty when they agree.
/// Also returns how many namespaces the JSON listed, so a caller can tell "all agree" from
/// "nothing compared".
pub fn compare(scanned: &[Namespace], oracle: &Oracle) -> (usize, Vec<String>) {
    let mut bad = Vec::new();
    let json = match Json::parse(&oracle.ndctl_json) {
        Ok(j) => j,
        Err(e) => return (0, vec![format!("ndctl-list.json: {e}")]),
    };
    let nodes = oracle.dev_nodes.as_deref().map(parse_dev_nodes);
    let iomem = oracle.iomem.as_deref().map(parse_iomem);

    let mut listed = Vec::new();
    for bus in json.items() {
        let provider = bus.str("provider");
        for region in bus.arr("regions") {
            let region_dev = region.str("dev").unwrap_or("?");
            for j in region.arr("namespaces") {
                let dev = j.str("dev").unwrap_or("?").to_owned();
                listed.push(dev.clone());
                let Some(ns) = scanned.iter().find(|n| n.dev == dev) else {
                    bad.push(format!("{dev}: listed by ndctl, not scanned"));
                    continue;
                };
                let mut check = |what: &str, got: String, want: String| {
                    if got != want {
                        bad.push(format!("{dev}: {what}: scanned {got}, ndctl says {want}"));
                    }
                };
                check("region", ns.region.clone(), region_dev.to_owned());
                check(
                    "provider",
                    show(&ns.provider),
                    show(&provider.map(str::to_owned)),
                );
                check(
                    "mode",
                    ns.mode.to_string(),
                    j.str("mode").unwrap_or("?").to_owned(),
                );
                check("uuid", show(&ns.uuid), show(&json_uuid(j, "uuid")));
                check(
                    "raw_uuid",
                    show(&ns.raw_uuid),
                    show(&json_uuid(j, "raw_uuid")),
                );
                check(
                    "name",
                    show(&ns.name),
                    show(&j.str("name").map(str::to_owned)),
                );
                check(
                    "blockdev",
                    show(&ns.blockdev),
                    show(&j.str("blockdev").map(str::to_owned)),
                );
                check("size", show(&Some(ns.size)), show(&j.u64("size")));
                check("numa_node", show(&ns.numa_node), show(&j.i64("numa_node")));
                check(
                    "target_node",
                    show(&ns.target_node),
                    show(&j.i64("target_node")),
                );
                check("align", show(&ns.align), show(&j.u64("align")));
                check(
                    "sector_size",
                    show(&ns.sector_size),
                    show(&j.u64("sector_size")),
                );
                check(
                    "active",
                    ns.active.to_string(),
                    (j.str("state") != Some("disabled")).to_string(),
                );
                check("chardev", show(&ns.chardev), show(&json_chardev(j)));
                // ndctl shows no uuid for a label-less namespace and raw_uuid only for a
                // labelled claimed one; a labelled unclaimed one is raw mode.
                let legacy = j.get("raw_uuid").is_none()
                    && (j.get("uuid").is_none() || ns.mode != Mode::Raw);
                check("legacy", ns.legacy.to_string(), legacy.to_string());
                // The kernel gives a pmem disk DAX exactly when its pages are mapped: fsdax.
                let dax = ns.blockdev.is_some() && j.str("mode") == Some("fsdax");
                check("dax (queue/dax)", ns.dax.to_string(), dax.to_string());

                if let Some(nodes) = &nodes {
                    let want = ns
                        .blockdev
                        .as_ref()
                        .and_then(|b| nodes.get(b))
                        .map(|n| ('b', n.1));
                    check(
                        "block MAJ:MIN (dev-nodes)",
                        show(&ns.devnum.map(|d| ('b', d))),
                        show(&want),
                    );
                    if let Some(c) = &ns.chardev {
                        check(
                            "chardev node (dev-nodes)",
                            show(&nodes.get(c).map(|n| n.0)),
                            "Some('c')".into(),
                        );
                    }
                }
                if let Some(iomem) = &iomem {
                    let range = iomem.get(&dev).copied();
                    // A disabled namespace keeps its `resource` but gives up its iomem entry.
                    if ns.active || range.is_some() {
                        check(
                            "resource (iomem)",
                            show(&ns.resource),
                            show(&range.map(|r| r.0)),
                        );
                    }
                    // The data lives in the namespace's range, or for devdax in the dax device's
                    // (the kernel then shrinks the namespace's entry to its metadata).
                    let data_range = match &ns.chardev {
                        Some(c) => iomem.get(c).copied(),
                        None => range,
                    };
                    if let (Some((start, end)), Some(data)) = (data_range, ns.data_start) {
                        let fits =
                            data >= start && data.saturating_add(ns.size).saturating_sub(1) <= end;
                        check(
                            "data within namespace (iomem)",
                            fits.to_string(),
                            "true".into(),
                        );
                    }
                    if let Some(c) = &ns.chardev {
                        let want = iomem.get(c).map(|r| r.0);
                        check(
                            "data_start (iomem dax range)",
                            show(&ns.data_start),
                            show(&want),
                        );
                    }
                    if ns.blockdev.is_some() && ns.mode != Mode::Sector && range.is_some() {
                        check(
                            "data_start known",
                            ns.data_start.is_some().to_string(),
                            "true".into(),
                        );
                    }
                }
            }
        }
    }
    for ns in scanned {
        if !listed.contains(&ns.dev) {
            bad.push(format!("{}: scanned, not listed by ndctl", ns.dev));
        }
    }
    (listed.len(), bad)
}

fn show<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?}")
}

/// ndctl prints the nil uuid for idle seeds; the scan reports no uuid for them.
fn json_uuid(j: &Json, key: &str) -> Option<Uuid> {
    let u = Uuid::parse_str(j.str(key)?).ok()?;
    (!u.is_nil()).then_some(u)
}

/// The devdax character device: `daxregion.devices[0].chardev` (-X) or `chardev`.
fn json_chardev(j: &Json) -> Option<String> {
    if let Some(c) = j.str("chardev") {
        return Some(c.to_owned());
    }
    let region = j.get("daxregion")?;
    region
        .arr("devices")
        .first()?
        .str("chardev")
        .map(str::to_owned)
}

/// `ls -l` lines → device name → (type char, MAJ:MIN).
pub fn parse_dev_nodes(text: &str) -> BTreeMap<String, (char, DevNum)> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(kind) = words.first().and_then(|w| w.chars().next()) else {
            continue;
        };
        let Some(pos) = words.iter().position(|w| w.ends_with(',') && w.len() > 1) else {
            continue;
        };
        let (Some(maj), Some(min), Some(path)) = (words.get(pos), words.get(pos + 1), words.last())
        else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (maj.trim_end_matches(',').parse(), min.parse()) else {
            continue;
        };
        let name = path.rsplit('/').next().unwrap_or(path).to_owned();
        out.insert(name, (kind, DevNum { major, minor }));
    }
    out
}

/// `/proc/iomem` → resource name → (start, end), for names that appear once.
pub fn parse_iomem(text: &str) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some((range, name)) = line.trim().split_once(" : ") else {
            continue;
        };
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else {
            continue;
        };
        out.insert(name.to_owned(), (a, b));
    }
    out
}
