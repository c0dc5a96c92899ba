//! From a device-mapper device built by hand (`dmsetup create` with a linear or striped table,
//! as the pmem.io device-mapper guide shows) to the pmemtab line that builds the same device,
//! or why there is none. Pure: the table (live, or as text), the namespaces and the mount come
//! in. The proof that a line is right is not a second set of rules: the line is parsed and
//! planned by the code `pmem-assemble up` uses, and its table must equal the live one.

use crate::dmtable::{self, DevRef, Target, TargetKind};
use crate::ns::Namespace;
use crate::plan::{self, DM_UUID_PREFIX};
use crate::size::{human_bytes, SECTOR_BYTES};
use crate::tab::options::Kind;
use crate::tab::{self, BadChunk, Clash, Entry, Layout, Member, Severity};
use crate::text;

/// Where the device is mounted now, from mountinfo (beside its table).
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
pub type TextDevice = (Option<String>, Vec<Target<DevRef>>);

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
        let Some(target) = Target::parse_line(rest) else {
            return Err(format!(
                "line {}: expected `start length type params...`, as dmsetup table prints: {line}",
                i + 1
            ));
        };
        if let Some((_, targets)) = out.get_mut(at) {
            targets.push(target);
        }
    }
    Ok(out)
}

/// A device word of a table: `259:3` as the kernel reports it, or in a script's table the
/// node the scanner names the namespace's device by (`/dev/pmem1`, `/dev/pmem2.1`,
/// `/dev/pmem4s`, `/dev/dax3.0`). `Ok(None)`: a device, but no active namespace's. Any other
/// path (`/dev/mapper/pmem1`, a by-id link) is refused: its last part need not be the
/// namespace it looks like.
fn namespace_of<'a>(
    dev: &DevRef,
    namespaces: &'a [Namespace],
) -> Result<Option<&'a Namespace>, String> {
    let mut active = namespaces.iter().filter(|n| n.active);
    let word = match dev {
        DevRef::Num(d) => return Ok(active.find(|n| n.devnum == Some(*d))),
        DevRef::Path(word) => word,
    };
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
    targets: &[Target<DevRef>],
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
        .filter_map(|(i, t)| t.malformed(i + 1))
        .collect();
    if !shapes.is_empty() {
        return Outcome::Refused(shapes);
    }
    // Every device of every target, resolved.
    let words: Vec<DevRef> = targets.iter().flat_map(Target::devices).collect();
    let resolved: Vec<_> = words.iter().map(|w| namespace_of(w, namespaces)).collect();
    // Not ours only when every device is a number no namespace has: a path in a table was
    // written by someone who meant it.
    let not_pmem = |(w, r): (&DevRef, &Result<Option<&Namespace>, String>)| {
        matches!(r, Ok(None)) && matches!(w, DevRef::Num(_))
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
    let linear = |t: &Target<DevRef>| matches!(t.kind, TargetKind::Linear { .. });
    let layout = match targets {
        [t @ Target {
            kind: TargetKind::Striped { .. },
            ..
        }] => striped_layout(t, &mut why),
        t if t.iter().all(linear) => linear_layout(targets, &mut why),
        t => {
            let other: Vec<&str> = t
                .iter()
                .filter(|t| {
                    !matches!(
                        t.kind,
                        TargetKind::Linear { .. } | TargetKind::Striped { .. }
                    )
                })
                .map(Target::target_type)
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
    let want: Vec<Target<DevRef>> = planned
        .targets()
        .iter()
        .map(|t| t.map(|d| DevRef::Num(*d)))
        .collect();
    let live = numbered(targets, namespaces);
    if want != live {
        let mut why = differences(targets, &planned, namespaces);
        let text = |t: &[Target<DevRef>]| dmtable::print(t).trim_end().replace('\n', "; ");
        why.push(format!(
            "the line would build `{}` instead of `{}`",
            text(&want),
            text(&live)
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
fn numbered(targets: &[Target<DevRef>], namespaces: &[Namespace]) -> Vec<Target<DevRef>> {
    targets
        .iter()
        .map(|t| {
            t.map(|d| match namespace_of(d, namespaces) {
                Ok(Some(Namespace {
                    devnum: Some(n), ..
                })) => DevRef::Num(*n),
                _ => d.clone(),
            })
        })
        .collect()
}

fn linear_layout(targets: &[Target<DevRef>], why: &mut Vec<String>) -> Option<Layout> {
    let mut at = 0;
    let mut seen: Vec<&DevRef> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let TargetKind::Linear { dev, offset } = &t.kind else {
            continue;
        };
        let (start, length) = (t.start.0, t.length.0);
        if start != at {
            why.push(format!(
                "target {} starts at sector {}, not where the previous ends ({at})",
                i + 1,
                start
            ));
        }
        let Some(end) = start.checked_add(length) else {
            why.push(format!(
                "target {} ends past sector 2^64 ({start} + {length})",
                i + 1,
            ));
            break;
        };
        at = end;
        if offset.0 != 0 {
            why.push(format!(
                "target {} maps {dev} from sector {offset}: pmemtab maps every member from its start",
                i + 1
            ));
        }
        if seen.contains(&dev) {
            why.push(format!(
                "{dev} is mapped twice: a namespace is one member once"
            ));
        }
        seen.push(dev);
    }
    Some(Layout::Linear)
}

fn striped_layout(t: &Target<DevRef>, why: &mut Vec<String>) -> Option<Layout> {
    let TargetKind::Striped { chunk, stripes } = &t.kind else {
        return None;
    };
    if t.start.0 != 0 {
        why.push(format!("the stripe starts at sector {}, not 0", t.start));
    }
    for (dev, offset) in stripes {
        if offset.0 != 0 {
            why.push(format!(
                "{dev} is striped from sector {offset}: pmemtab stripes every member from its start"
            ));
        }
    }
    let chunk = chunk.0;
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
    targets: &[Target<DevRef>],
    planned: &plan::Plan,
    namespaces: &[Namespace],
) -> Vec<String> {
    let mut why = Vec::new();
    let plan_targets = planned.targets();
    if planned.layout == Layout::Linear && plan_targets.len() == targets.len() {
        for (i, (live, want)) in targets.iter().zip(plan_targets).enumerate() {
            if live.length != want.length {
                let TargetKind::Linear { dev, .. } = &live.kind else {
                    continue;
                };
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
        if live.length != want.length {
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
        assert_eq!(t[0].1[0].params(), "2 4096 259:1 0 259:0 0");
        assert_eq!(t[1].0, None);
        assert_eq!(t[1].1[0].target_type(), "linear");
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
