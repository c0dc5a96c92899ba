//! pmemtab text → entries plus every diagnostic.
//!
//! The file is read line by line; each line is split into whitespace-separated columns
//! (`columns`) and each column has a small nom grammar here, but for the name (its rule is
//! [`super::name`]'s) and the options (`options_column`); the rules across columns are
//! `checks`'. A line with an error is reported and dropped, the rest still parse, so one
//! typo (or one byte that is not UTF-8) never hides the other lines' problems, and the
//! generator can still write units for the good lines, as systemd's tab generators do. Besides its own grammar, a line must be something the generator can write
//! units for (see [`crate::systemd`]): `pmem-assemble check` refuses what the generator would
//! skip.

use super::checks::{check_layout_members, check_mount};
use super::clash::Entries;
use super::columns::{split_columns, Cell, ColumnError, Field};
use super::diagnostic::{Diagnostic, Severity, SourceWindow};
use super::line::LineCtx;
use super::model::{
    check_chunk, BadChunk, Entry, EntryKind, Filesystem, FsType, Layout, Member, Source, Span,
    DEFAULT_CHUNK_BYTES,
};
use super::mount_point::MountPoint;
use super::name::Name;
use super::options_column::parse_options;
use super::permission;
use super::refused::Refused;
use crate::size::HUGE_PAGE_BYTES;
use crate::text;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{digit1, hex_digit1, one_of};
use nom::combinator::{all_consuming, map, map_res, opt, recognize, value};
use nom::multi::many1;
use nom::sequence::{preceded, tuple};
use nom::IResult;
use std::path::Path;
use uuid::Uuid;

/// The result of parsing a whole file: good entries, and diagnostics for the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The good lines' entries, each clashing with none before it.
    pub entries: Entries,
    pub diagnostics: Vec<Diagnostic>,
    /// The lines refused with an error, read as far as they go: what the initrd would have
    /// needed of them decides whether an initramfs may be built without them.
    pub refused: Vec<Refused>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// How many lines had an error (and were skipped).
    pub fn invalid_lines(&self) -> usize {
        let mut lines: Vec<usize> = self
            .diagnostics
            .iter()
            .filter(|d| d.is_error() && d.line > 0)
            .map(|d| d.line)
            .collect();
        lines.dedup();
        lines.len()
    }
}

/// The most of a pmemtab file that is read: far beyond any real table (100,000 entries take
/// 6 MB), and a bound on what a runaway file costs udev, the generator and the initramfs.
pub const MAX_BYTES: u64 = 16 << 20;

/// Reads and parses a pmemtab file; warns when anyone but root can write it, since it decides
/// what is mounted where at boot. Every reader (pmem-assemble, the generator, udev's
/// `udev-member`) reads it here.
pub fn load(path: &Path) -> Result<Parsed, crate::Error> {
    load_with(path, &accept)
}

/// A rule beyond the parser's own that every entry must pass for its line to count: the unit
/// renderer's (`units::check`), for the generator and the host's commands. Kept out of the
/// parser so that the initramfs's `pmem-assemble` goes without the renderer.
pub type Vet<'a> = &'a dyn Fn(&Entry) -> Result<(), Refusal>;

/// Why a [`Vet`] refuses an entry: an error of its line, at `column`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub column: Column,
    pub message: String,
    pub hint: Option<&'static str>,
}

/// The pmemtab column a [`Refusal`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Name,
    MountPoint,
    Options,
}

/// The [`Vet`] that accepts every entry the parser does.
fn accept(_: &Entry) -> Result<(), Refusal> {
    Ok(())
}

/// [`load`], with every entry also passing `vet`.
pub fn load_with(path: &Path, vet: Vet<'_>) -> Result<Parsed, crate::Error> {
    let bytes = read_table(path)?;
    let mut parsed = parse_bytes_with(&bytes, vet);
    if let Some(warning) = permission::check(path) {
        parsed.diagnostics.insert(0, warning);
    }
    Ok(parsed)
}

/// What kind of file a pmemtab that is not a regular file is, for the message.
fn kind(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// `/dev/null` (character device 1:3): no entries, as a unit linked to /dev/null is masked.
fn is_dev_null(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    meta.file_type().is_char_device() && meta.rdev() == (1 << 8) | 3
}

/// The file's bytes, when it is a regular file of at most [`MAX_BYTES`] (or /dev/null):
/// opening a FIFO blocks until someone writes to it, and reading a device may never end, so
/// anything else is refused before it is opened.
fn read_table(path: &Path) -> Result<Vec<u8>, crate::Error> {
    let meta = std::fs::metadata(path).map_err(|e| crate::Error::read(path, e))?;
    if is_dev_null(&meta) {
        return Ok(Vec::new());
    }
    if !meta.is_file() {
        return Err(crate::Error::NotRegular {
            path: path.to_path_buf(),
            kind: kind(meta.file_type()),
        });
    }
    if meta.len() > MAX_BYTES {
        return Err(crate::Error::TooLarge {
            path: path.to_path_buf(),
            max: MAX_BYTES,
        });
    }
    std::fs::read(path).map_err(|e| crate::Error::read(path, e))
}

/// Parses pmemtab text. Never panics; every problem becomes a diagnostic.
pub fn parse(text: &str) -> Parsed {
    parse_bytes(text.as_bytes())
}

/// Parses pmemtab as read from disk. A line that is not UTF-8 is reported with the column of
/// its first bad byte and skipped (a comment with one only warns); the other lines count.
pub fn parse_bytes(bytes: &[u8]) -> Parsed {
    parse_bytes_with(bytes, &accept)
}

/// [`parse_bytes`], with every entry also passing `vet`.
pub fn parse_bytes_with(bytes: &[u8], vet: Vet<'_>) -> Parsed {
    let mut parsed = Parsed::default();
    for (idx, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = match std::str::from_utf8(raw) {
            Ok(l) => l,
            Err(e) => {
                let d = not_utf8(idx + 1, raw, e);
                if d.is_error() {
                    let lossy = String::from_utf8_lossy(raw);
                    parsed.refused.push(Refused::read(idx + 1, &lossy));
                }
                parsed.diagnostics.push(d);
                continue;
            }
        };
        let mut ctx = LineCtx {
            number: idx + 1,
            text: line,
            window: SourceWindow::new(line),
            entry: first_word(line),
            diags: Vec::new(),
        };
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let entry = parse_line(&mut ctx);
        let failed = ctx.diags.iter().any(Diagnostic::is_error);
        parsed.diagnostics.append(&mut ctx.diags);
        match (entry, failed) {
            (Some(entry), false) if !vetted(&mut ctx, &entry, vet) => {
                parsed.diagnostics.append(&mut ctx.diags);
                parsed.refused.push(Refused::read(ctx.number, line));
            }
            (Some(entry), false) => {
                if let Some(diag) = parsed.entries.add(entry, line) {
                    parsed.diagnostics.push(diag);
                    parsed.refused.push(Refused::read(ctx.number, line));
                }
            }
            _ => parsed.refused.push(Refused::read(ctx.number, line)),
        }
    }
    parsed
}

/// Whether `vet` accepts the line's entry; if not, its refusal is said at the column it names.
fn vetted(ctx: &mut LineCtx<'_>, entry: &Entry, vet: Vet<'_>) -> bool {
    let Err(r) = vet(entry) else {
        return true;
    };
    let cols = split_columns(ctx.text);
    let at = match r.column {
        Column::Name => 0,
        Column::MountPoint => 3,
        Column::Options => 5,
    };
    let f = cols.get(at).or(cols.first()).copied().unwrap_or(Field {
        text: " ",
        column: 1,
    });
    ctx.error(&f, r.message, r.hint.map(String::from));
    false
}

/// The first whitespace-separated word of a line, if any.
fn first_word(line: &str) -> Option<String> {
    line.split([' ', '\t'])
        .find(|w| !w.is_empty())
        .map(str::to_string)
}

/// A line that is not UTF-8: an error at its first bad byte, a warning in a comment.
fn not_utf8(number: usize, raw: &[u8], e: std::str::Utf8Error) -> Diagnostic {
    let good = raw.get(..e.valid_up_to()).unwrap_or_default();
    let prefix = String::from_utf8_lossy(good);
    let bad = raw.get(e.valid_up_to()).copied().unwrap_or_default();
    let shown = String::from_utf8_lossy(raw).into_owned();
    let comment = shown.trim_start_matches([' ', '\t']).starts_with('#');
    let (severity, what) = if comment {
        (Severity::Warning, "comment ignored")
    } else {
        (Severity::Error, "this line is ignored")
    };
    let column = prefix.chars().count() + 1;
    let (source_line, shown_from) = SourceWindow::new(&shown).around(column, 1);
    Diagnostic {
        severity,
        line: number,
        column,
        message: format!("byte {bad:#04x} is not UTF-8; {what}"),
        entry: (!comment).then(|| first_word(&shown)).flatten(),
        source_line,
        shown_from,
        width: 1,
        hint: Some(
            "pmemtab is UTF-8 text: convert the file (iconv -f latin1 -t utf-8) or remove the byte"
                .into(),
        ),
    }
}

fn parse_line(ctx: &mut LineCtx<'_>) -> Option<Entry> {
    let cols = split_columns(ctx.text);
    let end = Field {
        text: " ",
        column: ctx.text.chars().count() + 1,
    };
    let (name_f, layout_f, members_f) = match cols.as_slice() {
        [n, l, m, ..] => (*n, *l, *m),
        [_, l] => {
            ctx.error(
                &Field {
                    column: end.column,
                    ..*l
                },
                "missing members column",
                members_hint(),
            );
            return None;
        }
        [n] => {
            ctx.error(
                &Field {
                    column: end.column,
                    ..*n
                },
                "missing layout and members columns",
                layout_hint(),
            );
            return None;
        }
        [] => return None,
    };
    if let Some(extra) = cols.get(6) {
        ctx.error(
            extra,
            format!("unexpected text '{}' after the options column", extra.text),
            Some(
                "a line has at most 6 columns: name layout members mountpoint fstype options"
                    .into(),
            ),
        );
    }
    let name = parse_name(ctx, &name_f);
    let layout = parse_layout(ctx, &layout_f);
    let members = parse_members(ctx, &members_f);
    let mount_point = match cols.get(3) {
        Some(f) => parse_mount_point(ctx, f),
        None => Cell::Blank,
    };
    let fstype = parse_fstype(ctx, cols.get(4));
    let options = cols
        .get(5)
        .map(|f| parse_options(ctx, f, layout))
        .unwrap_or_default();

    let mount_point = match mount_point {
        Cell::Blank => None,
        Cell::Given(p) => Some(p),
        Cell::Refused => return None,
    };
    let (name, layout, members) = (name?, layout?, members?);
    let (members, member_spans): (Vec<Member>, Vec<Span>) = members.into_iter().unzip();
    check_layout_members(ctx, layout, &members, &members_f, &options);
    let fstype = match fstype {
        Cell::Blank => None,
        Cell::Given(t) => Some(t),
        Cell::Refused => return None,
    };
    let fstype = check_mount(ctx, layout, mount_point.as_deref(), fstype, &options, &cols);
    let fs = fstype.map(|fstype| Filesystem {
        fstype,
        mkfs: options.mkfs,
        mount: mount_point,
    });
    let Some(mut kind) = EntryKind::new(layout, members, fs) else {
        // Each way a layout refuses its members or a filesystem has been reported above.
        return None;
    };
    if let (EntryKind::SystemRam { zone, .. }, Some(z)) = (&mut kind, options.zone) {
        *zone = z;
    }
    Some(Entry {
        line: ctx.number,
        name,
        kind,
        options: options.options,
        source: Source {
            text: ctx.text.to_string(),
            name: name_f.span(),
            members_column: members_f.span(),
            members: member_spans,
        },
    })
}

fn members_hint() -> Option<String> {
    Some("expected: name layout members [mountpoint [fstype [options]]], members like uuid=<uuid>,uuid=<uuid>".into())
}

fn layout_hint() -> Option<String> {
    Some(
        "expected one of: linear, striped, striped:<chunk> (e.g. striped:2M), single, system-ram, cxl-pmem"
            .into(),
    )
}

fn parse_name(ctx: &mut LineCtx<'_>, f: &Field) -> Option<Name> {
    match Name::from_column(f.text) {
        Ok(name) => Some(name),
        Err(e) => {
            let field = match e
                .at
                .and_then(|(at, len)| Some((at, f.text.get(at..at + len)?)))
            {
                Some((at, text)) => f.sub(at, text),
                None => *f,
            };
            ctx.error(&field, e.message, e.hint);
            None
        }
    }
}

fn parse_layout(ctx: &mut LineCtx<'_>, f: &Field) -> Option<Layout> {
    let grammar = alt((
        value(Layout::Linear, tag("linear")),
        value(Layout::Single, tag("single")),
        value(Layout::SystemRam, tag("system-ram")),
        value(Layout::CxlPmem, tag("cxl-pmem")),
        map(
            preceded(tag("striped"), opt(preceded(tag(":"), crate::size::bytes))),
            |chunk| Layout::Striped {
                chunk_bytes: chunk.unwrap_or(DEFAULT_CHUNK_BYTES),
            },
        ),
    ));
    let layout = match all_consuming(grammar)(f.text) {
        Ok((_, l)) => l,
        Err(_) => {
            let message = match f.text.strip_prefix("striped:") {
                Some(chunk) => format!("invalid stripe chunk '{chunk}'"),
                None => format!("unknown layout '{}'", f.text),
            };
            ctx.error(f, message, layout_hint());
            return None;
        }
    };
    if let Layout::Striped { chunk_bytes } = layout {
        match check_chunk(chunk_bytes) {
            Ok(()) => {}
            Err(BadChunk::NotMultiple) => {
                ctx.error(
                    f,
                    format!(
                        "stripe chunk {} is not a multiple of 4 KiB",
                        f.text.strip_prefix("striped:").unwrap_or(f.text)
                    ),
                    Some("use 2M (the default) or another multiple of 4K".into()),
                );
                return None;
            }
            Err(BadChunk::TooLarge) => {
                ctx.error(
                    f,
                    "stripe chunk is larger than device-mapper accepts",
                    Some("use 2M (the default)".into()),
                );
                return None;
            }
        }
        if chunk_bytes % HUGE_PAGE_BYTES != 0 {
            ctx.warn(
                f,
                format!(
                    "stripe chunk {} is not a multiple of 2 MiB: DAX cannot use huge-page faults",
                    crate::size::suffixed(chunk_bytes)
                ),
                Some("use striped:2M (the default)".into()),
            );
        }
    }
    Some(layout)
}

fn member(i: &str) -> IResult<&str, Member> {
    alt((
        map_res(
            preceded(
                tag_no_case("uuid="),
                take_while1(|c: char| c.is_ascii_hexdigit() || c == '-'),
            ),
            // Only the form `ndctl list` prints (and the hint describes): 8-4-4-4-12 digits.
            |u: &str| match u.len() {
                36 => Uuid::try_parse(u).map(Member::Uuid).map_err(|_| ()),
                _ => Err(()),
            },
        ),
        map_res(
            preceded(
                tag_no_case("serial="),
                alt((
                    map_res(preceded(tag_no_case("0x"), hex_digit1), |h: &str| {
                        u64::from_str_radix(h, 16)
                    }),
                    map_res(digit1, str::parse::<u64>),
                )),
            ),
            // The kernel refuses serial 0 for pmem regions; a device without a DSN reads 0.
            |s: u64| {
                if s == 0 {
                    Err(())
                } else {
                    Ok(Member::Serial(s))
                }
            },
        ),
        map(preceded(tag("name="), take_while1(|_| true)), |n: &str| {
            Member::Name(n.to_string())
        }),
        map_res(
            preceded(
                tag_no_case("addr="),
                preceded(opt(tag_no_case("0x")), hex_digit1),
            ),
            |h: &str| u64::from_str_radix(h, 16).map(Member::Addr),
        ),
        map(
            recognize(tuple((
                tag("/dev/"),
                take_while1(|c: char| c != '/'),
                opt(many1(one_of("/"))),
            ))),
            |p: &str| Member::DevPath(p.trim_end_matches('/').to_string()),
        ),
    ))(i)
}

fn parse_members(ctx: &mut LineCtx<'_>, f: &Field) -> Option<Vec<(Member, Span)>> {
    if f.is_empty_marker() {
        ctx.error(f, "at least one member is required", members_hint());
        return None;
    }
    let mut members: Vec<(Member, Span)> = Vec::new();
    // Members seen so far on this line: a set, so a line of many members stays linear. A map
    // of the type the clash check keeps: one copy of the hash table's code in the binaries.
    let mut seen: std::collections::HashMap<Member, usize> = std::collections::HashMap::new();
    let mut ok = true;
    // Columns counted as we go: counting from the field's start for every member made a
    // line of many members quadratic.
    let mut column = f.column;
    for part in f.text.split(',') {
        let pf = Field { text: part, column };
        column += part.chars().count() + 1;
        if part.is_empty() {
            ctx.error(
                &Field { text: ",", ..pf },
                "empty member",
                Some("members are separated by single commas".into()),
            );
            ok = false;
            continue;
        }
        match all_consuming(member)(part) {
            Ok((_, m)) => {
                if let Member::DevPath(p) = &m {
                    ctx.warn(
                        &pf,
                        format!("{p} is not stable across boots (pmem numbers change)"),
                        Some("name the namespace by uuid= (see `ndctl list`)".into()),
                    );
                }
                if seen.insert(m.clone(), 0).is_some() {
                    ctx.error(
                        &pf,
                        format!("member {m} is listed twice"),
                        Some("each namespace or device may appear once".into()),
                    );
                    ok = false;
                }
                members.push((m, pf.span()));
            }
            Err(_) => {
                let (message, hint) = member_error(part);
                ctx.error(&pf, message, Some(hint));
                ok = false;
            }
        }
    }
    ok.then_some(members)
}

/// Explains a member that did not parse.
fn member_error(part: &str) -> (String, String) {
    let lower = part.to_ascii_lowercase();
    if lower.starts_with("uuid=") {
        let u = part.get(5..).unwrap_or_default();
        (format!("invalid uuid '{u}'"), "expected a uuid as `ndctl list` shows it: 32 hexadecimal digits in groups of 8-4-4-4-12, like 27715d95-1bb8-478d-a466-d6e0a569746d".into())
    } else if lower.starts_with("addr=") {
        let a = part.get(5..).unwrap_or_default();
        (
            format!("invalid address '{a}'"),
            "expected a hexadecimal physical address as in /proc/iomem, e.g. addr=0x28000000"
                .into(),
        )
    } else if lower.starts_with("serial=") {
        let v = part.get(7..).unwrap_or_default();
        let zero = v.trim_start_matches("0x").trim_start_matches("0X");
        if !zero.is_empty() && zero.bytes().all(|b| b == b'0') {
            (
                "serial 0 names no CXL memory device".into(),
                "a device whose serial reads 0 has no PCIe serial number, and the kernel refuses it for pmem regions: give the device a serial".into(),
            )
        } else {
            (
                format!("invalid serial '{v}'"),
                "expected the serial of a CXL memory device as `cxl list` and /sys/bus/cxl/devices/memX/serial show it, e.g. serial=0x2002 (hexadecimal with 0x, or decimal)".into(),
            )
        }
    } else if part == "name=" {
        (
            "empty namespace name".into(),
            "expected name=<ndctl namespace name>".into(),
        )
    } else {
        (
            format!("unknown member '{part}'"),
            "expected uuid=<uuid>, name=<ndctl name>, addr=<physical address>, /dev/pmemN or serial=<CXL device serial>".into(),
        )
    }
}

fn parse_mount_point(ctx: &mut LineCtx<'_>, f: &Field) -> Cell<MountPoint> {
    if f.is_empty_marker() {
        return Cell::Blank;
    }
    let Some(path) = text::decode_octal(f.text) else {
        ctx.error(
            f,
            "invalid escape in mount point",
            Some("write a space as \\040, a tab as \\011, a backslash as \\134".into()),
        );
        return Cell::Refused;
    };
    match MountPoint::new(&path) {
        Ok(p) => Cell::Given(p),
        Err(e) => {
            ctx.error(f, e.message, e.hint);
            Cell::Refused
        }
    }
}

/// The mount-point column's rule, on the path it decodes to (escapes undone): see
/// [`MountPoint::new`].
pub fn check_mount_point(path: &str) -> Result<MountPoint, ColumnError> {
    MountPoint::new(path)
}

fn parse_fstype(ctx: &mut LineCtx<'_>, f: Option<&Field>) -> Cell<FsType> {
    let Some(f) = f else { return Cell::Blank };
    match f.text {
        "-" | "none" => Cell::Blank,
        "ext4" => Cell::Given(FsType::Ext4),
        "xfs" => Cell::Given(FsType::Xfs),
        other => {
            ctx.error(
                f,
                format!("unsupported filesystem type '{other}'"),
                Some("DAX filesystems supported: ext4, xfs (or - for none)".into()),
            );
            Cell::Refused
        }
    }
}
