//! Entries that clash with an earlier one in the same file: the same name, a member
//! claimed twice, the same mount point. The first wins, as in crypttab.

use super::columns::{split_columns, Field};
use super::diagnostic::{Diagnostic, Severity};
use super::model::{Entry, Member};
use super::mount_point::MountPoint;
use super::name::Name;
use std::collections::HashMap;

/// A file's entries, no two of which share a name, a member or a mount point. Only the parser
/// makes one, adding each entry through the clash check ([`Entries::add`]), so whoever holds
/// one need not look for duplicates again.
#[derive(Clone, Debug, Default)]
pub struct Entries {
    list: Vec<Entry>,
    seen: Seen,
}

impl Entries {
    /// Adds `entry`, read from `line`, unless it clashes with an entry already here: then
    /// the diagnostic saying so, and the entry is dropped (the first wins, as in crypttab).
    pub(super) fn add(&mut self, entry: Entry, line: &str) -> Option<Diagnostic> {
        if let Some(diag) = conflict(&self.list, &self.seen, &entry, line) {
            return Some(diag);
        }
        self.seen.add(&entry, self.list.len());
        self.list.push(entry);
        None
    }

    pub fn as_slice(&self) -> &[Entry] {
        &self.list
    }
}

impl PartialEq for Entries {
    fn eq(&self, other: &Entries) -> bool {
        self.list == other.list
    }
}

impl Eq for Entries {}

impl std::ops::Deref for Entries {
    type Target = [Entry];
    fn deref(&self) -> &[Entry] {
        &self.list
    }
}

impl IntoIterator for Entries {
    type Item = Entry;
    type IntoIter = std::vec::IntoIter<Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.into_iter()
    }
}

impl<'a> IntoIterator for &'a Entries {
    type Item = &'a Entry;
    type IntoIter = std::slice::Iter<'a, Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.list.iter()
    }
}

impl From<Entries> for Vec<Entry> {
    fn from(e: Entries) -> Vec<Entry> {
        e.list
    }
}

/// Where each name, member and mount point was first used, so a clash is found in constant
/// time per entry (a scan of every earlier entry made parsing quadratic).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Seen {
    names: HashMap<Name, usize>,
    members: HashMap<Member, usize>,
    mount_points: HashMap<MountPoint, usize>,
}

impl Seen {
    fn add(&mut self, entry: &Entry, index: usize) {
        self.names.entry(entry.name.clone()).or_insert(index);
        for m in entry.members() {
            self.members.entry(m.clone()).or_insert(index);
        }
        if let Some(mp) = entry.mount_point() {
            self.mount_points.entry(mp.clone()).or_insert(index);
        }
    }
}

/// What an entry shares with an earlier one, the first wins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clash {
    Name,
    Member(Member),
    MountPoint(MountPoint),
}

impl Seen {
    /// The earliest entry `entry` clashes with (its index) and how: by name first, then by
    /// member, then by mount point.
    fn first_clash(&self, entry: &Entry) -> Option<(usize, Clash)> {
        let by_name = self.names.get(&entry.name).copied();
        let by_member = entry
            .members()
            .iter()
            .filter_map(|m| self.members.get(m).map(|&i| (i, m)))
            .min_by_key(|&(i, _)| i);
        let by_mount = entry
            .mount_point()
            .and_then(|mp| self.mount_points.get(mp).map(|&i| (i, mp)));
        let first = [by_name, by_member.map(|(i, _)| i), by_mount.map(|(i, _)| i)]
            .into_iter()
            .flatten()
            .min()?;
        if by_name == Some(first) {
            return Some((first, Clash::Name));
        }
        if let Some((_, m)) = by_member.filter(|&(i, _)| i == first) {
            return Some((first, Clash::Member(m.clone())));
        }
        by_mount.map(|(i, mp)| (i, Clash::MountPoint(mp.clone())))
    }
}

/// Whether `entry`, added after `earlier`, would clash with one of them as the parser judges
/// a file: the index of the earliest it clashes with, and how.
pub fn clash(earlier: &[Entry], entry: &Entry) -> Option<(usize, Clash)> {
    let mut seen = Seen::default();
    for (i, e) in earlier.iter().enumerate() {
        seen.add(e, i);
    }
    seen.first_clash(entry)
}

/// An entry that clashes with an earlier one: same name, same member, same mount point.
/// The first wins, as in crypttab. The earliest clashing entry is reported, its name first.
fn conflict(earlier: &[Entry], seen: &Seen, entry: &Entry, line: &str) -> Option<Diagnostic> {
    let (first, how) = seen.first_clash(entry)?;
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
            entry: Some(entry.name.to_string()),
        }
    };
    Some(match how {
        Clash::Name => diag(
            0,
            format!(
                "duplicate device name '{}' (first defined on line {}); this line is ignored",
                entry.name, e.line
            ),
            "give each device its own name".into(),
        ),
        Clash::Member(m) => diag(
            2,
            format!(
                "member {m} is already used by '{}' on line {}; this line is ignored",
                e.name, e.line
            ),
            "a namespace or CXL device may belong to one entry only".into(),
        ),
        Clash::MountPoint(mp) => diag(
            3,
            format!(
                "mount point {mp} is already used by '{}' on line {}; this line is ignored",
                e.name, e.line
            ),
            "give each device its own mount point".into(),
        ),
    })
}
