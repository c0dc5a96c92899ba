//! The kernel command line, read the way systemd reads it: words split on whitespace with
//! `"`/`'` quotes anywhere in a word, `-` and `_` equivalent in keys, `rd.` keys honoured only
//! in the initrd (and there with the prefix stripped), the last occurrence winning. The
//! generator reads it to know what to attach in the initrd, `pmem-assemble check` to report
//! what the generator would refuse.

use crate::tab::{Diagnostic, Entry, Severity};

/// What the generator takes from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    /// `pmemtab=` / `rd.pmemtab=`: `Some(false)` disables the generator.
    pub enabled: Option<bool>,
    /// `root=`: the device the initrd mounts as `/sysroot`.
    pub root: Option<String>,
    /// `mount.usr=`: the device the initrd mounts as `/sysroot/usr`.
    pub usr: Option<String>,
    /// Values that could not be read, for a warning: `(word, why)`.
    pub ignored: Vec<(String, &'static str)>,
}

impl Cmdline {
    /// The names `root=` and `mount.usr=` give as `/dev/mapper/<name>`, with the option.
    pub fn mapper_names(&self) -> Vec<(&'static str, &str)> {
        [("root", &self.root), ("mount.usr", &self.usr)]
            .into_iter()
            .filter_map(|(key, dev)| Some((key, mapper_name(dev.as_deref()?)?)))
            .collect()
    }
}

/// What `root=` and `mount.usr=` mean for pmemtab: the entries the initrd attaches
/// implicitly (as crypttab's root device), and the problems with the ones they name.
#[derive(Debug, Default)]
pub struct BootDevices<'a> {
    /// Names of entries `root=`/`mount.usr=` name as `/dev/mapper/<name>` that can be
    /// that device.
    pub names: Vec<&'a str>,
    /// `/dev/mapper/<name>` names that no entry defines (left to others).
    pub foreign: Vec<&'a str>,
    /// An entry named there that never gets a `/dev/mapper/` device (a `single` entry):
    /// the initrd would wait for it in vain. It is not attached implicitly.
    pub problems: Vec<Diagnostic>,
}

/// One rule for the generator and `pmem-assemble check`: which entries the boot devices
/// name, and which cannot be named so.
pub fn boot_devices<'a>(entries: &'a [Entry], cmdline: &'a Cmdline) -> BootDevices<'a> {
    let mut out = BootDevices::default();
    for (key, name) in cmdline.mapper_names() {
        let Some(e) = entries.iter().find(|e| e.name == name) else {
            out.foreign.push(name);
            continue;
        };
        if e.layout.is_dm() {
            if !out.names.contains(&e.name.as_str()) {
                out.names.push(&e.name);
            }
            continue;
        }
        let (source_line, shown_from) = crate::tab::diagnostic::excerpt(
            &e.source.text,
            e.source.name.column,
            e.source.name.width,
        );
        out.problems.push(Diagnostic {
            severity: Severity::Error,
            line: e.line,
            column: e.source.name.column,
            message: format!(
                "{key}=/dev/mapper/{name} names '{name}', a {} entry, which has no device-mapper device: the initrd would wait for /dev/mapper/{name} in vain",
                e.layout
            ),
            source_line,
            shown_from,
            width: e.source.name.width,
            hint: Some(format!(
                "make '{name}' a linear entry (one member is enough) to get /dev/mapper/{name}"
            )),
            entry: Some(e.name.clone()),
        });
    }
    out
}

/// `/dev/mapper/NAME` → `NAME` (the dm name, which cannot contain `/`).
pub fn mapper_name(dev: &str) -> Option<&str> {
    let name = dev.strip_prefix("/dev/mapper/")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// Splits the command line into words as systemd does (`EXTRACT_UNQUOTE|EXTRACT_RELAX`):
/// quotes group whitespace and are removed; an unterminated quote runs to the end.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                in_word = true;
            }
            None if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// systemd's `parse_boolean`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// Keys compare with `-` and `_` as the same character (systemd's `proc_cmdline_key_streq`).
fn key_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (matches!(x, b'-' | b'_') && matches!(y, b'-' | b'_')))
}

/// Reads the options pmemtab cares about. Outside the initrd every `rd.` key is ignored.
pub fn parse(text: &str, in_initrd: bool) -> Cmdline {
    let mut out = Cmdline::default();
    for word in words(text) {
        let (key, value) = match word.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (word.as_str(), None),
        };
        // Only pmemtab's own switch has an `rd.` form; root= and mount.usr= have none.
        let enable_key = match key.strip_prefix("rd.") {
            Some(stripped) => in_initrd && key_eq(stripped, "pmemtab"),
            None => key_eq(key, "pmemtab"),
        };
        if enable_key {
            // A bare `pmemtab` means enabled, as a bare `luks` does for cryptsetup.
            match value.map_or(Some(true), parse_bool) {
                Some(b) => out.enabled = Some(b),
                None => out.ignored.push((word.clone(), "not a boolean")),
            }
        } else if key_eq(key, "root") {
            if let Some(v) = value {
                out.root = Some(v.to_string());
            }
        } else if key_eq(key, "mount.usr") {
            if let Some(v) = value {
                out.usr = Some(v.to_string());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_systemd_quoting() {
        assert_eq!(words("  a  b\tc\n"), ["a", "b", "c"]);
        assert_eq!(words(r#"x="a b" 'c d'e f"#), ["x=a b", "c de", "f"]);
        assert_eq!(words(r#"x="open"#), ["x=open"]);
        assert_eq!(words(r#"a "" b"#), ["a", "", "b"]);
        assert!(words("   ").is_empty());
    }

    #[test]
    fn enable_switches() {
        assert_eq!(parse("quiet pmemtab=0", false).enabled, Some(false));
        assert_eq!(parse("pmemtab=off pmemtab=yes", false).enabled, Some(true));
        assert_eq!(parse("pmemtab", false).enabled, Some(true));
        assert_eq!(parse("", false).enabled, None);
        let bad = parse("pmemtab=maybe", false);
        assert_eq!(bad.enabled, None);
        assert_eq!(bad.ignored.len(), 1);
    }

    #[test]
    fn rd_options_apply_only_in_the_initrd() {
        assert_eq!(parse("rd.pmemtab=0", false).enabled, None);
        assert_eq!(parse("rd.pmemtab=0", true).enabled, Some(false));
        // Last wins, as systemd processes the words in order.
        assert_eq!(parse("rd.pmemtab=0 pmemtab=1", true).enabled, Some(true));
        assert_eq!(parse("pmemtab=1 rd.pmemtab=0", true).enabled, Some(false));
        assert_eq!(parse("pmemtab=0 rd.pmemtab=1", false).enabled, Some(false));
    }

    #[test]
    fn root_and_usr() {
        let c = parse(
            "ro root=/dev/mapper/pm-root rootfstype=ext4 mount.usr=/dev/mapper/u",
            true,
        );
        assert_eq!(c.mapper_names(), [("root", "pm-root"), ("mount.usr", "u")]);
        assert!(parse("root=UUID=1234", true).mapper_names().is_empty());
        assert!(parse("root=/dev/mapper/", true).mapper_names().is_empty());
        assert_eq!(
            parse("root=/dev/mapper/a root=/dev/mapper/b", true).mapper_names(),
            [("root", "b")]
        );
        assert_eq!(
            parse("mount.usr=/dev/mapper/x", false).usr.as_deref(),
            Some("/dev/mapper/x")
        );
        assert_eq!(parse("mount_usr=/dev/mapper/x", false).usr, None);
        assert_eq!(parse("rd.root=/dev/mapper/x", true).root, None);
    }

    #[test]
    fn a_single_entry_cannot_be_the_root_device() {
        let parsed =
            crate::tab::parse("r linear name=a /\nu single name=b /usr\nx linear name=c\n");
        let cmd = parse("root=/dev/mapper/r mount.usr=/dev/mapper/u rd.x", true);
        let boot = boot_devices(&parsed.entries, &cmd);
        assert_eq!(boot.names, ["r"]);
        assert_eq!(boot.problems.len(), 1);
        assert_eq!(boot.problems[0].line, 2);
        assert!(
            boot.problems[0]
                .message
                .starts_with("mount.usr=/dev/mapper/u names 'u', a single entry"),
            "{:?}",
            boot.problems[0]
        );
        let other = parse("root=/dev/mapper/elsewhere", true);
        assert_eq!(boot_devices(&parsed.entries, &other).foreign, ["elsewhere"]);
    }
}
