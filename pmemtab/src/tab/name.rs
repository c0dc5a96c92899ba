//! Which device names pmemtab accepts. One rule for the parser, `check` and the generator:
//! a name becomes `/dev/mapper/<name>`, a dm name, a unit name and a command-line word of
//! `pmem-assemble up`/`down`, so it must be all of those and never read as anything else,
//! and every unit name systemd derives from it must fit its 255-byte limit.

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
    /// A unit name made from it (escaped as systemd does) would exceed 255 bytes.
    UnitTooLong(String),
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
    if let Some(long) = crate::systemd::name_too_long(name) {
        return Err(NameError::UnitTooLong(long.name));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // 127 bytes, but escaped for systemd far beyond 255.
        let dashes = format!("a{}", "-".repeat(126));
        assert!(matches!(check(&dashes), Err(NameError::UnitTooLong(_))));
    }
}
