//! systemd's rules for what pmemtab content becomes in units: unit-name escaping (as
//! `systemd-escape`, `systemd-escape --path`), the 255-byte name limit, which values a unit
//! file can hold, dependency names as fstab-generator mangles them, and the names of every
//! unit pmemtab derives from an entry. Which of those units an entry gets, and so which limits
//! it must meet, is the renderer's (`units`), which the parser asks.

/// systemd's limit on a unit name (UNIT_NAME_MAX - 1 for the NUL).
pub const UNIT_NAME_MAX: usize = 255;

/// The longest directory the generator makes beside a unit, `<unit>.requires/` (`.wants/` and
/// `.d/` are shorter): with it, a unit name must still fit a file name (NAME_MAX, 255 bytes).
pub const LONGEST_UNIT_DIR_SUFFIX: &str = ".requires";

/// How long a unit name pmemtab derives may be: systemd would take up to 255 bytes, but the
/// generator could not write `<unit>.requires/` for it.
pub const DERIVED_UNIT_MAX: usize = UNIT_NAME_MAX - LONGEST_UNIT_DIR_SUFFIX.len();

/// Bytes systemd keeps as they are in a unit name (`VALID_CHARS` minus `-` and `\`,
/// which it must escape to stay reversible).
fn keep(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'.')
}

/// `systemd-escape STRING`: `/` → `-`, a leading `.` and every byte outside
/// `[A-Za-z0-9:_.]` → `\xNN` (lower-case hex, per UTF-8 byte).
pub fn escape(s: &str) -> String {
    escape_from(s, true)
}

/// [`escape`] of a path component that does not start the escaped string (a leading `.`
/// is kept there, as `systemd-escape --path /dev/mapper/.x` keeps it).
fn escape_component(s: &str) -> String {
    escape_from(s, false)
}

fn escape_from(s: &str, first: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b == b'/' {
            out.push('-');
        } else if (first && i == 0 && b == b'.') || !keep(b) {
            push_hex(&mut out, b);
        } else {
            out.push(b as char);
        }
    }
    out
}

/// `\xNN` for one byte.
pub fn push_hex(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('\\');
    out.push('x');
    out.push(HEX[usize::from(b >> 4)] as char);
    out.push(HEX[usize::from(b & 15)] as char);
}

/// Why a path cannot become a unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("'{0}' is not an absolute path")]
    NotAbsolute(String),
    #[error("'{0}' contains a '..' component")]
    NotNormalized(String),
}

/// The path as systemd simplifies it before escaping: duplicate `/`, `.` components and
/// trailing `/` removed. Refuses relative paths and `..`, as `systemd-escape --path` does.
pub fn simplify_path(path: &str) -> Result<String, PathError> {
    if !path.starts_with('/') {
        return Err(PathError::NotAbsolute(path.to_string()));
    }
    let mut out = String::with_capacity(path.len());
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(PathError::NotNormalized(path.to_string())),
            p => {
                out.push('/');
                out.push_str(p);
            }
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    Ok(out)
}

/// `systemd-escape --path PATH`: the simplified path without its leading `/`, escaped;
/// the root directory is `-`.
pub fn escape_path(path: &str) -> Result<String, PathError> {
    let simple = simplify_path(path)?;
    if simple == "/" {
        return Ok("-".to_string());
    }
    Ok(escape(&simple[1..]))
}

/// A unit name longer than systemd accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unit name {} is {} bytes long, more than the {DERIVED_UNIT_MAX} that leave room for its '{LONGEST_UNIT_DIR_SUFFIX}' directory in a 255-byte file name", shortened(name), name.len())]
pub struct TooLong {
    pub name: String,
}

/// A long (ASCII) unit name cut in the middle for a message.
pub fn shortened(name: &str) -> String {
    match (name.get(..32), name.get(name.len().saturating_sub(24)..)) {
        (Some(head), Some(tail)) if name.len() > 64 => format!("{head}...{tail}"),
        _ => name.to_string(),
    }
}

/// A unit name checked against the length limit of the names pmemtab derives.
pub fn checked(name: String) -> Result<String, TooLong> {
    if name.len() > DERIVED_UNIT_MAX {
        Err(TooLong { name })
    } else {
        Ok(name)
    }
}

/// Why a value cannot be written into a setting that systemd does not unescape
/// (`What=`, `Where=`, `Options=`, `SourcePath=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("contains a control character (newline, tab, ...)")]
    Control,
    #[error("ends with whitespace or a backslash, which a unit file cannot hold")]
    BadEnd,
    #[error("starts with whitespace, which a unit file cannot hold")]
    BadStart,
}

/// Whether a unit file can hold `s` as a raw value: such settings cannot carry a newline,
/// and the unit-file reader strips surrounding whitespace and treats a trailing `\` as a line
/// continuation.
pub fn check_value(s: &str) -> Result<(), ValueError> {
    if s.chars().any(char::is_control) {
        return Err(ValueError::Control);
    }
    if s.starts_with(char::is_whitespace) {
        return Err(ValueError::BadStart);
    }
    if s.ends_with(char::is_whitespace) || s.ends_with('\\') {
        return Err(ValueError::BadEnd);
    }
    Ok(())
}

/// Unit types systemd knows (the suffixes a unit name may end with).
const UNIT_TYPES: &[&str] = &[
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// Characters of a unit name besides `@` (`VALID_CHARS`).
fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\')
}

/// `unit_name_is_valid(name, UNIT_NAME_ANY)`: a plain, template or instance name with a
/// known type suffix, at most 255 bytes.
pub fn is_unit_name(name: &str) -> bool {
    if name.is_empty() || name.len() > UNIT_NAME_MAX {
        return false;
    }
    let Some((stem, suffix)) = name.rsplit_once('.') else {
        return false;
    };
    if stem.is_empty() || !UNIT_TYPES.contains(&suffix) {
        return false;
    }
    if !stem.chars().all(|c| c == '@' || valid_char(c)) {
        return false;
    }
    !stem.starts_with('@')
}

/// Why a dependency named in an option cannot become a unit name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MangleError {
    #[error("'{0}' cannot be made a unit name")]
    Invalid(String),
}

/// A unit named in `x-systemd.requires=` and its kin, as fstab-generator reads it
/// (`unit_name_mangle_with_suffix(…, ".mount")`): a unit name as it is; a path under `/dev/`
/// or `/sys/` its `.device`, another absolute path its `.mount`; anything else with `/`
/// turned into `-`, other characters systemd does not allow escaped, and `.mount` added when
/// it has no unit type.
pub fn mangle_dependency(s: &str) -> Result<String, MangleError> {
    let invalid = || MangleError::Invalid(s.to_string());
    if is_unit_name(s) {
        return Ok(s.to_string());
    }
    if s.starts_with('/') {
        let suffix = if s.starts_with("/dev/") || s.starts_with("/sys/") {
            ".device"
        } else {
            ".mount"
        };
        let esc = escape_path(s).map_err(|_| invalid())?;
        let name = format!("{esc}{suffix}");
        return if is_unit_name(&name) {
            Ok(name)
        } else {
            Err(invalid())
        };
    }
    let mut out = String::with_capacity(s.len() + 6);
    for c in s.chars() {
        if c == '/' {
            out.push('-');
        } else if c == '@' || valid_char(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for &b in c.encode_utf8(&mut buf).as_bytes() {
                push_hex(&mut out, b);
            }
        }
    }
    let typed = out
        .rsplit_once('.')
        .is_some_and(|(_, t)| UNIT_TYPES.contains(&t));
    if !typed {
        out.push_str(".mount");
    }
    if is_unit_name(&out) {
        Ok(out)
    } else {
        Err(invalid())
    }
}

/// `pmem-assemble@<name>.service`: sets the entry's device up and takes it down.
pub fn service_unit(name: &str) -> String {
    format!("pmem-assemble@{}.service", escape(name))
}

/// `pmem-assemble-dax@<name>.service`: checks after the mount that DAX is on.
pub fn dax_check_unit(name: &str) -> String {
    format!("pmem-assemble-dax@{}.service", escape(name))
}

/// `dev-mapper-<name>.device` (the escaped path `/dev/mapper/<name>`; a dm name has no `/`).
pub fn device_unit(name: &str) -> String {
    format!("dev-mapper-{}.device", escape_component(name))
}

/// `blockdev@dev-mapper-<name>.target`, which orders a block device's set-up before its
/// mounts and its tear-down after them.
pub fn blockdev_target(name: &str) -> String {
    format!("blockdev@dev-mapper-{}.target", escape_component(name))
}

/// Why a mount point cannot have its unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MountUnitError {
    #[error(transparent)]
    Path(#[from] PathError),
    #[error(transparent)]
    TooLong(#[from] TooLong),
}

/// `<escaped where>.mount` (or `.automount` with `suffix`), checked for length.
pub fn mount_unit(where_: &str, suffix: &str) -> Result<String, MountUnitError> {
    Ok(checked(format!("{}.{suffix}", escape_path(where_)?))?)
}

/// Where a mount point is mounted in the initrd: below `/sysroot`.
pub fn in_sysroot(mount_point: &str) -> String {
    if mount_point == "/" {
        "/sysroot".to_string()
    } else {
        format!("/sysroot{mount_point}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_names() {
        assert_eq!(escape("a-b"), "a\\x2db");
        assert_eq!(escape(".foo.bar"), "\\x2efoo.bar");
        assert_eq!(escape("x%y z"), "x\\x25y\\x20z");
        assert_eq!(escape("é"), "\\xc3\\xa9");
        assert_eq!(escape("a\\b"), "a\\x5cb");
        assert_eq!(escape("a/b"), "a-b");
    }

    #[test]
    fn paths() {
        assert_eq!(escape_path("/").unwrap(), "-");
        assert_eq!(escape_path("//mnt//a.b/").unwrap(), "mnt-a.b");
        assert_eq!(escape_path("/mnt/./x-y").unwrap(), "mnt-x\\x2dy");
        assert_eq!(escape_path("/.hidden/x").unwrap(), "\\x2ehidden-x");
        assert!(matches!(
            escape_path("/a/../b"),
            Err(PathError::NotNormalized(_))
        ));
        assert!(matches!(escape_path("rel"), Err(PathError::NotAbsolute(_))));
    }

    #[test]
    fn values() {
        assert_eq!(check_value("/mnt/50% full"), Ok(()));
        assert_eq!(check_value("a\nb"), Err(ValueError::Control));
        assert_eq!(check_value("a\rb"), Err(ValueError::Control));
        assert_eq!(check_value("/mnt/x\\"), Err(ValueError::BadEnd));
        assert_eq!(check_value("/mnt/x "), Err(ValueError::BadEnd));
        assert_eq!(check_value(" x"), Err(ValueError::BadStart));
        assert_eq!(check_value("/mnt/a\\b"), Ok(()));
    }

    #[test]
    fn entry_units() {
        assert_eq!(device_unit(".hidden"), "dev-mapper-.hidden.device");
        assert_eq!(
            device_unit(".hidden"),
            format!("{}.device", escape_path("/dev/mapper/.hidden").unwrap())
        );
        assert_eq!(blockdev_target("a-b"), "blockdev@dev-mapper-a\\x2db.target");
        assert_eq!(service_unit(".hidden"), "pmem-assemble@\\x2ehidden.service");
        assert_eq!(dax_check_unit("x"), "pmem-assemble-dax@x.service");
    }

    #[test]
    fn length_limit() {
        // The generator writes <unit>.requires/: 246 + 9 bytes is the longest file name.
        assert!(checked("a".repeat(246)).is_ok());
        assert!(checked("a".repeat(247)).is_err());
    }

    #[test]
    fn dependencies_mangle_as_fstab_generator_does() {
        for (given, want) in [
            ("foo.service", "foo.service"),
            ("getty@tty1.service", "getty@tty1.service"),
            ("foo", "foo.mount"),
            ("/srv/data", "srv-data.mount"),
            ("/dev/disk/by-label/x", "dev-disk-by\\x2dlabel-x.device"),
            ("a b", "a\\x20b.mount"),
            ("x/y.target", "x-y.target"),
        ] {
            assert_eq!(mangle_dependency(given).as_deref(), Ok(want), "{given}");
        }
        assert!(mangle_dependency("@x.service").is_err());
        assert!(mangle_dependency("/a/../b").is_err());
        assert!(mangle_dependency(&"a".repeat(300)).is_err());
        assert!(is_unit_name("a@.service") && !is_unit_name("a.nothing"));
    }
}
