//! Which entry owns each namespace: the first naming it, whether or not it can be built.

use super::refusal::member_positions;
use super::{candidates, plan, Plan, Reason, Refusal};
use crate::ns::Namespace;
use crate::tab::{Entry, Member};
use std::collections::HashMap;

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
