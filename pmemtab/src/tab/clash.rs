//! Entries that clash with an earlier one in the same file: the same name, a member
//! claimed twice, the same mount point. The first wins, as in crypttab.

use super::diagnostic::{Diagnostic, Severity};
use super::model::{Entry, Member};
use super::parse::{split_columns, Field};
use std::collections::HashMap;

/// Where each name, member and mount point was first used, so a clash is found in constant
/// time per entry (a scan of every earlier entry made parsing quadratic).
#[derive(Default)]
pub(super) struct Seen {
    names: HashMap<String, usize>,
    members: HashMap<Member, usize>,
    mount_points: HashMap<String, usize>,
}

impl Seen {
    pub(super) fn add(&mut self, entry: &Entry, index: usize) {
        self.names.entry(entry.name.clone()).or_insert(index);
        for m in &entry.members {
            self.members.entry(m.clone()).or_insert(index);
        }
        if let Some(mp) = &entry.mount_point {
            self.mount_points.entry(mp.clone()).or_insert(index);
        }
    }
}

/// An entry that clashes with an earlier one: same name, same member, same mount point.
/// The first wins, as in crypttab. The earliest clashing entry is reported, its name first.
pub(super) fn conflict(
    earlier: &[Entry],
    seen: &Seen,
    entry: &Entry,
    line: &str,
) -> Option<Diagnostic> {
    let by_name = seen.names.get(&entry.name).copied();
    let by_member = entry
        .members
        .iter()
        .filter_map(|m| seen.members.get(m).map(|&i| (i, m)))
        .min_by_key(|&(i, _)| i);
    let by_mount = entry
        .mount_point
        .as_ref()
        .and_then(|mp| seen.mount_points.get(mp))
        .copied();
    let first = [by_name, by_member.map(|(i, _)| i), by_mount]
        .into_iter()
        .flatten()
        .min()?;
    let e = earlier.get(first)?;
    let cols = split_columns(line);
    let diag = |col: usize, message: String, hint: String| {
        let f = cols.get(col).copied().unwrap_or(Field {
            text: " ",
            column: 1,
        });
        let width = f.text.chars().count().max(1);
        let (source_line, shown_from) = super::diagnostic::excerpt(line, f.column, width);
        Diagnostic {
            severity: Severity::Error,
            line: entry.line,
            column: f.column,
            message,
            source_line,
            shown_from,
            width,
            hint: Some(hint),
            entry: Some(entry.name.clone()),
        }
    };
    if by_name == Some(first) {
        return Some(diag(
            0,
            format!(
                "duplicate device name '{}' (first defined on line {}); this line is ignored",
                entry.name, e.line
            ),
            "give each device its own name".into(),
        ));
    }
    if let Some((_, m)) = by_member.filter(|&(i, _)| i == first) {
        return Some(diag(
            2,
            format!(
                "member {m} is already used by '{}' on line {}; this line is ignored",
                e.name, e.line
            ),
            "a namespace may belong to one entry only".into(),
        ));
    }
    Some(diag(
        3,
        format!(
            "mount point {} is already used by '{}' on line {}; this line is ignored",
            entry.mount_point.as_deref().unwrap_or(""),
            e.name,
            e.line
        ),
        "give each device its own mount point".into(),
    ))
}
