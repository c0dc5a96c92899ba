//! Which device names pmemtab accepts. One rule for the parser, `check` and the generator:
//! a name becomes `/dev/mapper/<name>`, a dm name, a unit name and a command-line word of
//! `pmem-assemble up`/`down`, so it must be all of those and never read as anything else.
//! A [`Name`] is only made by that rule, so whoever holds one need not check it again.
//! (Whether the units named after it fit systemd's limit is the renderer's to say,
//! `units::check`.)

use super::columns::ColumnError;
use std::fmt;
use std::ops::Deref;

/// A device name that passed [`check`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    pub fn new(name: &str) -> Result<Name, NameError> {
        check(name)?;
        Ok(Name(name.to_string()))
    }

    /// The name column's rule, `text` as written there (`-` is no name), in the parser's
    /// words: for the parser and for tools that take a name on their command line.
    pub fn from_column(text: &str) -> Result<Name, ColumnError> {
        if matches!(text, "-" | "none") {
            return Err(NameError::Empty.explain(text));
        }
        Name::new(text).map_err(|e| e.explain(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.0
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        *self == other.0
    }
}

impl From<Name> for String {
    fn from(n: Name) -> String {
        n.0
    }
}

/// Longest device name device-mapper accepts (DM_NAME_LEN - 1).
pub const MAX_NAME_BYTES: usize = 127;

/// Why a name is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameError {
    Empty,
    /// `.`, `..`, `control`: taken by device-mapper.
    Reserved,
    /// Reads as an option (`-x`, `--all`) or as the `help` command of pmem-assemble.
    ReadsAsArgument,
    TooLong(usize),
    /// A character outside the allowed set, at this byte offset.
    BadChar(char, usize),
}

impl NameError {
    /// Why `name` is refused, in the words of the parser's diagnostics.
    pub fn explain(&self, name: &str) -> ColumnError {
        match self {
            NameError::Empty => ColumnError::new(
                "a device name is required",
                Some("the first column names /dev/mapper/<name>"),
            ),
            NameError::Reserved => ColumnError::new(
                format!("'{name}' cannot be a device name"),
                Some("device-mapper reserves '.', '..' and 'control'"),
            ),
            NameError::ReadsAsArgument => ColumnError::new(
                format!("'{name}' cannot be a device name: pmem-assemble would read it as an option or command"),
                Some("a name must not begin with '-' or be 'help'"),
            ),
            NameError::TooLong(len) => ColumnError::new(
                format!("device name is {len} bytes long, device-mapper allows at most {MAX_NAME_BYTES}"),
                None,
            ),
            NameError::BadChar(c, offset) => ColumnError {
                at: Some((*offset, c.len_utf8())),
                ..ColumnError::new(
                    format!("character {c:?} is not allowed in a device name"),
                    Some("use letters, digits and # + - . : = @ _ (characters udev and device-mapper keep as they are)"),
                )
            },
        }
    }
}

/// Letters, digits and `# + - . : = @ _`: what udev's dm rules and systemd leave unmangled,
/// so `/dev/mapper/<name>` and unit names stay predictable.
pub fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "#+-.:=@_".contains(c)
}

pub fn check(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if matches!(name, "." | ".." | "control") {
        return Err(NameError::Reserved);
    }
    // `--` ends options in every command line the generator writes, but an admin types
    // `pmem-assemble down NAME`: a name must never be taken for `--all` or `help` there.
    if name.starts_with('-') || name == "help" {
        return Err(NameError::ReadsAsArgument);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameError::TooLong(name.len()));
    }
    if let Some((at, c)) = name.char_indices().find(|&(_, c)| !allowed_char(c)) {
        return Err(NameError::BadChar(c, at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_made_by_the_rule_only() {
        assert_eq!(Name::new("fast").map(String::from), Ok("fast".to_string()));
        assert_eq!(Name::new("help"), Err(NameError::ReadsAsArgument));
        assert_eq!(
            Name::from_column("-").map_err(|e| e.message),
            Err("a device name is required".to_string())
        );
    }

    #[test]
    fn names() {
        for ok in ["fast", "a-b", "x:1", "db@2", "help2", "a--all", "H"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for arg in ["--all", "-x", "--timeout", "-", "--", "help"] {
            assert_eq!(check(arg), Err(NameError::ReadsAsArgument), "{arg}");
        }
        assert_eq!(check("control"), Err(NameError::Reserved));
        assert_eq!(check(""), Err(NameError::Empty));
        assert_eq!(check(&"a".repeat(128)), Err(NameError::TooLong(128)));
        assert_eq!(check(&"a".repeat(127)), Ok(()));
        assert_eq!(check("a/b"), Err(NameError::BadChar('/', 1)));
    }
}
