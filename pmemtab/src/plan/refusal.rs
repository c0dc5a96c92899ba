//! Why an entry cannot be built: one [`Reason`] per bad member (or one for the whole entry),
//! its message and hint, and where in the entry's line each points.

use crate::ns::Mode;
use crate::size::human_bytes;
use crate::tab::{Diagnostic, Entry, Member, Severity};
use std::collections::HashMap;
use std::fmt;

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
pub(super) fn member_positions(entry: &Entry) -> HashMap<Member, usize> {
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
