//! A line's columns: whitespace-separated words with the character column each starts at, and
//! the options column split at its commas. Positions only; what a column means is the parser's.

use super::model::Span;
use nom::bytes::complete::take_while1;
use nom::sequence::preceded;
use nom::IResult;

/// A column's text and its 1-based character column.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    pub text: &'a str,
    pub column: usize,
}

impl<'a> Field<'a> {
    /// A part of this field starting `byte_offset` bytes in.
    pub fn sub(&self, byte_offset: usize, text: &'a str) -> Field<'a> {
        let prefix = self.text.get(..byte_offset).unwrap_or("");
        Field {
            text,
            column: self.column + prefix.chars().count(),
        }
    }
    pub fn is_empty_marker(&self) -> bool {
        matches!(self.text, "-" | "none")
    }
    pub fn span(&self) -> Span {
        Span {
            column: self.column,
            width: self.text.chars().count().max(1),
        }
    }
}

/// Splits a line into columns with their positions (nom: whitespace-separated words).
pub(super) fn split_columns(line: &str) -> Vec<Field<'_>> {
    fn word(i: &str) -> IResult<&str, &str> {
        preceded(take_while_ws, take_while1(|c: char| c != ' ' && c != '\t'))(i)
    }
    fn take_while_ws(i: &str) -> IResult<&str, &str> {
        nom::bytes::complete::take_while(|c: char| c == ' ' || c == '\t')(i)
    }
    let mut out = Vec::new();
    let mut rest = line;
    while let Ok((next, w)) = word(rest) {
        let byte_offset = line.len() - next.len() - w.len();
        let column = line.get(..byte_offset).map_or(1, |p| p.chars().count() + 1);
        out.push(Field { text: w, column });
        rest = next;
    }
    out
}

/// Splits on commas, honouring `\,` (and `\\`) escapes and, as mount(8) does, double quotes
/// (a comma inside `"..."` does not split; the quotes stay); yields each option with its byte
/// offset, its text as written and its decoded text.
pub fn split_options(text: &str) -> Vec<(usize, &str, String)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some((_, ',' | '\\'))) => {
                if let Some((_, next)) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => {
                out.push((start, &text[start..i], std::mem::take(&mut current)));
                start = i + 1;
            }
            _ => current.push(c),
        }
    }
    out.push((start, &text[start..], current));
    out
}

/// Why a value cannot stand in a column, in the parser's words: for the parser's diagnostics
/// and for tools that take the value on their own command line (pmemtab-memmap's `--name`,
/// `--mount`), so that both refuse the same values with the same reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnError {
    pub message: String,
    pub hint: Option<String>,
    /// The part at fault, as (byte offset, byte length), when it is not the whole value.
    pub at: Option<(usize, usize)>,
}

impl ColumnError {
    pub(super) fn new(message: impl Into<String>, hint: Option<&str>) -> ColumnError {
        ColumnError {
            message: message.into(),
            hint: hint.map(str::to_string),
            at: None,
        }
    }
}

/// What an optional column (mount point, fstype) holds once read.
pub(super) enum Cell<T> {
    /// No column, `-` or `none`.
    Blank,
    Given(T),
    /// Refused, with a diagnostic.
    Refused,
}
