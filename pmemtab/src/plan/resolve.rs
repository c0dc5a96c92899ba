//! Which namespace each member of an entry names: one, none (missing, maybe still appearing)
//! or several (an ambiguous `name=`), and every member of an entry at once.

use super::eligible::{dax_member, kmem_member};
use super::{Reason, Refusal};
use crate::ns::{Namespace, Resolved};
use crate::tab::{Entry, EntryKind, Member};

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

/// Resolves every member of an entry and checks each with `check` (what its layout needs of
/// a namespace; it keeps what it finds of a good one); every bad member is reported, not only
/// the first. Not generic: one copy of this loop in the boot binary, whatever `check` keeps.
#[allow(clippy::result_large_err)]
pub(super) fn resolve_members(
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
