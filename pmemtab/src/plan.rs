//! Entry + namespaces → what to build, or why not. Pure: every geometry and safety rule for
//! turning a pmemtab line into a device lives here and nowhere else.

use crate::devnum::DevNum;
use crate::dmtable::{Target, TargetKind};
use crate::ns::{Mode, Namespace, Resolved};
use crate::size::{human_bytes, Sectors, HUGE_PAGE_BYTES};
use crate::tab::name::Name;
use crate::tab::{Diagnostic, Entry, EntryKind, Layout, Member, Severity};
use std::collections::HashMap;
use std::fmt;

/// Prefix of the dm uuid of every device pmemtab creates; `down --all` and `status` use it to
/// tell our devices from LVM's, cryptsetup's, ... (lsblk shows it lowercased as TYPE).
pub const DM_UUID_PREFIX: &str = "PMEMTAB-";
/// The kernel's limit for dm uuids (DM_UUID_LEN - 1).
const DM_UUID_MAX: usize = 128;

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

/// Why an entry cannot be built: every problem found, one per bad member (or one for the
/// whole entry). Renders to one line per problem naming the line, the entry and the member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub line: usize,
    pub name: String,
    /// In member order; never empty.
    pub reasons: Vec<Reason>,
}

impl Refusal {
    /// Every problem may go away by itself (members still appearing): worth waiting for.
    pub fn is_pending(&self) -> bool {
        self.reasons.iter().all(Reason::is_pending)
    }

    /// One diagnostic per problem, pointing at its member in the entry's line (at the
    /// members column for problems of the whole entry), as the parser's are.
    pub fn diagnostics(&self, entry: &Entry) -> Vec<Diagnostic> {
        let index = member_positions(entry);
        let line = crate::tab::diagnostic::SourceWindow::new(&entry.source.text);
        self.reasons
            .iter()
            .map(|reason| {
                let span = reason
                    .member()
                    .and_then(|m| index.get(m))
                    .and_then(|&i| entry.source.members.get(i))
                    .copied()
                    .unwrap_or(entry.source.members_column);
                let (source_line, shown_from) = line.around(span.column, span.width);
                Diagnostic {
                    severity: Severity::Error,
                    line: self.line,
                    column: span.column,
                    message: format!("{}: {}", self.name, reason.message()),
                    source_line,
                    shown_from,
                    width: span.width,
                    hint: reason.hint(),
                    entry: Some(self.name.clone()),
                }
            })
            .collect()
    }
}

/// Where each member of an entry stands (the first time it is named): a map, not a search per
/// reason, which made a line of many bad members quadratic.
/// Keyed by owned members, as the clash check's map: one copy of its code in the binaries.
fn member_positions(entry: &Entry) -> HashMap<Member, usize> {
    let mut at = HashMap::with_capacity(entry.members().len());
    for (i, m) in entry.members().iter().enumerate() {
        at.entry(m.clone()).or_insert(i);
    }
    at
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// No active namespace matches.
    Missing { member: Member },
    /// Several namespaces match (only `name=` can be ambiguous).
    Ambiguous { member: Member, devs: Vec<String> },
    /// The namespace's mode cannot serve this layout.
    WrongMode {
        member: Member,
        dev: String,
        mode: Mode,
        need: &'static str,
    },
    /// The namespace is still appearing: enabled in fsdax mode, but its block device is not
    /// there yet (the pmem driver is still probing). Waited for like a missing member.
    NotReady { member: Member, dev: String },
    /// A devdax namespace whose dax device has not appeared yet (device_dax still probing).
    /// Waited for like a missing member.
    NoDaxDevice { member: Member, dev: String },
    /// A devdax namespace on no NUMA node (`target_node` -1): kmem refuses it.
    NoNode { member: Member, dev: String },
    /// The block device does not do DAX (`queue/dax` = 0).
    NotDax {
        member: Member,
        dev: String,
        blockdev: String,
    },
    /// The same namespace appears twice in this entry.
    UsedTwice {
        member: Member,
        dev: String,
        first: Member,
    },
    /// The namespace belongs to an earlier entry already.
    UsedByOther {
        member: Member,
        dev: String,
        other: String,
        other_line: usize,
    },
    /// The member is smaller than one unit of the layout (2 MiB, or one chunk).
    TooSmall {
        member: Member,
        dev: String,
        size: u64,
        unit: u64,
    },
    /// The device would exceed what a u64 of sectors can address.
    TooLarge,
    /// A CXL line (serial= members): what its plan against the CXL bus says
    /// (the cxl module's plan); `pending` while its devices may still appear.
    Cxl { why: String, pending: bool },
}

impl Reason {
    /// The member may still appear (its NVDIMM is slow, its driver still probing): worth
    /// waiting for within the entry's device timeout.
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            Reason::Missing { .. }
                | Reason::NotReady { .. }
                | Reason::NoDaxDevice { .. }
                | Reason::Cxl { pending: true, .. }
        )
    }

    /// The member this reason is about, if it is about one.
    pub fn member(&self) -> Option<&Member> {
        match self {
            Reason::Missing { member }
            | Reason::Ambiguous { member, .. }
            | Reason::WrongMode { member, .. }
            | Reason::NotReady { member, .. }
            | Reason::NoDaxDevice { member, .. }
            | Reason::NoNode { member, .. }
            | Reason::NotDax { member, .. }
            | Reason::UsedTwice { member, .. }
            | Reason::UsedByOther { member, .. }
            | Reason::TooSmall { member, .. } => Some(member),
            Reason::TooLarge | Reason::Cxl { .. } => None,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, reason) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "line {}: {}: {reason}", self.line, self.name)?;
        }
        Ok(())
    }
}

impl Reason {
    /// What is wrong.
    pub fn message(&self) -> String {
        match self {
            Reason::Missing { member } => format!("member {member}: no enabled namespace matches"),
            Reason::Ambiguous { member, devs } => format!(
                "member {member}: matches {} namespaces ({})",
                devs.len(),
                devs.join(", ")
            ),
            Reason::WrongMode {
                member,
                dev,
                mode,
                need,
            } => format!("member {member} ({dev}) is in {mode} mode, this layout needs {need}"),
            Reason::NotReady { member, dev } => format!(
                "member {member} ({dev}) is in fsdax mode but its block device has not appeared"
            ),
            Reason::NoDaxDevice { member, dev } => format!(
                "member {member} ({dev}) is in devdax mode but its dax device has not appeared"
            ),
            Reason::NoNode { member, dev } => format!(
                "member {member} ({dev}) is on no NUMA node (target_node is -1), and kmem onlines memory only into a node"
            ),
            Reason::NotDax {
                member,
                dev,
                blockdev,
            } => format!("member {member} ({dev}, {blockdev}) cannot do DAX (queue/dax is 0)"),
            Reason::UsedTwice { member, dev, first } => {
                format!("member {member} is {dev}, which {first} already names")
            }
            Reason::UsedByOther {
                member,
                dev,
                other,
                other_line,
            } => {
                format!("member {member} ({dev}) is already used by '{other}' on line {other_line}")
            }
            Reason::TooSmall {
                member,
                dev,
                size,
                unit,
            } => format!(
                "member {member} ({dev}) has {}, less than one {} unit of this layout",
                human_bytes(*size),
                human_bytes(*unit)
            ),
            Reason::TooLarge => "the members add up to more than 2^64 sectors".into(),
            Reason::Cxl { why, .. } => why.clone(),
        }
    }

    /// What to do about it.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            Reason::Missing { .. } => {
                "check that its NVDIMM is present and the namespace enabled (`ndctl list -N`)"
                    .into()
            }
            Reason::Ambiguous { .. } => "name it by uuid= instead".into(),
            Reason::WrongMode { dev, need, .. } => format!(
                "reconfigure it (`ndctl create-namespace -f -e {dev} --mode={need}`, which destroys its data) or name another namespace"
            ),
            Reason::NotReady { .. } => "check `dmesg` for the nd_pmem driver".into(),
            Reason::NoDaxDevice { .. } => "check `dmesg` for the device_dax driver".into(),
            Reason::NoNode { .. } => "the firmware must give the NVDIMM a proximity domain (ACPI SRAT); in qemu, node= on -device nvdimm".into(),
            Reason::NotDax { .. } => "use an fsdax namespace".into(),
            Reason::UsedTwice { .. } => "a namespace may appear only once".into(),
            Reason::UsedByOther { .. } => "a namespace may belong to one entry only".into(),
            Reason::TooSmall { .. } => "name a larger namespace".into(),
            Reason::TooLarge | Reason::Cxl { .. } => return None,
        })
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())?;
        match self.hint() {
            Some(h) => write!(f, "; {h}"),
            None => Ok(()),
        }
    }
}

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

/// Every active namespace a member names (one, unless `name=` is ambiguous).
pub fn candidates<'a>(member: &Member, namespaces: &'a [Namespace]) -> Vec<&'a Namespace> {
    namespaces
        .iter()
        .filter(|ns| ns.active)
        .filter(|ns| match member {
            Member::Uuid(u) => ns.uuid == Some(*u) || ns.raw_uuid == Some(*u),
            Member::Name(n) => ns.name.as_deref() == Some(n.as_str()),
            Member::Addr(a) => ns.resource == Some(*a),
            Member::DevPath(p) => {
                let base = p.rsplit('/').next().unwrap_or(p);
                ns.blockdev.as_deref() == Some(base)
            }
            // A CXL memory device is no namespace.
            Member::Serial(_) => false,
        })
        .collect()
}

/// Finds the one active namespace a member names.
// A refusal is made once per entry and printed; boxing it would buy nothing.
#[allow(clippy::result_large_err)]
pub fn resolve<'a>(member: &Member, namespaces: &'a [Namespace]) -> Result<&'a Namespace, Reason> {
    match candidates(member, namespaces).as_slice() {
        [] => Err(Reason::Missing {
            member: member.clone(),
        }),
        [one] => Ok(one),
        many => Err(Reason::Ambiguous {
            member: member.clone(),
            devs: many.iter().map(|ns| ns.dev.clone()).collect(),
        }),
    }
}

/// Checks that a resolved namespace can serve as a member of a DAX block layout and returns
/// its block device number.
fn dax_member(member: &Member, ns: &Namespace) -> Result<DevNum, Reason> {
    let wrong_mode = || Reason::WrongMode {
        member: member.clone(),
        dev: ns.dev.clone(),
        mode: ns.mode,
        need: "fsdax",
    };
    if ns.mode != Mode::Fsdax && !(ns.mode == Mode::Raw && ns.dax) {
        return Err(wrong_mode());
    }
    let (Some(blockdev), Some(devnum)) = (&ns.blockdev, ns.devnum) else {
        return Err(Reason::NotReady {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    if !ns.dax {
        return Err(Reason::NotDax {
            member: member.clone(),
            dev: ns.dev.clone(),
            blockdev: blockdev.clone(),
        });
    }
    Ok(devnum)
}

/// Checks that a resolved namespace can be onlined as system RAM.
fn kmem_member(member: &Member, ns: &Namespace) -> Result<KmemDev, Reason> {
    if ns.mode != Mode::Devdax {
        return Err(Reason::WrongMode {
            member: member.clone(),
            dev: ns.dev.clone(),
            mode: ns.mode,
            need: "devdax",
        });
    }
    let Some(dax) = &ns.chardev else {
        return Err(Reason::NoDaxDevice {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    let Some(node) = ns.target_node.filter(|n| *n >= 0) else {
        return Err(Reason::NoNode {
            member: member.clone(),
            dev: ns.dev.clone(),
        });
    };
    Ok(KmemDev {
        dax: dax.clone(),
        node,
        size: ns.size,
    })
}

/// The members of an entry that may still appear (missing, or enabled without their block
/// device yet), each with its reason, in entry order.
pub fn pending(entry: &Entry, namespaces: &[Namespace]) -> Vec<Reason> {
    entry
        .members()
        .iter()
        .filter_map(|m| {
            let reason = match resolve(m, namespaces) {
                Err(r) => r,
                Ok(ns) if matches!(entry.kind, EntryKind::SystemRam { .. }) => {
                    kmem_member(m, ns).err()?
                }
                Ok(ns) => dax_member(m, ns).err()?,
            };
            reason.is_pending().then_some(reason)
        })
        .collect()
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
                    striped(entry, *chunk_bytes, &good, &devs)
                }
                _ => linear(entry, &good, &devs),
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

/// Resolves every member of an entry and checks each with `check` (what its layout needs of
/// a namespace; it keeps what it finds of a good one); every bad member is reported, not only
/// the first. Not generic: one copy of this loop in the boot binary, whatever `check` keeps.
#[allow(clippy::result_large_err)]
fn resolve_members(
    entry: &Entry,
    namespaces: &[Namespace],
    check: &mut dyn FnMut(&Member, &Namespace) -> Result<(), Reason>,
) -> Result<Vec<Resolved>, Refusal> {
    let mut good = Vec::with_capacity(entry.members().len());
    let mut bad = Vec::new();
    // (namespace dev, member) of every member resolved so far, good or bad.
    let mut named: Vec<(&str, &Member)> = Vec::new();
    for member in entry.members() {
        let ns = match resolve(member, namespaces) {
            Ok(ns) => ns,
            Err(r) => {
                bad.push(r);
                continue;
            }
        };
        if let Some((_, first)) = named.iter().find(|(dev, _)| *dev == ns.dev) {
            bad.push(Reason::UsedTwice {
                member: member.clone(),
                dev: ns.dev.clone(),
                first: (*first).clone(),
            });
            continue;
        }
        named.push((ns.dev.as_str(), member));
        match check(member, ns) {
            Ok(()) => good.push(Resolved {
                member: member.clone(),
                ns: ns.clone(),
            }),
            Err(r) => bad.push(r),
        }
    }
    if !bad.is_empty() {
        return Err(Refusal {
            line: entry.line,
            name: entry.name.to_string(),
            reasons: bad,
        });
    }
    Ok(good)
}

/// A member of a block layout: its namespace must do DAX (its device number); a start off the
/// 2 MiB grid is warned about.
fn block_member(
    member: &Member,
    ns: &Namespace,
    warnings: &mut Vec<String>,
) -> Result<DevNum, Reason> {
    let devnum = dax_member(member, ns)?;
    if let Some(start) = ns.data_start {
        if start % HUGE_PAGE_BYTES != 0 {
            warnings.push(format!(
                "member {member} ({}) starts at {start:#x}, not 2 MiB aligned: DAX falls back to 4 KiB page faults",
                ns.dev
            ));
        }
    }
    Ok(devnum)
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
fn linear(entry: &Entry, members: &[Resolved], devs: &[DevNum]) -> Result<Device, Reason> {
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
fn striped(
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

/// Namespace dev -> index of the first entry naming it: who claims each namespace, whether or
/// not that entry can be built.
/// Keyed by owned strings, as the parser's maps of names and mount points are keyed by
/// strings: the linker folds the hash table's code into theirs.
fn owners(entries: &[Entry], namespaces: &[Namespace]) -> HashMap<String, usize> {
    let mut owner: HashMap<String, usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        for member in entry.members() {
            for ns in candidates(member, namespaces) {
                owner.entry(ns.dev.clone()).or_insert(i);
            }
        }
    }
    owner
}

/// The linear or striped entry the block device `blockdev` (`pmem1`, `pmem0.1s`) is a member
/// of, by the claims [`plan_all`] uses: such a member holds, at its start, the start of that
/// entry's filesystem, which must not be taken for the filesystem itself.
pub fn dm_member_of<'a>(
    entries: &'a [Entry],
    namespaces: &[Namespace],
    blockdev: &str,
) -> Option<&'a Entry> {
    let ns = namespaces
        .iter()
        .find(|ns| ns.blockdev.as_deref() == Some(blockdev))?;
    let i = *owners(entries, namespaces).get(ns.dev.as_str())?;
    entries.get(i).filter(|e| e.layout().is_dm())
}

/// Plans every entry; a namespace claimed by an earlier entry refuses the later one.
///
/// Claims come from every member that resolves, whether or not its own entry can be built:
/// a stripe with one NVDIMM missing still owns the namespaces it has, so a later entry can
/// never take (and mkfs) the second chunk of that stripe. An ambiguous `name=` claims every
/// namespace it matches.
#[allow(clippy::result_large_err)]
pub fn plan_all(entries: &[Entry], namespaces: &[Namespace]) -> Vec<Result<Plan, Refusal>> {
    let owner = owners(entries, namespaces);
    entries
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let mut taken = Vec::new();
            for member in entry.members() {
                for ns in candidates(member, namespaces) {
                    let first = owner.get(ns.dev.as_str()).copied().unwrap_or(i);
                    if let Some(other) = entries.get(first).filter(|_| first < i) {
                        taken.push(Reason::UsedByOther {
                            member: member.clone(),
                            dev: ns.dev.clone(),
                            other: other.name.to_string(),
                            other_line: other.line,
                        });
                        break;
                    }
                }
            }
            let planned = plan(entry, namespaces);
            if taken.is_empty() {
                return planned;
            }
            // The entry's own problems with its other members too, in member order.
            let mut reasons = taken;
            if let Err(r) = planned {
                // A map of the type the clash check keeps: one copy of its code.
                let claimed: HashMap<Member, usize> = reasons
                    .iter()
                    .filter_map(Reason::member)
                    .map(|m| (m.clone(), 0))
                    .collect();
                reasons.extend(
                    r.reasons
                        .into_iter()
                        .filter(|x| !x.member().is_some_and(|m| claimed.contains_key(m))),
                );
            }
            // Sorted by where the member stands.
            let at = member_positions(entry);
            let position = |r: &Reason| {
                r.member()
                    .and_then(|m| at.get(m))
                    .copied()
                    .unwrap_or(usize::MAX)
            };
            reasons.sort_by_key(position);
            Err(Refusal {
                line: entry.line,
                name: entry.name.to_string(),
                reasons,
            })
        })
        .collect()
}
