//! sysfs root → [`Cxl`]: the only code that reads `/sys/bus/cxl`.
//!
//! Shape (Documentation/ABI/testing/sysfs-bus-cxl): every object is a link in
//! `bus/cxl/devices/` into the device tree, where ports nest as they are reached:
//! `rootX/portY/[portZ/]endpointW`, each with its decoders (`decoderW.N`) as children, and
//! regions as children of the root decoder they were made under (`decoderX.Y/regionN`). A
//! memory device (`memN`) sits under its PCI device; its endpoint port's `uport` links back
//! to it. The root port's `dportN` links name the host bridges its decoders' `target_list`
//! ids mean; a host bridge port's `uport` is that same device. Values are read as bytes
//! (`sysfs::read`), so a byte that is not UTF-8 is a value that does not parse, not an error.

use super::model::{Cxl, EndpointDecoder, Memdev, Mode, Region, RootDecoder};
use crate::error::Error;
use crate::sysfs::{self, parse_dec, parse_hex};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Reads the CXL bus under `sysfs` (normally `/sys`). No `bus/cxl` (no CXL, or cxl_core not
/// loaded yet) is an empty bus; a directory without `bus/` is no sysfs at all.
pub fn scan(sysfs: &Path) -> Result<Cxl, Error> {
    if !sysfs.join("bus").is_dir() {
        return Err(Error::NotSysfs {
            path: sysfs.to_path_buf(),
        });
    }
    let devices = sysfs.join("bus/cxl/devices");
    let names = match fs::read_dir(&devices) {
        Ok(entries) => {
            let mut names = Vec::new();
            for e in entries {
                let e = e.map_err(|e| Error::read(&devices, e))?;
                // Kernel device names are ASCII; anything else is not a CXL object.
                if let Some(n) = e.file_name().to_str() {
                    names.push(n.to_string());
                }
            }
            names.sort_by(|a, b| by_number(a, b));
            names
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Cxl::default()),
        Err(e) => return Err(Error::read(&devices, e)),
    };
    // Canonical paths: where each object sits in the tree says what it is part of.
    // (name, canonical path); few enough for a list (a map's code costs the boot binary).
    let real: Vec<(&str, PathBuf)> = names
        .iter()
        .filter_map(|n| Some((n.as_str(), fs::canonicalize(devices.join(n)).ok()?)))
        .collect();
    let real_of = |name: &str| real.iter().find(|(n, _)| *n == name).map(|(_, p)| p);
    let mut cxl = Cxl::default();
    // Endpoint port → (memdev canonical path, host bridge).
    let mut endpoints: Vec<(String, PathBuf, Option<PathBuf>)> = Vec::new();
    // (endpoint port, decoder), in name order.
    let mut endpoint_decoders: Vec<(String, EndpointDecoder)> = Vec::new();
    for name in &names {
        let Some(path) = real_of(name) else {
            continue;
        };
        let parent = parent_name(path);
        if name.starts_with("mem") && is_numbered(name, "mem") {
            cxl.memdevs.push(read_memdev(name, path));
        } else if is_numbered(name, "endpoint") {
            if let Ok(uport) = fs::canonicalize(path.join("uport")) {
                endpoints.push((name.clone(), uport, host_bridge(path)));
            }
        } else if name.starts_with("decoder") {
            match parent.as_deref() {
                Some(p) if is_numbered(p, "root") => {
                    cxl.root_decoders.push(read_root_decoder(name, path));
                }
                Some(p) if is_numbered(p, "endpoint") => {
                    endpoint_decoders.push((p.to_string(), read_endpoint_decoder(name, path)))
                }
                // Switch and host-bridge decoders: the kernel programs them itself.
                _ => {}
            }
        } else if is_numbered(name, "region") {
            cxl.regions
                .push(read_region(name, path, parent.unwrap_or_default()));
        }
    }
    for (endpoint, uport, bridge) in endpoints {
        let Some(m) = cxl
            .memdevs
            .iter_mut()
            .find(|m| real_of(&m.name) == Some(&uport))
        else {
            continue;
        };
        m.endpoint = Some(endpoint.clone());
        m.host_bridge = bridge;
        m.decoders = endpoint_decoders
            .iter()
            .filter(|(e, _)| *e == endpoint)
            .map(|(_, d)| d.clone())
            .collect();
    }
    // A region's mode, when the kernel has no `mode` attribute for it: its first target's.
    for i in 0..cxl.regions.len() {
        if cxl.regions[i].mode.is_none() {
            let first = cxl.regions[i].targets.iter().flatten().next().cloned();
            let mode = first.and_then(|t| {
                let m = cxl.owner_of(&t)?;
                m.decoders
                    .iter()
                    .find(|d| d.name == t)
                    .map(|d| d.mode.clone())
            });
            cxl.regions[i].mode = mode;
        }
    }
    for rd in &mut cxl.root_decoders {
        rd.free = free_extent(rd, &cxl.regions);
    }
    Ok(cxl)
}

/// `decoder10.2` sorts after `decoder2.0`: by the letters, then the numbers in the name.
fn by_number(a: &str, b: &str) -> std::cmp::Ordering {
    let split = |s: &str| {
        let at = s.find(|c: char| c.is_ascii_digit()).unwrap_or(s.len());
        (s[..at].to_string(), s[at..].to_string())
    };
    let ((ha, ta), (hb, tb)) = (split(a), split(b));
    let nums = |t: &str| -> Vec<u64> {
        t.split('.')
            .map(|n| n.parse().unwrap_or(u64::MAX))
            .collect()
    };
    ha.cmp(&hb).then_with(|| nums(&ta).cmp(&nums(&tb)))
}

fn is_numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn parent_name(path: &Path) -> Option<String> {
    path.parent()?.file_name()?.to_str().map(str::to_string)
}

fn text(dir: &Path, attr: &str) -> Option<String> {
    sysfs::read_line(&dir.join(attr))
        .ok()
        .map(|s| s.trim().to_string())
}

fn hex(dir: &Path, attr: &str) -> Option<u64> {
    text(dir, attr).and_then(|s| parse_hex(&s))
}

fn dec(dir: &Path, attr: &str) -> Option<u64> {
    text(dir, attr).and_then(|s| parse_dec(&s))
}

fn flag(dir: &Path, attr: &str) -> bool {
    text(dir, attr).as_deref() == Some("1")
}

fn read_memdev(name: &str, path: &Path) -> Memdev {
    Memdev {
        name: name.to_string(),
        // Unreadable: 0, which no pmemtab line names.
        serial: hex(path, "serial").unwrap_or(0),
        host: parent_name(path),
        ram_bytes: hex(path, "ram/size").unwrap_or(0),
        pmem_bytes: hex(path, "pmem/size").unwrap_or(0),
        numa_node: text(path, "numa_node").and_then(|s| s.parse().ok()),
        ..Memdev::default()
    }
}

/// The host bridge an endpoint port is reached through: the `uport` of the port right below
/// the root port in its canonical path (`.../root0/port1/.../endpoint3`).
fn host_bridge(endpoint: &Path) -> Option<PathBuf> {
    let mut dir = endpoint;
    while let Some(parent) = dir.parent() {
        if parent
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| is_numbered(n, "root"))
        {
            return fs::canonicalize(dir.join("uport")).ok();
        }
        dir = parent;
    }
    None
}

fn read_endpoint_decoder(name: &str, path: &Path) -> EndpointDecoder {
    EndpointDecoder {
        name: name.to_string(),
        mode: Mode::parse(text(path, "mode").as_deref().unwrap_or("none")),
        dpa_resource: hex(path, "dpa_resource"),
        dpa_size: hex(path, "dpa_size").unwrap_or(0),
        region: text(path, "region").filter(|r| !r.is_empty()),
        locked: flag(path, "locked"),
    }
}

fn read_root_decoder(name: &str, path: &Path) -> RootDecoder {
    let root = path.parent().unwrap_or(path);
    let targets = text(path, "target_list")
        .unwrap_or_default()
        .split(',')
        .filter_map(parse_dec)
        .filter_map(|id| fs::canonicalize(root.join(format!("dport{id}"))).ok())
        .collect();
    RootDecoder {
        name: name.to_string(),
        cap_pmem: flag(path, "cap_pmem"),
        cap_ram: flag(path, "cap_ram"),
        start: hex(path, "start").unwrap_or(0),
        size: hex(path, "size").unwrap_or(0),
        ways: dec(path, "interleave_ways").unwrap_or(0),
        granularity: dec(path, "interleave_granularity").unwrap_or(0),
        targets,
        qos_class: text(path, "qos_class").and_then(|s| s.parse().ok()),
        free: 0,
    }
}

fn read_region(name: &str, path: &Path, root_decoder: String) -> Region {
    let ways = dec(path, "interleave_ways").unwrap_or(0);
    let targets = (0..ways)
        .map(|i| text(path, &format!("target{i}")).filter(|t| !t.is_empty()))
        .collect();
    Region {
        name: name.to_string(),
        root_decoder,
        mode: text(path, "mode")
            .filter(|m| !m.is_empty())
            .map(|m| Mode::parse(&m)),
        uuid: text(path, "uuid").and_then(|u| Uuid::try_parse(&u).ok()),
        size: hex(path, "size").unwrap_or(0),
        resource: hex(path, "resource").filter(|&r| r != u64::MAX),
        ways,
        granularity: dec(path, "interleave_granularity").unwrap_or(0),
        targets,
        committed: flag(path, "commit"),
        bound: path.join("driver").exists(),
    }
}

/// The largest free stretch of a root decoder's window: the gaps between its regions that
/// have an address (libcxl's `cxl_decoder_calc_max_available_extent`).
fn free_extent(rd: &RootDecoder, regions: &[Region]) -> u64 {
    let mut used: Vec<(u64, u64)> = regions
        .iter()
        .filter(|r| r.root_decoder == rd.name && r.size > 0)
        .filter_map(|r| Some((r.resource?, r.size)))
        .collect();
    used.sort_unstable();
    let end = rd.start.saturating_add(rd.size);
    let mut at = rd.start;
    let mut best = 0;
    for (start, size) in used {
        best = best.max(start.saturating_sub(at));
        at = at.max(start.saturating_add(size));
    }
    best.max(end.saturating_sub(at))
}
