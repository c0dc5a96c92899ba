//! One line being parsed: its text, and the diagnostics its columns' rules report against it.

use super::columns::Field;
use super::diagnostic::{Diagnostic, Severity, SourceWindow};

/// What to do about a diagnostic, if the message does not say.
type Hint = Option<String>;

/// Per-line state: where we are and what went wrong.
pub(super) struct LineCtx<'a> {
    pub(super) number: usize,
    pub(super) text: &'a str,
    /// What each diagnostic shows of the line: a window around the fault of a long line, so
    /// that a line of thousands of bad members does not repeat itself in every message.
    pub(super) window: SourceWindow<'a>,
    /// The line's first word, for [`Diagnostic::entry`].
    pub(super) entry: Option<String>,
    pub(super) diags: Vec<Diagnostic>,
}

impl LineCtx<'_> {
    pub(super) fn report(
        &mut self,
        severity: Severity,
        field: &Field,
        message: String,
        hint: Option<String>,
    ) {
        let width = field.text.chars().count().max(1);
        let (source_line, shown_from) = self.window.around(field.column, width);
        self.diags.push(Diagnostic {
            severity,
            line: self.number,
            column: field.column,
            message,
            source_line,
            shown_from,
            width,
            hint,
            entry: self.entry.clone(),
        });
    }
    pub(super) fn error(&mut self, f: &Field, message: impl Into<String>, hint: impl Into<Hint>) {
        self.report(Severity::Error, f, message.into(), hint.into());
    }
    pub(super) fn warn(&mut self, f: &Field, message: impl Into<String>, hint: impl Into<Hint>) {
        self.report(Severity::Warning, f, message.into(), hint.into());
    }
}
