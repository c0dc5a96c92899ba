//! The kernel command line, read the way systemd reads it: bytes (a word that is not UTF-8 and
//! is not one of ours costs nothing), words split on blanks with `"`/`'` quotes anywhere in a
//! word, `-` and `_` equivalent in keys, `rd.` keys honoured only in the initrd (and there with
//! the prefix stripped), the last `root=`/`mount.usr=` winning and every `rootflags=`/
//! `mount.usrflags=` joined with commas, as systemd-fstab-generator joins them. The generator
//! reads it to know what to attach in the initrd, `pmem-assemble check` to report what the
//! generator would refuse.

use crate::tab::{Diagnostic, Entry, Severity};

/// What the generator takes from the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cmdline {
    /// `pmemtab=` / `rd.pmemtab=`: `Some(false)` disables the generator.
    pub enabled: Option<bool>,
    /// `root=`: the device the initrd mounts as `/sysroot`; an empty `root=` names none, as
    /// for systemd. Bytes that are not UTF-8 read as U+FFFD: such a value names no entry.
    pub root: Option<String>,
    /// `mount.usr=`: the device the initrd mounts as `/sysroot/usr` (empty: none).
    pub usr: Option<String>,
    /// `rootflags=` and `mount.usrflags=`: the options those are mounted with, every
    /// occurrence joined with commas.
    pub rootflags: Option<String>,
    pub usrflags: Option<String>,
    /// Values that could not be read, for a warning: `(word, why)`.
    pub ignored: Vec<(String, &'static str)>,
}

/// What `root=` and `mount.usr=` mean for pmemtab: the entries the initrd attaches
/// implicitly (as crypttab's root device), and the problems with the ones they name.
#[derive(Debug, Default)]
pub struct BootDevices<'a> {
    /// Entries the boot needs from the initrd, attached without `x-initrd.attach`: those
    /// `root=`/`mount.usr=` name as `/dev/mapper/<name>` (and can be that device), and every
    /// entry whose mount point is `/` or `/usr`, whatever form `root=` takes (`root=UUID=`,
    /// which update-grub writes, names no entry but may well be this one's filesystem).
    pub names: Vec<&'a str>,
    /// Of those, the ones mounted in the initrd by whoever reads `root=`/`mount.usr=`
    /// (fstab-generator), so never by pmemtab there: the ones named, and a `/usr` entry
    /// when `mount.usr=` is given in any form.
    pub mounted_by_cmdline: Vec<&'a str>,
    /// `/dev/mapper/<name>` names that no entry defines (left to others).
    pub foreign: Vec<&'a str>,
    /// Errors (an entry named there that never gets a `/dev/mapper/` device: the initrd
    /// would wait for it in vain; it is not attached implicitly) and warnings (a `/` or
    /// `/usr` entry while the command line names another device, or nothing).
    pub problems: Vec<Diagnostic>,
}

/// What a `root=`/`mount.usr=` value names, as far as the generator can tell without
/// probing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BootName<'a> {
    /// `/dev/mapper/NAME` (however many slashes) or `/dev/disk/by-id/dm-name-NAME`.
    Mapper(&'a str),
    /// `UUID=`, `LABEL=`, `PARTUUID=`, `/dev/disk/by-uuid/...`, `/dev/dm-N`...: maybe one
    /// of ours, known only once the devices exist.
    Unknown,
    /// Another device: a `/dev` path that is not device-mapper's.
    Other,
}

/// Classifies a `root=`/`mount.usr=` value.
pub fn boot_name(dev: &str) -> BootName<'_> {
    let Some(rest) = dev.strip_prefix("/dev/") else {
        return BootName::Unknown;
    };
    let rest = rest.trim_start_matches('/');
    if let Some(name) = rest
        .strip_prefix("mapper/")
        .map(|n| n.trim_start_matches('/'))
        .or_else(|| rest.strip_prefix("disk/by-id/dm-name-"))
    {
        if !name.is_empty() && !name.contains('/') {
            return BootName::Mapper(name);
        }
        return BootName::Other;
    }
    if rest.starts_with("disk/") || rest.starts_with("dm-") || rest.starts_with("block/") {
        BootName::Unknown
    } else {
        BootName::Other
    }
}

/// A diagnostic at an entry's name column.
fn at_name(e: &Entry, severity: Severity, message: String, hint: String) -> Diagnostic {
    let (source_line, shown_from) =
        crate::tab::diagnostic::excerpt(&e.source.text, e.source.name.column, e.source.name.width);
    Diagnostic {
        severity,
        line: e.line,
        column: e.source.name.column,
        message,
        source_line,
        shown_from,
        width: e.source.name.width,
        hint: Some(hint),
        entry: Some(e.name.to_string()),
    }
}

/// One rule for the generator and `pmem-assemble check`: which entries the boot needs from
/// the initrd, who mounts them there, and which cannot be named as they are.
pub fn boot_devices<'a>(entries: &'a [Entry], cmdline: &'a Cmdline) -> BootDevices<'a> {
    let mut out = BootDevices::default();
    let add = |list: &mut Vec<&'a str>, name: &'a str| {
        if !list.contains(&name) {
            list.push(name);
        }
    };
    for (key, dev) in [("root", &cmdline.root), ("mount.usr", &cmdline.usr)] {
        let Some(BootName::Mapper(name)) = dev.as_deref().map(boot_name) else {
            continue;
        };
        let Some(e) = entries.iter().find(|e| e.name == name) else {
            out.foreign.push(name);
            continue;
        };
        if e.layout().is_dm() {
            add(&mut out.names, &e.name);
            add(&mut out.mounted_by_cmdline, &e.name);
            continue;
        }
        out.problems.push(at_name(
            e,
            Severity::Error,
            format!(
                "{key}={} names '{name}', a {} entry, which has no device-mapper device: the initrd would wait for /dev/mapper/{name} in vain",
                dev.as_deref().unwrap_or_default(),
                e.layout()
            ),
            format!("make '{name}' a linear entry (one member is enough) to get /dev/mapper/{name}, or name its filesystem: {key}=UUID=..."),
        ));
    }
    // The entries pmemtab itself declares as / or /usr.
    for e in entries {
        let Some(mp) = e.mount_point().map(|m| m.as_str()) else {
            continue;
        };
        let (key, dev, flags, what) = match mp {
            "/" => ("root", cmdline.root.as_deref(), &cmdline.rootflags, "/"),
            "/usr" => (
                "mount.usr",
                cmdline.usr.as_deref(),
                &cmdline.usrflags,
                "/usr",
            ),
            _ => continue,
        };
        if out.problems.iter().any(|d| d.line == e.line) {
            continue;
        }
        add(&mut out.names, &e.name);
        let other = match dev.map(boot_name) {
            Some(BootName::Mapper(n)) if n == e.name => None,
            Some(BootName::Mapper(_) | BootName::Other) => dev,
            Some(BootName::Unknown) => {
                if what == "/usr" {
                    add(&mut out.mounted_by_cmdline, &e.name);
                }
                None
            }
            // No root=: nothing mounts /sysroot. No mount.usr=: pmemtab mounts /sysroot/usr.
            None if what == "/" => Some(""),
            None => None,
        };
        // Mounted from the command line: its options are rootflags=, and a DAX entry
        // without dax there is a filesystem on pmem mounted without DAX.
        let flagged = |f: &str| f.split(',').any(|o| o == "dax" || o == "dax=always");
        if other.is_none()
            && dev.is_some()
            && e.dax_want() == crate::tab::DaxWant::Always
            && !flags.as_deref().is_some_and(flagged)
        {
            let fk = if what == "/" {
                "rootflags"
            } else {
                "mount.usrflags"
            };
            out.problems.push(at_name(
                e,
                Severity::Warning,
                format!(
                    "'{}' is {what} with DAX, but the kernel command line mounts {what} without {fk}=dax: it would be mounted without DAX",
                    e.name
                ),
                format!("add {fk}=dax to the kernel command line (with GRUB: GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub)"),
            ));
        }
        let Some(other) = other else { continue };
        if what == "/usr" {
            add(&mut out.mounted_by_cmdline, &e.name);
        }
        let said = if other.is_empty() {
            format!("the kernel command line has no {key}=")
        } else {
            format!("{key}={other} names another device")
        };
        out.problems.push(at_name(
            e,
            Severity::Warning,
            format!(
                "'{}' is {what} here, but {said}: the initrd attaches '{}' all the same, and the kernel command line decides what is mounted as {what}",
                e.name, e.name
            ),
            format!(
                "write {key}=/dev/mapper/{} (or {key}=UUID= of its filesystem, as update-grub does), or give '{}' another mount point",
                e.name, e.name
            ),
        ));
    }
    out
}

/// systemd's `WHITESPACE`, what the command line splits on.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// Splits the command line into words as systemd does (`EXTRACT_UNQUOTE|EXTRACT_RELAX`), as
/// bytes: quotes group blanks and are removed; an unterminated quote runs to the end.
pub fn words(text: impl AsRef<[u8]>) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut word = Vec::new();
    let mut in_word = false;
    let mut quote: Option<u8> = None;
    for &b in text.as_ref() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => word.push(b),
            None if b == b'"' || b == b'\'' => {
                quote = Some(b);
                in_word = true;
            }
            None if is_blank(b) => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            None => {
                word.push(b);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(word);
    }
    out
}

/// Whether this runs in an initrd, which decides whether `rd.` keys count: `in_initrd_env`
/// (`SYSTEMD_IN_INITRD`, systemd's override) when set, else `/etc/initrd-release` under `root`
/// (systemd's and dracut's mark), else `root_in_memory`, for initrds that write no such file
/// (initramfs-tools: the root is the initramfs itself, in RAM). `Err` names a value of the
/// override that is not a boolean.
pub fn in_initrd(
    in_initrd_env: Option<&std::ffi::OsStr>,
    root: &std::path::Path,
    root_in_memory: impl FnOnce() -> bool,
) -> Result<bool, String> {
    if let Some(v) = in_initrd_env {
        use std::os::unix::ffi::OsStrExt;
        return parse_bool(v.as_bytes()).ok_or_else(|| v.to_string_lossy().into_owned());
    }
    Ok(root.join("etc/initrd-release").exists() || root_in_memory())
}

/// systemd's `parse_boolean`, of bytes (anything that is not ASCII is no boolean).
pub fn parse_bool(v: &[u8]) -> Option<bool> {
    let mut low = [0u8; 5];
    let low = low.get_mut(..v.len())?;
    for (l, b) in low.iter_mut().zip(v) {
        *l = b.to_ascii_lowercase();
    }
    match &*low {
        b"1" | b"yes" | b"y" | b"true" | b"t" | b"on" => Some(true),
        b"0" | b"no" | b"n" | b"false" | b"f" | b"off" => Some(false),
        _ => None,
    }
}

/// Keys compare with `-` and `_` as the same character (systemd's `proc_cmdline_key_streq`).
fn key_eq(a: &[u8], b: &str) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b.bytes())
            .all(|(&x, y)| x == y || (matches!(x, b'-' | b'_') && matches!(y, b'-' | b'_')))
}

/// A value as text: pmemtab's names and options are text, so bytes that are not UTF-8 (shown
/// as U+FFFD) can match none of them.
fn text(v: &[u8]) -> String {
    String::from_utf8_lossy(v).into_owned()
}

/// Appends `value` to a comma-joined option list, as systemd's `strextend_with_separator`.
fn join_flags(flags: &mut Option<String>, value: &[u8]) {
    match flags {
        Some(f) => {
            f.push(',');
            f.push_str(&text(value));
        }
        None => *flags = Some(text(value)),
    }
}

/// Reads the options pmemtab cares about from the command line's bytes. Outside the initrd
/// every `rd.` key is ignored; every word that is none of ours is skipped, text or not.
pub fn parse(text_bytes: impl AsRef<[u8]>, in_initrd: bool) -> Cmdline {
    let mut out = Cmdline::default();
    for word in words(text_bytes) {
        let (key, value) = match word.iter().position(|&b| b == b'=') {
            Some(i) => (&word[..i], Some(&word[i + 1..])),
            None => (word.as_slice(), None),
        };
        // Only pmemtab's own switch has an `rd.` form; root= and mount.usr= have none.
        let enable_key = match key.strip_prefix(b"rd.") {
            Some(stripped) => in_initrd && key_eq(stripped, "pmemtab"),
            None => key_eq(key, "pmemtab"),
        };
        // A key without a value (`root`, `rootflags`) is ignored, as systemd ignores it.
        if enable_key {
            // A bare `pmemtab` means enabled, as a bare `luks` does for cryptsetup.
            let parsed = match value {
                None => Some(true),
                Some(v) => parse_bool(v),
            };
            match parsed {
                Some(b) => out.enabled = Some(b),
                None => out
                    .ignored
                    .push((crate::text::escape_bytes(&word), "not a boolean")),
            }
        } else if let Some(v) = value {
            if key_eq(key, "root") {
                out.root = (!v.is_empty()).then(|| text(v));
            } else if key_eq(key, "mount.usr") {
                out.usr = (!v.is_empty()).then(|| text(v));
            } else if key_eq(key, "rootflags") {
                join_flags(&mut out.rootflags, v);
            } else if key_eq(key, "mount.usrflags") {
                join_flags(&mut out.usrflags, v);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strs(v: Vec<Vec<u8>>) -> Vec<String> {
        v.into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn words_follow_systemd_quoting() {
        assert_eq!(strs(words("  a  b\tc\n")), ["a", "b", "c"]);
        assert_eq!(strs(words(r#"x="a b" 'c d'e f"#)), ["x=a b", "c de", "f"]);
        assert_eq!(strs(words(r#"x="open"#)), ["x=open"]);
        assert_eq!(strs(words(r#"a "" b"#)), ["a", "", "b"]);
        assert!(words("   ").is_empty());
        // systemd splits on its WHITESPACE only: a no-break space is part of a word.
        assert_eq!(strs(words("a\u{a0}b c")), ["a\u{a0}b", "c"]);
    }

    /// One byte that is not UTF-8 anywhere costs only its word (issue 28): the escape hatch,
    /// root= and rootflags= around it are read as without it.
    #[test]
    fn bytes_that_are_not_utf8_cost_only_their_word() {
        let line = b"BOOT_IMAGE=/vmlinuz quiet acpi_osi=Ger\xe4t pmemtab=0 root=/dev/mapper/r rootflags=dax\n";
        let c = parse(line, false);
        assert_eq!(c.enabled, Some(false));
        assert_eq!(c.root.as_deref(), Some("/dev/mapper/r"));
        assert_eq!(c.rootflags.as_deref(), Some("dax"));
        assert!(c.ignored.is_empty(), "{:?}", c.ignored);
        assert_eq!(parse(b"\xff rd.pmemtab=0 \xfe", true).enabled, Some(false));
        // Ours but not text: not a boolean (shown escaped), or a root= naming no entry.
        let bad = parse(b"pmemtab=\xff root=/dev/mapper/\xe4", false);
        assert_eq!(bad.enabled, None);
        assert_eq!(
            bad.ignored,
            [("pmemtab=\\xff".to_string(), "not a boolean")]
        );
        assert_eq!(
            bad.root.as_deref().map(boot_name),
            Some(BootName::Mapper("\u{fffd}"))
        );
    }

    /// As systemd-fstab-generator: rootflags= and mount.usrflags= add up, an empty root= or
    /// mount.usr= names no device, a key without `=` is ignored.
    #[test]
    fn flags_join_and_empty_devices_are_none() {
        let c = parse(
            "rootflags=dax rootflags=noatime mount.usrflags=ro mount.usrflags=dax",
            true,
        );
        assert_eq!(c.rootflags.as_deref(), Some("dax,noatime"));
        assert_eq!(c.usrflags.as_deref(), Some("ro,dax"));
        assert_eq!(parse("root=/dev/mapper/a root=", true).root, None);
        assert_eq!(parse("root= mount.usr=", true).usr, None);
        assert_eq!(
            parse("root=/dev/mapper/a root", true).root.as_deref(),
            Some("/dev/mapper/a")
        );
        assert_eq!(
            parse("rootflags=dax rootflags", true).rootflags.as_deref(),
            Some("dax")
        );
    }

    #[test]
    fn enable_switches() {
        assert_eq!(parse("quiet pmemtab=0", false).enabled, Some(false));
        assert_eq!(parse("pmemtab=off pmemtab=yes", false).enabled, Some(true));
        assert_eq!(parse("pmemtab", false).enabled, Some(true));
        assert_eq!(parse("pmemtab=OFF pmemtab=Yes", false).enabled, Some(true));
        assert_eq!(parse("pmemtab=0 pmemtab=ye", false).enabled, Some(false));
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
        assert_eq!(
            c.root.as_deref().map(boot_name),
            Some(BootName::Mapper("pm-root"))
        );
        assert_eq!(c.usr.as_deref().map(boot_name), Some(BootName::Mapper("u")));
        assert_eq!(
            parse("root=/dev/mapper/a root=/dev/mapper/b", true)
                .root
                .as_deref(),
            Some("/dev/mapper/b")
        );
    }

    /// Every form of root= users meet: update-grub's UUID=, the dm names, other disks.
    #[test]
    fn boot_names() {
        for (dev, want) in [
            ("/dev/mapper/r", BootName::Mapper("r")),
            ("/dev/mapper//r", BootName::Mapper("r")),
            ("//dev/mapper/r", BootName::Unknown),
            ("/dev/disk/by-id/dm-name-r", BootName::Mapper("r")),
            ("/dev/mapper/", BootName::Other),
            (
                "UUID=0d6a2c1e-0000-4000-8000-000000000001",
                BootName::Unknown,
            ),
            ("LABEL=root", BootName::Unknown),
            ("PARTUUID=1234", BootName::Unknown),
            ("/dev/disk/by-uuid/0d6a2c1e", BootName::Unknown),
            ("/dev/dm-0", BootName::Unknown),
            ("/dev/sda1", BootName::Other),
            ("/dev/pmem0", BootName::Other),
        ] {
            assert_eq!(boot_name(dev), want, "{dev}");
        }
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
        let cmd = parse(
            "root=/dev/mapper/r rootflags=dax mount.usr=/dev/mapper/u rd.x",
            true,
        );
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

    /// A `/` or `/usr` entry is attached whatever form root=/mount.usr= take (issue 19), and
    /// warned about only where the command line names another device or mounts it without
    /// DAX.
    #[test]
    fn a_root_entry_is_attached_whatever_root_says() {
        let parsed = crate::tab::parse(
            "pr linear name=a /
pu linear name=b /usr/
x linear name=c /x
",
        );
        let warnings = |cmd: &str| {
            let cmd = parse(cmd, true);
            let boot = boot_devices(&parsed.entries, &cmd);
            let w: Vec<String> = boot
                .problems
                .iter()
                .map(|d| {
                    assert_eq!(d.severity, Severity::Warning, "{d:?}");
                    d.message.clone()
                })
                .collect();
            (
                boot.names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                boot.mounted_by_cmdline
                    .iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>(),
                w,
            )
        };
        for root in [
            "root=UUID=0d6a2c1e-5b8f-4b1e-9d55-7b2c8c1f2a10",
            "root=LABEL=root",
            "root=PARTUUID=1234-01",
            "root=/dev/disk/by-id/dm-name-pr",
            "root=/dev/mapper//pr",
            "root=/dev/mapper/pr",
        ] {
            let (names, by_cmdline, w) = warnings(&format!("{root} rootflags=dax ro"));
            assert_eq!(names, ["pr", "pu"], "{root}");
            // No mount.usr=: pmemtab mounts /sysroot/usr itself.
            assert_eq!(
                by_cmdline,
                if root.contains("pr") {
                    vec!["pr"]
                } else {
                    vec![]
                },
                "{root}"
            );
            assert!(w.is_empty(), "{root}: {w:?}");
        }
        let (names, _, w) = warnings("root=/dev/sda1 rootflags=dax");
        assert_eq!(names, ["pr", "pu"]);
        assert_eq!(w.len(), 1);
        assert!(
            w[0].starts_with("'pr' is / here, but root=/dev/sda1 names another device"),
            "{w:?}"
        );
        let (_, _, w) = warnings("rootflags=dax");
        assert!(
            w[0].contains("the kernel command line has no root="),
            "{w:?}"
        );
        let (_, _, w) = warnings("root=UUID=0d6a2c1e ro");
        assert!(w[0].contains("without rootflags=dax"), "{w:?}");
        // Issue 28: rootflags= given twice adds up, as systemd mounts the root with both.
        let (_, _, w) = warnings("root=UUID=0d6a2c1e rootflags=dax rootflags=noatime");
        assert!(w.is_empty(), "{w:?}");
        // An empty root= is no root= for systemd: the warning says so.
        let (_, _, w) = warnings("root= rootflags=dax");
        assert!(
            w[0].contains("the kernel command line has no root="),
            "{w:?}"
        );
        // mount.usr= in any form mounts /usr from the command line, not pmemtab.
        let (_, by_cmdline, w) =
            warnings("root=UUID=1 rootflags=dax mount.usr=UUID=2 mount.usrflags=dax");
        assert_eq!(by_cmdline, ["pu"]);
        assert!(w.is_empty(), "{w:?}");
        let (_, by_cmdline, w) = warnings("root=UUID=1 rootflags=dax mount.usr=/dev/vdb1");
        assert_eq!(by_cmdline, ["pu"]);
        assert!(
            w[0].starts_with("'pu' is /usr here, but mount.usr=/dev/vdb1 names another device"),
            "{w:?}"
        );
    }
}
