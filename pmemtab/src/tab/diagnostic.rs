//! A problem found in pmemtab, and how it is shown: with the line and the fault underlined
//! for a terminal, or in one line for a log.

use crate::text::shown_char;
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in the file, with its position and a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// 1-based line and column (column counted in characters); line 0 is the file itself.
    pub line: usize,
    pub column: usize,
    pub message: String,
    /// The offending line, for display: whole, or, for a very long line, the part around the
    /// fault (see `shown_from`).
    pub source_line: String,
    /// How many characters of the line come before `source_line` (0 when it is whole); `column`
    /// always counts from the start of the real line.
    pub shown_from: usize,
    /// How many characters from `column` are at fault (at least 1 when there is a line).
    pub width: usize,
    /// What was expected, or what to do.
    pub hint: Option<String>,
    /// The first column of the line (the entry's name as written), so that a command about
    /// one entry shows only that entry's problems; `None` for the file itself.
    pub entry: Option<String>,
}

impl Diagnostic {
    /// `path:line:col: error: message`, then the line with the fault underlined, then the
    /// hint. The first line alone is a complete message (for logs that keep only one line).
    /// Control characters from the file are shown escaped (`\r`, `\x1b`).
    pub fn render(&self, path: &str) -> String {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let message = crate::text::escape_control(&self.message);
        let mut out = if self.line == 0 {
            format!("{path}: {sev}: {message}")
        } else {
            format!("{path}:{}:{}: {sev}: {message}", self.line, self.column)
        };
        if self.line > 0 {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            // The line as shown (tabs as one space, other controls escaped), and where the
            // fault starts and ends in it.
            let (mut shown, mut start, mut end) = (String::new(), None, None);
            let first = self
                .column
                .saturating_sub(1)
                .saturating_sub(self.shown_from);
            let last = first + self.width.max(1);
            for (i, c) in self.source_line.chars().enumerate() {
                if i == first {
                    start = Some(shown.chars().count());
                }
                if i == last {
                    end = Some(shown.chars().count());
                }
                if c == '\t' {
                    shown.push(' ');
                } else {
                    shown_char(c, &mut shown);
                }
            }
            let len = shown.chars().count();
            let start = start.unwrap_or(len.max(first));
            let end = end.unwrap_or(len.max(start + 1)).max(start + 1);
            let _ = write!(out, "\n {num} | {shown}");
            let _ = write!(
                out,
                "\n {pad} | {}{}",
                " ".repeat(start),
                "^".repeat(end - start)
            );
        }
        if let Some(hint) = &self.hint {
            let _ = write!(out, "\n = {}", crate::text::escape_control(hint));
        }
        out
    }

    /// The first line of [`Diagnostic::render`] with the hint after a `; `: the whole message
    /// in one line, for logs.
    pub fn one_line(&self, path: &str) -> String {
        let full = self.render(path);
        let first = full.lines().next().unwrap_or_default().to_string();
        match &self.hint {
            Some(h) => format!("{first}; {}", crate::text::escape_control(h)),
            None => first,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Whether this diagnostic concerns the entry called `name` (or the whole file).
    pub fn concerns(&self, name: &str) -> bool {
        self.line == 0 || self.entry.as_deref() == Some(name)
    }
}

/// A pmemtab line as a diagnostic shows it: whole when it is short, else the part around the
/// fault, so that a line of thousands of members does not repeat itself in every message.
pub(crate) struct SourceWindow<'a> {
    text: &'a str,
    /// Byte offset of every character, computed once per line.
    starts: Vec<usize>,
}

/// What a diagnostic shows of `text` for a fault at `column`: (the shown text, characters cut
/// before it). For one diagnostic of a line; several share one [`SourceWindow`].
pub(crate) fn excerpt(text: &str, column: usize, width: usize) -> (String, usize) {
    SourceWindow::new(text).around(column, width)
}

/// A line up to this long is shown whole (four members by uuid and options fit).
const WHOLE_LINE_CHARS: usize = 320;
/// Characters shown on each side of the fault in a longer line.
const WINDOW_CHARS: usize = 100;

impl<'a> SourceWindow<'a> {
    pub(crate) fn new(text: &'a str) -> SourceWindow<'a> {
        SourceWindow {
            text,
            starts: text.char_indices().map(|(i, _)| i).collect(),
        }
    }

    /// The text to show, and how many characters of the line come before it (`...` stands
    /// for them; it is three of the shown characters).
    pub(crate) fn around(&self, column: usize, width: usize) -> (String, usize) {
        let n = self.starts.len();
        if n <= WHOLE_LINE_CHARS.max(2 * WINDOW_CHARS + width.max(1)) {
            return (self.text.to_string(), 0);
        }
        let at = column.saturating_sub(1).min(n);
        // Cut only more than the `...` that stands for the cut part takes.
        let from = match at.checked_sub(WINDOW_CHARS) {
            Some(f) if f > 3 => f,
            _ => 0,
        };
        let to = (at + width + WINDOW_CHARS).min(n);
        let byte = |c: usize| self.starts.get(c).copied().unwrap_or(self.text.len());
        let mut shown = String::new();
        let mut cut = from;
        if from > 0 {
            shown.push_str("...");
            cut -= 3;
        }
        shown.push_str(&self.text[byte(from)..byte(to)]);
        if to < n {
            shown.push_str("...");
        }
        (shown, cut)
    }
}
