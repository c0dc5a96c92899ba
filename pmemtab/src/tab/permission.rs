//! Who may write pmemtab: it decides what is mounted where at boot, so a file anyone but root
//! can write is warned about.

use super::diagnostic::{Diagnostic, Severity};
use std::path::Path;

/// The warning for `path` when anyone but root can write it; `None` when only root can (or
/// it cannot be examined: reading it reports that).
pub(super) fn check(path: &Path) -> Option<Diagnostic> {
    let meta = std::fs::metadata(path).ok()?;
    let who = writable_by_non_root(&meta)?;
    Some(Diagnostic {
        severity: Severity::Warning,
        line: 0,
        column: 0,
        message: format!("writable by {who}; it decides what is mounted where at boot"),
        source_line: String::new(),
        shown_from: 0,
        width: 0,
        hint: Some(format!(
            "chown root:root {0} && chmod 644 {0}",
            path.display()
        )),
        entry: None,
    })
}

/// Who besides root may write the file, if anyone.
fn writable_by_non_root(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    if mode & 0o002 != 0 {
        Some("everyone".into())
    } else if mode & 0o020 != 0 && meta.gid() != 0 {
        Some(format!("group {}", meta.gid()))
    } else if mode & 0o200 != 0 && meta.uid() != 0 {
        Some(format!("user {}", meta.uid()))
    } else {
        None
    }
}
