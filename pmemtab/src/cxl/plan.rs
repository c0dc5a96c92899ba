//! A CXL region line + the bus → the region found, the steps that create it, or why not.
//! Pure: every rule about which devices, positions, sizes and decoders make the region lives
//! here; `pmem-assemble` only writes what this decides.

use super::model::{Cxl, Memdev, Mode, Region};
use crate::interleave::{check_size, check_ways, REGION_ALIGN};
use crate::size::suffixed;
use crate::tab::{Entry, Layout, Member};
use std::fmt;

/// What `up` does for a CXL line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegionPlan {
    /// A region over exactly these devices, in these positions, with this geometry exists
    /// (committed by firmware, or made earlier): nothing is written, unless it still needs
    /// binding to cxl_region.
    Recognised {
        region: String,
        bind: bool,
    },
    Create(Create),
}

/// A region to create, in cxl-cli's order (cxl/region.c `create_region`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Create {
    /// The root decoder whose `create_{pmem,ram}_region` names it.
    pub root_decoder: String,
    pub mode: Mode,
    pub size: u64,
    pub granularity: u64,
    /// Position order: target0, target1...
    pub targets: Vec<Target>,
}

/// One device of a region to create.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub serial: u64,
    pub memdev: String,
    /// The endpoint decoder given to the region: the device's first free one.
    pub decoder: String,
    /// Its `mode` must be written first (it decodes another partition now).
    pub set_mode: bool,
    /// Bytes of the device's capacity: size / ways.
    pub dpa_size: u64,
}

/// Why a CXL line cannot be set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Devices not there yet (or not yet enumerated as far as their endpoint port): worth
    /// waiting for.
    Missing { serials: Vec<u64> },
    /// Refused as written: the line, the devices or an existing region must change.
    Refused(String),
}

impl Refusal {
    pub fn is_pending(&self) -> bool {
        matches!(self, Refusal::Missing { .. })
    }

    /// As the namespace planner's refusal of `entry`, to report it the same way.
    pub fn for_entry(&self, entry: &Entry) -> crate::plan::Refusal {
        crate::plan::Refusal {
            line: entry.line,
            name: entry.name.to_string(),
            reasons: vec![crate::plan::Reason::Cxl {
                why: self.to_string(),
                pending: self.is_pending(),
            }],
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing { serials } => {
                let list: Vec<String> = serials.iter().map(|s| format!("serial={s:#x}")).collect();
                write!(
                    f,
                    "CXL memory device{} {} not found on the CXL bus (or not yet enumerated by cxl_mem); check `cxl list -M`",
                    if serials.len() == 1 { "" } else { "s" },
                    list.join(", ")
                )
            }
            Refusal::Refused(why) => f.write_str(why),
        }
    }
}

/// The serials a CXL line names, in position order.
pub fn serials(entry: &Entry) -> Vec<u64> {
    entry
        .members()
        .iter()
        .filter_map(|m| match m {
            Member::Serial(s) => Some(*s),
            _ => None,
        })
        .collect()
}

/// The region mode a CXL line asks for.
pub fn mode_of(entry: &Entry) -> Mode {
    if entry.layout() == Layout::CxlPmem {
        Mode::Pmem
    } else {
        Mode::Ram
    }
}

fn list(serials: &[u64]) -> String {
    let s: Vec<String> = serials.iter().map(|s| format!("{s:#x}")).collect();
    s.join(",")
}

/// The serials of a region's targets in position order (`?` where a target is unset or on no
/// device seen).
fn region_serials(cxl: &Cxl, r: &Region) -> Vec<Option<u64>> {
    r.targets
        .iter()
        .map(|t| t.as_deref().and_then(|t| cxl.owner_of(t)).map(|m| m.serial))
        .collect()
}

fn serials_text(s: &[Option<u64>]) -> String {
    let v: Vec<String> = s
        .iter()
        .map(|s| s.map_or_else(|| "?".to_string(), |s| format!("{s:#x}")))
        .collect();
    v.join(",")
}

/// Plans a cxl-pmem line, or a system-ram line over serial= members.
pub fn plan(entry: &Entry, cxl: &Cxl) -> Result<RegionPlan, Refusal> {
    let want = serials(entry);
    let mode = mode_of(entry);
    let ways = want.len() as u64;
    check_ways(ways).map_err(Refusal::Refused)?;
    let mut devs: Vec<&Memdev> = Vec::with_capacity(want.len());
    let mut missing = Vec::new();
    for &s in &want {
        match cxl.by_serial(s).as_slice() {
            [one] if one.endpoint.is_some() => devs.push(one),
            [] | [_] => missing.push(s),
            many => {
                let names: Vec<&str> = many.iter().map(|m| m.name.as_str()).collect();
                return Err(Refusal::Refused(format!(
                    "serial={s:#x} is the serial of {} devices ({}): a serial must name one device",
                    many.len(),
                    names.join(", ")
                )));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Refusal::Missing { serials: missing });
    }
    // Every region of this mode on any of the devices.
    let mut touching: Vec<&Region> = cxl
        .regions
        .iter()
        .filter(|r| r.mode.as_ref() == Some(&mode))
        .filter(|r| {
            r.targets
                .iter()
                .flatten()
                .any(|t| devs.iter().any(|d| d.decoders.iter().any(|x| x.name == *t)))
        })
        .collect();
    // Devices whose capacity of this mode a decoder has but no region uses yet (a region made
    // halfway, a power cut mid-`up`): never guessed at.
    for d in &devs {
        if let Some(x) = d
            .decoders
            .iter()
            .find(|x| x.mode == mode && x.dpa_size > 0 && x.region.is_none())
        {
            if !touching
                .iter()
                .any(|r| r.targets.iter().flatten().any(|t| *t == x.name))
            {
                return Err(Refusal::Refused(format!(
                    "serial={:#x} ({}): endpoint decoder {} holds {} of {} capacity in no region (a region made halfway?); release it with `cxl destroy-region` or by writing 0 to its dpa_size, then run up again",
                    d.serial,
                    d.name,
                    x.name,
                    suffixed(x.dpa_size),
                    mode.as_str()
                )));
            }
        }
    }
    touching.dedup_by(|a, b| a.name == b.name);
    if let Some(r) = touching.first() {
        return recognise(entry, cxl, &want, &mode, r, touching.len());
    }
    create(entry, cxl, &want, &devs, mode)
}

/// The one region on these devices must be the line's region, exactly.
fn recognise(
    entry: &Entry,
    cxl: &Cxl,
    want: &[u64],
    mode: &Mode,
    r: &Region,
    regions: usize,
) -> Result<RegionPlan, Refusal> {
    let have = region_serials(cxl, r);
    let mut differs = Vec::new();
    if regions > 1 {
        differs.push(format!(
            "{regions} {} regions use these devices",
            mode.as_str()
        ));
    }
    if have.iter().copied().ne(want.iter().map(|&s| Some(s))) {
        differs.push(format!(
            "its devices in position order are serial {} , the line's {}",
            serials_text(&have),
            list(want)
        ));
    }
    if let Some(size) = entry.options.size.filter(|&s| s != r.size) {
        differs.push(format!(
            "its size is {}, the line's {}",
            suffixed(r.size),
            suffixed(size)
        ));
    }
    if let Some(g) = entry.options.granularity.filter(|&g| g != r.granularity) {
        differs.push(format!(
            "its granularity is {}, the line's {g}",
            r.granularity
        ));
    }
    if !differs.is_empty() {
        return Err(Refusal::Refused(format!(
            "{} {} exists on serial {} and differs from the line: {}; nothing was written. Restore the line as the region is (see `cxl list -R -T`), or destroy the region if its data is not needed",
            mode.as_str(),
            r.name,
            list(want),
            differs.join("; ")
        ).replace(" , ", ", ")));
    }
    if !r.committed {
        return Err(Refusal::Refused(format!(
            "{} over serial {} exists but is not committed (made halfway, by another tool or an interrupted up); nothing was written: finish it with `cxl enable-region` or remove it with `cxl destroy-region {}`",
            r.name,
            list(want),
            r.name
        )));
    }
    Ok(RegionPlan::Recognised {
        region: r.name.clone(),
        bind: !r.bound,
    })
}

fn create(
    entry: &Entry,
    cxl: &Cxl,
    want: &[u64],
    devs: &[&Memdev],
    mode: Mode,
) -> Result<RegionPlan, Refusal> {
    let ways = want.len() as u64;
    let refuse = |why: String| Err(Refusal::Refused(why));
    // Free capacity of the mode per device: its partition less what decoders hold of it.
    let mut per_dev = u64::MAX;
    for d in devs {
        let total = if mode == Mode::Pmem {
            d.pmem_bytes
        } else {
            d.ram_bytes
        };
        let used: u64 = d
            .decoders
            .iter()
            .filter(|x| x.mode == mode)
            .map(|x| x.dpa_size)
            .sum();
        let free = total.saturating_sub(used);
        let free = free - free % REGION_ALIGN;
        if free == 0 {
            return refuse(format!(
                "serial={:#x} ({}) has no free {} capacity in whole 256 MiB ({} {}, {} in use)",
                d.serial,
                d.name,
                mode.as_str(),
                suffixed(total),
                mode.as_str(),
                suffixed(used)
            ));
        }
        per_dev = per_dev.min(free);
    }
    if let Some(size) = entry.options.size {
        check_size(size, ways).map_err(Refusal::Refused)?;
        if size / ways > per_dev {
            return refuse(format!(
                "size={} needs {} of {} capacity on each device; serial {} have {} free each at most",
                suffixed(size),
                suffixed(size / ways),
                mode.as_str(),
                list(want),
                suffixed(per_dev)
            ));
        }
    }
    let bridges: Vec<_> = devs.iter().map(|d| d.host_bridge.as_ref()).collect();
    let cap = |rd: &super::model::RootDecoder| {
        if mode == Mode::Pmem {
            rd.cap_pmem
        } else {
            rd.cap_ram
        }
    };
    let mut why_not = Vec::new();
    let mut chosen = None;
    for rd in &cxl.root_decoders {
        if !cap(rd) {
            continue;
        }
        if !bridges
            .iter()
            .all(|b| b.is_some_and(|b| rd.targets.contains(b)))
        {
            why_not.push(format!(
                "{} does not reach every device's host bridge",
                rd.name
            ));
            continue;
        }
        let granularity = entry.options.granularity.unwrap_or(rd.granularity);
        if rd.ways > 1 && granularity != rd.granularity {
            why_not.push(format!(
                "{} interleaves {} host bridges at {}, so only granularity={} is possible under it",
                rd.name, rd.ways, rd.granularity, rd.granularity
            ));
            continue;
        }
        let size = entry
            .options
            .size
            .unwrap_or_else(|| per_dev.saturating_mul(ways));
        let fits = rd.free - rd.free % REGION_ALIGN.saturating_mul(ways);
        let size = match entry.options.size {
            Some(s) if s > rd.free => {
                why_not.push(format!(
                    "{} has {} of address space free, the region needs {}",
                    rd.name,
                    suffixed(rd.free),
                    suffixed(s)
                ));
                continue;
            }
            Some(s) => s,
            None if fits == 0 => {
                why_not.push(format!("{} has no address space free", rd.name));
                continue;
            }
            None => size.min(fits),
        };
        chosen = Some((rd, granularity, size));
        break;
    }
    let Some((rd, granularity, size)) = chosen else {
        let why = if why_not.is_empty() {
            format!(
                "no CXL window (root decoder) can hold {} memory; check `cxl list -D`",
                mode.as_str()
            )
        } else {
            why_not.join("; ")
        };
        return refuse(format!(
            "no root decoder can hold a {} region over serial {}: {why}",
            mode.as_str(),
            list(want)
        ));
    };
    if granularity == 0 {
        return refuse(format!(
            "{} shows no interleave granularity; give granularity= on the line",
            rd.name
        ));
    }
    let mut targets = Vec::with_capacity(devs.len());
    for d in devs {
        let Some(x) = d.decoders.iter().find(|x| x.is_free()) else {
            return refuse(format!(
                "serial={:#x} ({}) has no free endpoint decoder: every one is in use (`cxl list -D -m {}`)",
                d.serial, d.name, d.name
            ));
        };
        targets.push(Target {
            serial: d.serial,
            memdev: d.name.clone(),
            decoder: x.name.clone(),
            set_mode: x.mode != mode,
            dpa_size: size / ways,
        });
    }
    Ok(RegionPlan::Create(Create {
        root_decoder: rd.name.clone(),
        mode,
        size,
        granularity,
        targets,
    }))
}
