//! Entry + namespaces → what to build, or why not. Pure: every geometry and safety rule for
//! turning a pmemtab line into a device lives here and nowhere else, one job a file:
//! `resolve` finds the namespace each member names, `eligible` says whether it can serve
//! the entry's layout, `dm` lays out a linear or striped device, `claims` keeps a namespace
//! to the first entry naming it, and `refusal` says why an entry cannot be built.

mod claims;
mod dm;
mod eligible;
mod refusal;
mod resolve;

pub use claims::{dm_member_of, plan_all};
pub use dm::{dm_uuid, DM_UUID_PREFIX};
pub use refusal::{Reason, Refusal};
pub use resolve::{candidates, pending, resolve};

use crate::devnum::DevNum;
use crate::dmtable::Target;
use crate::ns::{Namespace, Resolved};
use crate::size::Sectors;
use crate::tab::name::Name;
use crate::tab::{Entry, EntryKind, Layout};
use eligible::{block_member, kmem_member};
use resolve::resolve_members;

/// What to build for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub line: usize,
    /// The entry's name, as the parser proved it: what the dm ioctls are given.
    pub name: Name,
    pub layout: Layout,
    /// Members in entry order, each with the namespace it resolved to.
    pub members: Vec<Resolved>,
    pub device: Device,
    /// Things that work but cost something (e.g. no huge-page faults).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Device {
    /// A device-mapper device `/dev/mapper/<name>`.
    Dm {
        uuid: String,
        targets: Vec<Target>,
        size: Sectors,
    },
    /// The namespace's own block device, used as is.
    Single {
        blockdev: String,
        devnum: DevNum,
        size: Sectors,
    },
    /// Devdax devices given to the kmem driver and onlined as system RAM, in member order.
    Kmem { devs: Vec<KmemDev> },
}

/// One member of a system-ram entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmemDev {
    /// The dax device (`dax1.0`), as `/sys/bus/dax/devices/` and `daxctl list` name it.
    pub dax: String,
    /// The NUMA node its memory joins (the region's `target_node`).
    pub node: i32,
    /// Bytes of the dax device.
    pub size: u64,
}

impl Plan {
    pub fn targets(&self) -> &[Target] {
        match &self.device {
            Device::Dm { targets, .. } => targets,
            Device::Single { .. } | Device::Kmem { .. } => &[],
        }
    }
}

/// Plans one entry against the namespaces present.
#[allow(clippy::result_large_err)]
pub fn plan(entry: &Entry, namespaces: &[Namespace]) -> Result<Plan, Refusal> {
    let refuse = |reason| Refusal {
        line: entry.line,
        name: entry.name.to_string(),
        reasons: vec![reason],
    };
    let cxl = || {
        refuse(Reason::Cxl {
            why: "names CXL memory devices (serial=), which are planned against the CXL bus, not namespaces".into(),
            pending: false,
        })
    };
    if entry.is_cxl() {
        return Err(cxl());
    }
    let mut warnings = Vec::new();
    let (members, device) = match &entry.kind {
        EntryKind::Single { member, .. } => {
            let ns = resolve(member, namespaces).map_err(refuse)?;
            let devnum = block_member(member, ns, &mut warnings).map_err(refuse)?;
            let device = Device::Single {
                blockdev: ns.blockdev.clone().unwrap_or_default(),
                devnum,
                size: Sectors::from_bytes(ns.size),
            };
            let r = Resolved {
                member: member.clone(),
                ns: ns.clone(),
            };
            (vec![r], device)
        }
        // One arm for both dm layouts: one copy of the member checks in the boot binary.
        EntryKind::Linear { .. } | EntryKind::Striped { .. } => {
            let mut devs = Vec::new();
            let good = resolve_members(entry, namespaces, &mut |m, ns| {
                devs.push(block_member(m, ns, &mut warnings)?);
                Ok(())
            })?;
            let device = match &entry.kind {
                EntryKind::Striped { chunk_bytes, .. } => {
                    dm::striped(entry, *chunk_bytes, &good, &devs)
                }
                _ => dm::linear(entry, &good, &devs),
            }
            .map_err(refuse)?;
            (good, device)
        }
        EntryKind::SystemRam { .. } => {
            let mut devs = Vec::new();
            let members = resolve_members(entry, namespaces, &mut |m, ns| {
                devs.push(kmem_member(m, ns)?);
                Ok(())
            })?;
            (members, Device::Kmem { devs })
        }
        // Refused above (is_cxl).
        EntryKind::CxlPmem { .. } => return Err(cxl()),
    };
    // Built as planned either way: the warning only says what the mix costs.
    warnings.extend(crate::numa::mix_warning(
        entry.layout(),
        &members,
        entry.options.numa_mix,
    ));
    Ok(Plan {
        line: entry.line,
        name: entry.name.clone(),
        layout: entry.layout(),
        members,
        device,
        warnings,
    })
}
