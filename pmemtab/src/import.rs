//! From a device-mapper device built by hand (`dmsetup create` with a linear or striped table,
//! as the pmem.io device-mapper guide shows) to the pmemtab line that builds the same device,
//! or why there is none. Pure: the table (live, or as text), the namespaces and the mount come
//! in. The proof that a line is right is not a second set of rules: the line is parsed and
//! planned by the code `pmem-assemble up` uses, and its table must equal the live one.

use crate::devnum::DevNum;
use crate::dmtable::{dmsetup_table, table_text, LiveTarget};
use crate::ns::Namespace;
use crate::plan::{self, DM_UUID_PREFIX};
use crate::size::{human_bytes, SECTOR_BYTES};
use crate::tab::options::Kind;
use crate::tab::{self, BadChunk, Clash, Entry, Layout, Member, Severity};
use crate::text;

/// Where the device is mounted now, from mountinfo (beside its [`LiveTarget`]s).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveMount {
    /// As mountinfo has it: a path that is not UTF-8 cannot be written in pmemtab.
    pub mount_point: std::path::PathBuf,
    pub fstype: String,
    /// Per-mount and superblock options, as mountinfo lists them.
    pub options: Vec<String>,
}

/// What becomes of one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// This pmemtab line builds exactly the same table. `notes` say what the line does not
    /// carry over (a mount pmemtab cannot make, DAX that is off today).
    Line { line: String, notes: Vec<String> },
    /// Made by pmemtab already (its dm uuid prefix).
    Managed,
    /// No target maps a pmem namespace: not ours to import.
    NotPmem,
    /// Over pmem, but no pmemtab line gives this table: why, one reason each.
    Refused(Vec<String>),
}

/// One device of a table given as text: its name (`None` for lines without a `NAME:` prefix)
/// and its targets, none for a device `dmsetup table` lists as `NAME: ` (no table loaded).
pub type TextDevice = (Option<String>, Vec<LiveTarget>);

/// Parses table text: `dmsetup table` output (`NAME: 0 2088960 striped 2 4096 259:1 0 ...`
/// when it lists several devices, `NAME: ` for one with no table, `No devices found` for
/// none) or the table lines of a script (`0 1044480 linear /dev/pmem0 0`). Blank lines and
/// `#` comments are skipped. Returns the devices in the order they first appear.
pub fn parse_table(text: &str) -> Result<Vec<TextDevice>, String> {
    let mut out: Vec<TextDevice> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line == "No devices found" {
            continue;
        }
        let (name, rest) = match line.split_once(": ") {
            Some((n, r)) if !n.contains(char::is_whitespace) => (Some(n), r),
            _ => match line.strip_suffix(':') {
                Some(n) if !n.is_empty() && !n.contains(char::is_whitespace) => (Some(n), ""),
                _ => (None, line),
            },
        };
        let at = match out.iter().position(|(n, _)| n.as_deref() == name) {
            Some(at) => at,
            None => {
                out.push((name.map(str::to_string), Vec::new()));
                out.len() - 1
            }
        };
        if rest.is_empty() {
            continue;
        }
        let mut words = rest.split_whitespace();
        let num = |w: Option<&str>| w.and_then(|w| w.parse::<u64>().ok());
        let (Some(start), Some(length), Some(kind)) =
            (num(words.next()), num(words.next()), words.next())
        else {
            return Err(format!(
                "line {}: expected `start length type params...`, as dmsetup table prints: {line}",
                i + 1
            ));
        };
        if let Some((_, targets)) = out.get_mut(at) {
            targets.push(LiveTarget {
                start,
                length,
                target_type: kind.to_string(),
                params: words.collect::<Vec<_>>().join(" "),
            });
        }
    }
    Ok(out)
}

/// What is wrong with a linear or striped target's parameters as a whole, if anything (the
/// rest is for the layout to judge).
fn shape_error(i: usize, t: &LiveTarget) -> Option<String> {
    let p: Vec<&str> = t.params.split_whitespace().collect();
    let (form, fits) = match t.target_type.as_str() {
        "linear" => ("device offset", p.len() == 2),
        "striped" => (
            "#stripes chunk (device offset)...",
            p.len() >= 2 && p[0].parse::<usize>().is_ok() && p[1].parse::<u64>().is_ok(),
        ),
        _ => return None,
    };
    let n = i + 1;
    let kind = &t.target_type;
    match (fits, p.is_empty()) {
        (true, _) => None,
        (false, true) => Some(format!("target {n}: {kind} without its `{form}`")),
        (false, false) => Some(format!(
            "target {n}: {kind} takes `{form}`, not `{}`",
            t.params
        )),
    }
}

/// A device word of a table: `259:3` as the kernel reports it, or in a script's table the
/// node the scanner names the namespace's device by (`/dev/pmem1`, `/dev/pmem2.1`,
/// `/dev/pmem4s`, `/dev/dax3.0`). `Ok(None)`: a device, but no active namespace's. Any other
/// path (`/dev/mapper/pmem1`, a by-id link) is refused: its last part need not be the
/// namespace it looks like.
fn namespace_of<'a>(
    word: &str,
    namespaces: &'a [Namespace],
) -> Result<Option<&'a Namespace>, String> {
    let mut active = namespaces.iter().filter(|n| n.active);
    if let Some(d) = DevNum::parse(word) {
        return Ok(active.find(|n| n.devnum == Some(d)));
    }
    let node = word.strip_prefix("/dev/").filter(|n| is_node_name(n)).ok_or_else(|| {
        format!("{word} is not how a table names a namespace: use /dev/pmemN (pmemN.M, pmemNs), /dev/daxN.M or MAJOR:MINOR")
    })?;
    Ok(active.find(|n| n.blockdev.as_deref() == Some(node) || n.chardev.as_deref() == Some(node)))
}

/// `pmemN`, `pmemN.M`, `pmemNs`, `pmemN.Ms` or `daxN.M`: the names the kernel gives a
/// namespace's block and dax devices.
fn is_node_name(name: &str) -> bool {
    fn number(s: &str) -> Option<&str> {
        let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        (end > 0).then(|| &s[end..])
    }
    if let Some(rest) = name.strip_prefix("dax") {
        return number(rest)
            .and_then(|r| r.strip_prefix('.'))
            .and_then(number)
            .is_some_and(str::is_empty);
    }
    let Some(mut rest) = name.strip_prefix("pmem").and_then(number) else {
        return false;
    };
    if let Some(sub) = rest.strip_prefix('.') {
        match number(sub) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty() || rest == "s"
}

/// The words of a target that name devices: by position in linear and striped targets,
/// anything that looks like a device in others.
fn device_words(t: &LiveTarget) -> Vec<&str> {
    let p: Vec<&str> = t.params.split_whitespace().collect();
    match (t.target_type.as_str(), p.as_slice()) {
        ("linear", [dev, _]) => vec![dev],
        ("striped", [_, _, pairs @ ..]) => pairs.iter().step_by(2).copied().collect(),
        _ => p
            .into_iter()
            .filter(|w| w.contains(':') || w.starts_with('/'))
            .collect(),
    }
}

/// The member pmemtab prefers for a namespace: its uuid as `ndctl list` shows it, the physical
/// address of a legacy one.
fn member_of(ns: &Namespace) -> Option<Member> {
    if ns.legacy {
        return ns.resource.map(Member::Addr);
    }
    ns.uuid.or(ns.raw_uuid).map(Member::Uuid)
}

/// Whether an option of today's mount is one an admin chose, for the line to keep: a mount
/// flag that turns something on, but not `relatime` (the kernel's default), and a DAX mode
/// other than always (pmemtab mounts with `dax` itself). In the table's order.
fn chosen(options: &[String]) -> Vec<&'static str> {
    let has = |k: &str| options.iter().any(|o| o == k);
    let mut out: Vec<&'static str> = tab::options::TABLE
        .iter()
        .filter(|k| matches!(k.kind, Kind::Flag { set: true, .. }) && k.key != "relatime")
        .map(|k| k.key)
        .filter(|k| has(k))
        .collect();
    out.extend(["dax=inode", "dax=never"].into_iter().filter(|k| has(k)));
    out
}

/// Mount columns for today's mount, and what they leave out.
fn mount_columns(m: Option<&LiveMount>, notes: &mut Vec<String>) -> (String, String, String) {
    let none = || ("-".to_string(), "-".to_string(), "-".to_string());
    let Some(m) = m else { return none() };
    let shown = text::escape_path(&m.mount_point);
    if m.fstype != "ext4" && m.fstype != "xfs" {
        notes.push(format!(
            "mounted on {shown} as {}: pmemtab mounts ext4 and xfs only, so the line has no mount point",
            m.fstype
        ));
        return none();
    }
    let Some(mount_point) = m.mount_point.to_str() else {
        notes.push(format!(
            "mounted on {shown}, a path that is not UTF-8: pmemtab is UTF-8, so the line has no mount point"
        ));
        return none();
    };
    let dax_on = m.options.iter().any(|o| o == "dax" || o == "dax=always");
    let chosen = chosen(&m.options);
    if !dax_on && !chosen.iter().any(|o| o.starts_with("dax=")) {
        notes.push(format!(
            "{shown} is mounted without DAX today; pmemtab mounts it with dax (and checks that DAX is on)"
        ));
    }
    let opts = if chosen.is_empty() {
        "-".to_string()
    } else {
        chosen.join(",")
    };
    (text::encode_octal(mount_point), m.fstype.clone(), opts)
}

/// The pmemtab line for a device, or why there is none.
pub fn import(
    name: &str,
    dm_uuid: Option<&str>,
    targets: &[LiveTarget],
    namespaces: &[Namespace],
    mounted: Option<&LiveMount>,
) -> Outcome {
    if dm_uuid.is_some_and(|u| u.starts_with(DM_UUID_PREFIX)) {
        return Outcome::Managed;
    }
    if targets.is_empty() {
        return Outcome::Refused(vec!["it has no table".into()]);
    }
    let shapes: Vec<String> = targets
        .iter()
        .enumerate()
        .filter_map(|(i, t)| shape_error(i, t))
        .collect();
    if !shapes.is_empty() {
        return Outcome::Refused(shapes);
    }
    // Every device word of every target, resolved.
    let words: Vec<&str> = targets.iter().flat_map(device_words).collect();
    let resolved: Vec<_> = words.iter().map(|w| namespace_of(w, namespaces)).collect();
    // Not ours only when every device is a number no namespace has: a path in a table was
    // written by someone who meant it.
    let not_pmem = |(w, r): (&&str, &Result<Option<&Namespace>, String>)| {
        matches!(r, Ok(None)) && DevNum::parse(w).is_some()
    };
    if words.iter().zip(&resolved).all(not_pmem) {
        return Outcome::NotPmem;
    }
    let mut why = Vec::new();
    let mut pmem = Vec::with_capacity(words.len());
    for (w, r) in words.iter().zip(resolved) {
        pmem.push(match r {
            Ok(Some(ns)) => Some(ns),
            Ok(None) => {
                why.push(format!("{w} is not a pmem namespace's device"));
                None
            }
            Err(e) => {
                why.push(e);
                None
            }
        });
    }
    let types: Vec<&str> = targets.iter().map(|t| t.target_type.as_str()).collect();
    let layout = match types.as_slice() {
        ["striped"] => striped_layout(&targets[0], &mut why),
        t if t.iter().all(|k| *k == "linear") => linear_layout(targets, &mut why),
        t => {
            let other: Vec<&str> = t
                .iter()
                .copied()
                .filter(|k| *k != "linear" && *k != "striped")
                .collect();
            why.push(if other.is_empty() {
                "the table mixes linear and striped targets, or has several striped ones: a pmemtab entry is one linear concatenation or one stripe".into()
            } else {
                format!(
                    "target type {}: pmemtab builds linear and striped devices only",
                    other.join(", ")
                )
            });
            None
        }
    };
    let (Some(layout), true) = (layout, why.is_empty()) else {
        return Outcome::Refused(why);
    };
    // Members in table order: every device word once.
    let mut members = Vec::new();
    for (w, ns) in words.iter().zip(&pmem) {
        let Some(ns) = ns else { continue };
        match member_of(ns) {
            Some(m) => members.push(m.to_string()),
            None => {
                return Outcome::Refused(vec![format!(
                    "{w} ({}) has no uuid to name it by",
                    ns.dev
                )])
            }
        }
    }
    let mut notes = Vec::new();
    let (mp, fs, opts) = mount_columns(mounted, &mut notes);
    let line = format!("{name} {layout} {} {mp} {fs} {opts}", members.join(","));
    // The proof: the line as the parser reads it, planned as `up` plans it.
    let parsed = tab::parse(&line);
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    let Some(entry) = parsed.entries.first().filter(|_| errors.is_empty()) else {
        return Outcome::Refused(errors);
    };
    let planned = match plan::plan(entry, namespaces) {
        Ok(p) => p,
        Err(r) => return Outcome::Refused(r.reasons.iter().map(|x| x.to_string()).collect()),
    };
    let want = dmsetup_table(planned.targets());
    let live = live_text(targets, namespaces);
    if want != live {
        let mut why = differences(targets, &planned, namespaces);
        why.push(format!(
            "the line would build `{}` instead of `{}`",
            want.trim_end().replace('\n', "; "),
            live.trim_end().replace('\n', "; ")
        ));
        return Outcome::Refused(why);
    }
    Outcome::Line { line, notes }
}

/// The entries a printed line must not clash with: those of the pmemtab file it is to be
/// appended to, then the lines printed before it. Judged by the parser's clash rule (name,
/// member, mount point) and by planning's claims (a namespace however it is named).
pub struct Claims {
    entries: Vec<Entry>,
    /// How many of `entries` are the file's.
    existing: usize,
    /// The file, as messages name it.
    tab: String,
}

impl Claims {
    pub fn new(existing: impl Into<Vec<Entry>>, tab: &str) -> Claims {
        let existing = existing.into();
        Claims {
            existing: existing.len(),
            entries: existing,
            tab: tab.to_string(),
        }
    }

    /// An outcome as it stands beside the file and the lines printed so far: a line that
    /// clashes becomes a refusal naming the other entry; a line that does not is kept.
    pub fn admit(&mut self, outcome: Outcome, namespaces: &[Namespace]) -> Outcome {
        let Outcome::Line { line, .. } = &outcome else {
            return outcome;
        };
        let Some(entry) = tab::parse(line).entries.into_iter().next() else {
            return outcome;
        };
        let by = |i: usize| match self.entries.get(i) {
            Some(e) if i < self.existing => {
                format!("'{}' on line {} of {}", e.name, e.line, self.tab)
            }
            Some(e) => format!("'{}', printed above", e.name),
            None => "?".into(),
        };
        let mut why = Vec::new();
        match tab::clash(&self.entries, &entry) {
            Some((i, Clash::Name)) => why.push(match self.entries.get(i) {
                Some(e) if i < self.existing => format!(
                    "the name '{}' is already used on line {} of {}",
                    entry.name, e.line, self.tab
                ),
                _ => format!(
                    "the name '{}' is already used by a line printed above",
                    entry.name
                ),
            }),
            // Planning's claims below say it, with the namespace.
            Some((_, Clash::Member(_))) => {}
            Some((i, Clash::MountPoint(mp))) => {
                why.push(format!("mount point {mp} is already used by {}", by(i)))
            }
            None => {}
        }
        // Planning's claims: a namespace belongs to the first entry that names it.
        let mut all = self.entries.clone();
        all.push(entry);
        let claimed = plan::plan_all(&all, namespaces).pop();
        if let Some(Err(r)) = claimed {
            for reason in r.reasons {
                if let plan::Reason::UsedByOther {
                    member, dev, other, ..
                } = reason
                {
                    let i = all
                        .iter()
                        .position(|e| e.name == other)
                        .unwrap_or(usize::MAX);
                    why.push(format!(
                        "member {member} ({dev}) is already used by {}",
                        by(i)
                    ));
                }
            }
        }
        if !why.is_empty() {
            return Outcome::Refused(why);
        }
        self.entries.extend(all.pop());
        outcome
    }
}

/// The live table with device paths replaced by numbers, as the kernel would report it.
fn live_text(targets: &[LiveTarget], namespaces: &[Namespace]) -> String {
    let numbered: Vec<LiveTarget> = targets
        .iter()
        .map(|t| LiveTarget {
            params: t
                .params
                .split_whitespace()
                .map(|w| match (DevNum::parse(w), namespace_of(w, namespaces)) {
                    (None, Ok(Some(ns))) => ns.devnum.map_or(w.to_string(), |d| d.to_string()),
                    _ => w.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
            ..t.clone()
        })
        .collect();
    table_text(&numbered)
}

fn linear_layout(targets: &[LiveTarget], why: &mut Vec<String>) -> Option<Layout> {
    let mut at = 0;
    let mut seen: Vec<&str> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let p: Vec<&str> = t.params.split_whitespace().collect();
        // Two words: shape_error refused any other count.
        let [dev, offset] = p.as_slice() else {
            continue;
        };
        if t.start != at {
            why.push(format!(
                "target {} starts at sector {}, not where the previous ends ({at})",
                i + 1,
                t.start
            ));
        }
        let Some(end) = t.start.checked_add(t.length) else {
            why.push(format!(
                "target {} ends past sector 2^64 ({} + {})",
                i + 1,
                t.start,
                t.length
            ));
            break;
        };
        at = end;
        if *offset != "0" {
            why.push(format!(
                "target {} maps {dev} from sector {offset}: pmemtab maps every member from its start",
                i + 1
            ));
        }
        if seen.contains(dev) {
            why.push(format!(
                "{dev} is mapped twice: a namespace is one member once"
            ));
        }
        seen.push(dev);
    }
    Some(Layout::Linear)
}

fn striped_layout(t: &LiveTarget, why: &mut Vec<String>) -> Option<Layout> {
    let p: Vec<&str> = t.params.split_whitespace().collect();
    let (Some(n), Some(chunk)) = (
        p.first().and_then(|w| w.parse::<usize>().ok()),
        p.get(1).and_then(|w| w.parse::<u64>().ok()),
    ) else {
        // shape_error refused these.
        return None;
    };
    if t.start != 0 {
        why.push(format!("the stripe starts at sector {}, not 0", t.start));
    }
    let pairs = &p[2..];
    // Halved, not doubled: a count near 2^64 must not overflow.
    if pairs.len() % 2 != 0 || pairs.len() / 2 != n {
        why.push(format!(
            "{n} stripes, but {} devices and offsets",
            pairs.len()
        ));
        return None;
    }
    for pair in pairs.chunks(2) {
        if pair[1] != "0" {
            why.push(format!(
                "{} is striped from sector {}: pmemtab stripes every member from its start",
                pair[0], pair[1]
            ));
        }
    }
    let Some(chunk_bytes) = chunk.checked_mul(SECTOR_BYTES) else {
        why.push(format!(
            "stripe chunk {chunk} sectors is more than 2^64 bytes"
        ));
        return None;
    };
    // pmemtab's own chunk rule, said in the sectors the table counts in.
    match tab::check_chunk(chunk_bytes) {
        Ok(()) => Some(Layout::Striped { chunk_bytes }),
        Err(BadChunk::NotMultiple) => {
            why.push(format!(
                "stripe chunk {chunk} sectors ({chunk_bytes} bytes) is not a multiple of 4 KiB ({} sectors)",
                tab::CHUNK_UNIT_BYTES / SECTOR_BYTES
            ));
            None
        }
        Err(BadChunk::TooLarge) => {
            why.push(format!(
                "stripe chunk {chunk} sectors is larger than device-mapper accepts (2^32 - 1 sectors)"
            ));
            None
        }
    }
}

/// Where a plan and a live table part, in words: the lengths pmemtab's rounding gives.
fn differences(
    targets: &[LiveTarget],
    planned: &plan::Plan,
    namespaces: &[Namespace],
) -> Vec<String> {
    let mut why = Vec::new();
    let plan_targets = planned.targets();
    if planned.layout == Layout::Linear && plan_targets.len() == targets.len() {
        for (i, (live, want)) in targets.iter().zip(plan_targets).enumerate() {
            if live.length != want.length.0 {
                let dev = live.params.split_whitespace().next().unwrap_or("?");
                let size = namespace_of(dev, namespaces)
                    .ok()
                    .flatten()
                    .map_or(0, |n| n.size);
                why.push(format!(
                    "target {} maps {} sectors of {dev}; pmemtab maps its {} rounded down to 2 MiB, {} sectors",
                    i + 1,
                    live.length,
                    human_bytes(size),
                    want.length.0
                ));
            }
        }
    }
    if let (Layout::Striped { .. }, [live], [want]) = (planned.layout, targets, plan_targets) {
        if live.length != want.length.0 {
            why.push(format!(
                "the stripe is {} sectors long; pmemtab's is the smallest member rounded down to the chunk, times the members: {} sectors",
                live.length, want.length.0
            ));
        }
    }
    why
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_text_as_dmsetup_prints_it_and_as_scripts_write_it() {
        let t = parse_table(
            "fast: 0 2088960 striped 2 4096 259:1 0 259:0 0\n\n# c\n0 10 linear /dev/pmem0 0\n",
        )
        .unwrap();
        assert_eq!(t[0].0.as_deref(), Some("fast"));
        assert_eq!(t[0].1[0].params, "2 4096 259:1 0 259:0 0");
        assert_eq!(t[1].0, None);
        assert_eq!(t[1].1[0].target_type, "linear");
        assert!(parse_table("0 linear /dev/pmem0 0").is_err());
    }

    #[test]
    fn a_device_without_a_table_and_dmsetup_s_no_devices_line() {
        // `dmsetup table` prints `NAME: ` for a device with no table, and only `No devices
        // found` when there is none.
        let t = parse_table(
            "idle: 
fast: 0 8 linear 259:3 0
fast: 8 8 linear 259:2 0
",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!((t[0].0.as_deref(), t[0].1.len()), (Some("idle"), 0));
        assert_eq!((t[1].0.as_deref(), t[1].1.len()), (Some("fast"), 2));
        assert_eq!(parse_table("No devices found\n").unwrap(), vec![]);
    }

    #[test]
    fn the_options_an_admin_chose_are_kept_in_one_order() {
        let live = [
            "rw",
            "nosuid",
            "relatime",
            "noatime",
            "ro",
            "dax=inode",
            "nosymfollow",
        ]
        .map(String::from);
        assert_eq!(
            chosen(&live),
            ["ro", "noatime", "nosuid", "nosymfollow", "dax=inode"]
        );
    }

    #[test]
    fn today_s_mount_gives_the_columns_and_says_what_it_drops() {
        let mut notes = Vec::new();
        let m = LiveMount {
            mount_point: "/mnt/fast".into(),
            fstype: "ext4".into(),
            options: ["rw", "noatime", "relatime", "dax=always"]
                .map(String::from)
                .to_vec(),
        };
        assert_eq!(
            mount_columns(Some(&m), &mut notes),
            ("/mnt/fast".into(), "ext4".into(), "noatime".into())
        );
        assert!(notes.is_empty());
        let vfat = LiveMount {
            fstype: "vfat".into(),
            ..m.clone()
        };
        assert_eq!(mount_columns(Some(&vfat), &mut notes).0, "-");
        let nodax = LiveMount {
            options: vec!["rw".into()],
            ..m.clone()
        };
        assert_eq!(mount_columns(Some(&nodax), &mut notes).2, "-");
        assert_eq!(notes.len(), 2, "{notes:?}");
        // A mount point that is not UTF-8 cannot be a pmemtab column (issue 28).
        let bytes = LiveMount {
            mount_point: {
                use std::os::unix::ffi::OsStrExt;
                std::path::PathBuf::from(std::ffi::OsStr::from_bytes(b"/media/Ger\xe4t"))
            },
            ..m
        };
        assert_eq!(mount_columns(Some(&bytes), &mut notes).0, "-");
        assert_eq!(
            notes[2],
            "mounted on /media/Ger\\xe4t, a path that is not UTF-8: pmemtab is UTF-8, so the line has no mount point"
        );
    }
}
