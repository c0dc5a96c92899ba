//! pmemtab text → entries plus every diagnostic.
//!
//! The file is read line by line; each line is split into whitespace-separated columns and
//! each column has a small nom grammar. A line with an error is reported and dropped, the
//! rest still parse, so one typo (or one byte that is not UTF-8) never hides the other lines'
//! problems, and the generator can still write units for the good lines, as systemd's tab
//! generators do. Besides its own grammar, a line must be something the generator can write
//! units for (see [`crate::systemd`]): `pmem-assemble check` refuses what the generator would
//! skip.

use super::columns::{split_columns, split_options, Field};
use super::diagnostic::{Diagnostic, Severity, SourceWindow};
use super::line::LineCtx;
use super::model::{
    check_chunk, BadChunk, Entry, FsType, Layout, Member, MountUnitOptions, Options, Source, Span,
    DEFAULT_CHUNK_BYTES,
};
use super::options::{self as table, FormError, Kind, Value};
use super::{clash, permission};
use crate::kmem;
use crate::numa;
use crate::size::HUGE_PAGE_BYTES;
use crate::systemd;
use crate::text;
use crate::timeouts;
use crate::timespan;
use nom::branch::alt;
use nom::bytes::complete::{tag, tag_no_case, take_while1};
use nom::character::complete::{digit1, hex_digit1, one_of};
use nom::combinator::{all_consuming, map, map_res, opt, recognize, value};
use nom::multi::many1;
use nom::sequence::{pair, preceded, tuple};
use nom::IResult;
use std::collections::HashMap;
use std::path::Path;
use uuid::Uuid;

use super::name::{self, NameError, MAX_NAME_BYTES};

/// The result of parsing a whole file: good entries, and diagnostics for the rest.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub entries: Vec<Entry>,
    pub diagnostics: Vec<Diagnostic>,
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

/// Reads and parses a pmemtab file; warns when anyone but root can write it, since it decides
/// what is mounted where at boot.
pub fn load(path: &Path) -> Result<Parsed, crate::Error> {
    let bytes = std::fs::read(path).map_err(|e| crate::Error::read(path, e))?;
    let mut parsed = parse_bytes(&bytes);
    if let Some(warning) = permission::check(path) {
        parsed.diagnostics.insert(0, warning);
    }
    Ok(parsed)
}

/// Parses pmemtab text. Never panics; every problem becomes a diagnostic.
pub fn parse(text: &str) -> Parsed {
    parse_bytes(text.as_bytes())
}

/// Parses pmemtab as read from disk. A line that is not UTF-8 is reported with the column of
/// its first bad byte and skipped (a comment with one only warns); the other lines count.
pub fn parse_bytes(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut seen = clash::Seen::default();
    for (idx, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = match std::str::from_utf8(raw) {
            Ok(l) => l,
            Err(e) => {
                parsed.diagnostics.push(not_utf8(idx + 1, raw, e));
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
        if let (Some(entry), false) = (entry, failed) {
            if let Some(diag) = clash::conflict(&parsed.entries, &seen, &entry, line) {
                parsed.diagnostics.push(diag);
            } else {
                seen.add(&entry, parsed.entries.len());
                parsed.entries.push(entry);
            }
        }
    }
    parsed
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
        None => Some(None),
    };
    let fstype = parse_fstype(ctx, cols.get(4));
    let options = cols
        .get(5)
        .map(|f| parse_options(ctx, f, layout))
        .unwrap_or_default();

    let (name, layout, members, mount_point) = (name?, layout?, members?, mount_point?);
    let (members, member_spans): (Vec<Member>, Vec<Span>) = members.into_iter().unzip();
    check_layout_members(ctx, layout, &members, &members_f);
    let fstype = check_mount(ctx, layout, &mount_point, fstype?, &options, &cols);
    Some(Entry {
        line: ctx.number,
        name,
        layout,
        members,
        mount_point,
        fstype,
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
        "expected one of: linear, striped, striped:<chunk> (e.g. striped:2M), single, system-ram"
            .into(),
    )
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
    fn new(message: impl Into<String>, hint: Option<&str>) -> ColumnError {
        ColumnError {
            message: message.into(),
            hint: hint.map(str::to_string),
            at: None,
        }
    }
}

/// The name column's rule: `name` as written there.
pub fn check_name(name: &str) -> Result<(), ColumnError> {
    if matches!(name, "-" | "none") {
        return Err(ColumnError::new(
            "a device name is required",
            Some("the first column names /dev/mapper/<name>"),
        ));
    }
    let Err(e) = name::check(name) else {
        return Ok(());
    };
    Err(match e {
        NameError::UnitTooLong(unit) => ColumnError::new(
            format!(
                "device name '{name}' is too long for systemd: {}",
                systemd::TooLong { name: unit }
            ),
            Some("use a shorter name: systemd escapes each of # + - = @ (and a leading .) as 4 bytes"),
        ),
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
            at: Some((offset, c.len_utf8())),
            ..ColumnError::new(
                format!("character {c:?} is not allowed in a device name"),
                Some("use letters, digits and # + - . : = @ _ (characters udev and device-mapper keep as they are)"),
            )
        },
    })
}

fn parse_name(ctx: &mut LineCtx<'_>, f: &Field) -> Option<String> {
    match check_name(f.text) {
        Ok(()) => Some(f.text.to_string()),
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

/// `512`, `4K`, `2M`, `1G`, `2MiB`: bytes.
fn size(i: &str) -> IResult<&str, u64> {
    map_res(
        pair(
            digit1,
            opt(pair(one_of("KkMmGgTt"), opt(alt((tag("iB"), tag("B")))))),
        ),
        |(digits, unit): (&str, Option<(char, Option<&str>)>)| {
            let n: u64 = digits.parse().map_err(|_| "number too large")?;
            let shift = match unit.map(|(c, _)| c.to_ascii_uppercase()) {
                None => 0,
                Some('K') => 10,
                Some('M') => 20,
                Some('G') => 30,
                _ => 40,
            };
            n.checked_mul(1u64 << shift).ok_or("size too large")
        },
    )(i)
}

fn parse_layout(ctx: &mut LineCtx<'_>, f: &Field) -> Option<Layout> {
    let grammar = alt((
        value(Layout::Linear, tag("linear")),
        value(Layout::Single, tag("single")),
        value(Layout::SystemRam, tag("system-ram")),
        map(
            preceded(tag("striped"), opt(preceded(tag(":"), size))),
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
                    super::model::format_size(chunk_bytes)
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
    // Members seen so far on this line: a set, so a line of many members stays linear.
    let mut seen = std::collections::HashSet::new();
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
                if !seen.insert(m.clone()) {
                    ctx.error(
                        &pf,
                        format!("member {m} is listed twice"),
                        Some("each namespace may appear once".into()),
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
    } else if part == "name=" {
        (
            "empty namespace name".into(),
            "expected name=<ndctl namespace name>".into(),
        )
    } else {
        (
            format!("unknown member '{part}'"),
            "expected uuid=<uuid>, name=<ndctl name>, addr=<physical address> or /dev/pmemN".into(),
        )
    }
}

fn check_layout_members(ctx: &mut LineCtx<'_>, layout: Layout, members: &[Member], f: &Field) {
    let n = members.len();
    match layout {
        Layout::Striped { .. } if n < 2 => ctx.error(
            f,
            format!("striped needs at least 2 members, has {n}"),
            Some("use single for one namespace".into()),
        ),
        Layout::Single if n != 1 => ctx.error(
            f,
            format!("single takes exactly 1 member, has {n}"),
            Some("use linear or striped for several".into()),
        ),
        _ => {}
    }
}

/// `Some(None)` for `-`, `None` after an error.
fn parse_mount_point(ctx: &mut LineCtx<'_>, f: &Field) -> Option<Option<String>> {
    if f.is_empty_marker() {
        return Some(None);
    }
    let Some(path) = text::decode_octal(f.text) else {
        ctx.error(
            f,
            "invalid escape in mount point",
            Some("write a space as \\040, a tab as \\011, a backslash as \\134".into()),
        );
        return None;
    };
    match check_mount_point(&path) {
        Ok(p) => Some(Some(p)),
        Err(e) => {
            ctx.error(f, e.message, e.hint);
            None
        }
    }
}

/// The mount-point column's rule, on the path it decodes to (escapes undone): the path as
/// systemd names it (repeated and trailing slashes collapsed), or why it cannot be one.
/// [`crate::import::escape_path`] writes a path back in the column's escapes.
pub fn check_mount_point(path: &str) -> Result<String, ColumnError> {
    if !path.starts_with('/') {
        return Err(ColumnError::new(
            format!("mount point '{path}' is not an absolute path"),
            Some("write - for no mount point"),
        ));
    }
    if path.split('/').any(|c| c == ".." || c == ".") {
        return Err(ColumnError::new(
            format!("mount point '{path}' contains . or .. components"),
            Some("write the path without them"),
        ));
    }
    if path.chars().any(char::is_control) {
        return Err(ColumnError::new(
            "mount point contains a control character",
            None,
        ));
    }
    if systemd::check_value(path).is_err() {
        return Err(ColumnError::new(
            format!("mount point '{path}' ends with a blank or a backslash, which a unit file cannot hold"),
            Some("systemd strips trailing blanks from Where= and reads a trailing \\ as a line continuation: choose another path"),
        ));
    }
    // Collapse repeated and trailing slashes, as systemd does before naming the mount unit.
    let simplified: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    Ok(format!("/{}", simplified.join("/")))
}

fn parse_fstype(ctx: &mut LineCtx<'_>, f: Option<&Field>) -> Option<Option<FsType>> {
    let Some(f) = f else { return Some(None) };
    match f.text {
        "-" | "none" => Some(None),
        "ext4" => Some(Some(FsType::Ext4)),
        "xfs" => Some(Some(FsType::Xfs)),
        other => {
            ctx.error(
                f,
                format!("unsupported filesystem type '{other}'"),
                Some("DAX filesystems supported: ext4, xfs (or - for none)".into()),
            );
            None
        }
    }
}

/// The options column parsed, with where the options that need a mount unit were written.
#[derive(Default)]
struct OptionsResult<'a> {
    options: Options,
    /// (option as written, field) of every option only a mount unit honours.
    mount_unit: Vec<(String, Field<'a>)>,
    /// Where `x-systemd.idle-timeout=` was written.
    idle: Option<Field<'a>>,
    /// Where `x-systemd.automount` was written.
    automount: Option<Field<'a>>,
}

/// Single-valued options: a second, different value contradicts the first.
fn single_valued(key: &str) -> bool {
    matches!(
        key,
        "dax"
            | "zone"
            | "x-systemd.device-timeout"
            | "x-systemd.mount-timeout"
            | "x-systemd.idle-timeout"
    )
}

/// Options that mean something for memory (a system-ram entry): when to bring it up and how
/// long to wait, and where it goes; every other option is about a filesystem.
fn applies_to_memory(key: &str) -> bool {
    matches!(
        key,
        "nofail"
            | "noauto"
            | "auto"
            | "defaults"
            | "comment"
            | "x-initrd.attach"
            | "x-initrd.mount"
            | "x-systemd.device-timeout"
            | "zone"
    )
}

/// Options that turn into settings of the mount unit, so need one.
fn needs_mount_unit(key: &str) -> bool {
    key.starts_with("x-systemd.") && key != "x-systemd.device-timeout" || key == "_netdev"
}

fn parse_options<'a>(
    ctx: &mut LineCtx<'_>,
    f: &Field<'a>,
    layout: Option<Layout>,
) -> OptionsResult<'a> {
    let mut r = OptionsResult::default();
    if f.is_empty_marker() {
        return r;
    }
    // key -> (first decoded option with that key, as written)
    let mut first: HashMap<String, String> = HashMap::new();
    for (offset, raw, opt) in split_options(f.text) {
        let of = f.sub(offset, raw);
        if opt.is_empty() {
            ctx.error(
                &Field { text: ",", ..of },
                "empty option",
                Some("options are separated by single commas".into()),
            );
            continue;
        }
        if opt.chars().any(char::is_control) {
            ctx.error(
                &of,
                format!("option '{opt}' contains a control character"),
                Some("a unit file cannot hold it; remove it".into()),
            );
            continue;
        }
        if opt.ends_with('\\') {
            ctx.error(
                &of,
                format!("option '{opt}' ends with a backslash"),
                Some("a unit file reads a trailing \\ as a line continuation; remove it".into()),
            );
            continue;
        }
        let form = match table::mount_form(&opt) {
            Ok(form) => form,
            Err(FormError::OpenQuote) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' has a \" without its closing one"),
                    None,
                );
                continue;
            }
            Err(FormError::Comma) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' holds a comma mount(8) would split at"),
                    Some("a comma can only be in a value: key=\"a,b\" or key=a\\,b".into()),
                );
                continue;
            }
        };
        let key = table::key(&opt).to_string();
        if let Some(refused) = table::refused(&opt) {
            ctx.error(
                &of,
                format!("option '{}' is not supported", refused.key),
                Some(refused.why.into()),
            );
            continue;
        }
        if opt.starts_with("comment=systemd.") {
            ctx.error(
                &of,
                format!("'{opt}' is the old spelling of a systemd option"),
                Some(format!(
                    "write x-systemd.{}",
                    opt.trim_start_matches("comment=systemd.")
                )),
            );
            continue;
        }
        let known = table::lookup(&opt);
        if known.is_none() && key.starts_with("x-systemd.") {
            ctx.error(
                &of,
                format!("unknown systemd option '{key}'"),
                Some("pmemtab implements x-systemd.requires=, .after=, .before=, .requires-mounts-for=, .wanted-by=, .required-by=, .automount, .idle-timeout=, .mount-timeout=, .device-timeout=, .rw-only and .device-bound (see pmemtab(5))".into()),
            );
            continue;
        }
        if layout == Some(Layout::SystemRam) && !applies_to_memory(&key) && key != numa::MIX_OPTION
        {
            ctx.error(
                &of,
                format!("option '{key}' is about mounting, and a system-ram entry is not mounted"),
                Some("a system-ram entry takes nofail, noauto, x-initrd.attach, x-systemd.device-timeout= and zone= (see pmemtab(5))".into()),
            );
            continue;
        }
        let value = opt.split_once('=').map(|(_, v)| v);
        match (known.map(|k| k.value), value) {
            (Some(Value::No), Some(_)) => {
                ctx.error(&of, format!("option '{key}' takes no value"), None);
                continue;
            }
            (Some(Value::Required), None | Some("")) => {
                ctx.error(&of, format!("option '{key}=' needs a value"), None);
                continue;
            }
            _ => {}
        }
        // Twice the same, or two different values of a setting that has one.
        match first.get(&key) {
            Some(earlier) if *earlier == opt => {
                ctx.warn(
                    &of,
                    format!("option '{opt}' is given twice"),
                    Some("remove one".into()),
                );
                continue;
            }
            Some(earlier) if single_valued(&key) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' contradicts '{earlier}' before it"),
                    Some("give it once".into()),
                );
                continue;
            }
            _ => {}
        }
        let contradiction = match key.as_str() {
            "auto" => first.get("noauto"),
            "noauto" => first.get("auto"),
            _ => None,
        };
        if let Some(other) = contradiction {
            ctx.error(
                &of,
                format!("option '{opt}' contradicts '{other}' before it"),
                Some("give one of them".into()),
            );
            continue;
        }
        first.entry(key.clone()).or_insert_with(|| opt.clone());
        if needs_mount_unit(&key) {
            r.mount_unit.push((opt.clone(), of));
        }
        let o = &mut r.options;
        let unit: &mut MountUnitOptions = &mut o.systemd;
        let keep = match key.as_str() {
            "nofail" => {
                o.nofail = true;
                true
            }
            "noauto" => {
                o.noauto = true;
                true
            }
            "_netdev" => {
                o.netdev = true;
                true
            }
            "x-initrd.attach" => {
                o.initrd_attach = true;
                false
            }
            "x-initrd.mount" => {
                o.initrd_attach = true;
                true
            }
            "mkfs" => {
                o.mkfs = true;
                false
            }
            "numa-mix" => {
                if layout.is_some_and(|l| !l.is_dm()) {
                    ctx.error(
                        &of,
                        "numa-mix applies to striped and linear entries only",
                        Some("a single or system-ram entry interleaves nothing across nodes: remove it".into()),
                    );
                    continue;
                }
                o.numa_mix = true;
                false
            }
            "zone" => {
                let v = value.unwrap_or_default();
                if layout.is_some_and(|l| l != Layout::SystemRam) {
                    ctx.error(
                        &of,
                        "zone= applies to system-ram entries only",
                        Some("remove it".into()),
                    );
                    continue;
                }
                let Some(z) = kmem::Zone::parse(v) else {
                    ctx.error(
                        &of,
                        format!("unknown memory zone '{v}'"),
                        Some("expected zone=movable (the default) or zone=normal".into()),
                    );
                    continue;
                };
                o.zone = Some(z);
                false
            }
            "dax" => {
                match value {
                    None | Some("always") | Some("inode") => {}
                    Some("never") => ctx.warn(&of, "dax=never turns DAX off for this device", None),
                    Some(_) => {
                        ctx.error(
                            &of,
                            format!("unknown DAX mode '{opt}'"),
                            Some("expected dax, dax=always, dax=inode or dax=never".into()),
                        );
                        continue;
                    }
                }
                true
            }
            "x-systemd.device-timeout" | "x-systemd.mount-timeout" | "x-systemd.idle-timeout" => {
                let v = value.unwrap_or_default();
                let what = key.trim_start_matches("x-systemd.").replace('-', " ");
                let Some(d) = timespan::parse(v).filter(|d| !d.is_zero()) else {
                    ctx.error(
                        &of,
                        format!("invalid {what} '{v}'"),
                        Some(
                            "expected a finite, positive time such as 30s, 2min or 1min30s".into(),
                        ),
                    );
                    continue;
                };
                if let Err(limit) = timeouts::check_limit(d) {
                    ctx.error(&of, format!("{what} '{v}' is {limit}"), None);
                    continue;
                }
                match key.as_str() {
                    "x-systemd.device-timeout" => {
                        o.device_timeout = Some(d);
                        false
                    }
                    "x-systemd.mount-timeout" => {
                        unit.mount_timeout = Some(d);
                        true
                    }
                    _ => {
                        unit.idle_timeout = Some(d);
                        r.idle = Some(of);
                        true
                    }
                }
            }
            "x-systemd.requires"
            | "x-systemd.after"
            | "x-systemd.before"
            | "x-systemd.wanted-by"
            | "x-systemd.required-by" => {
                let v = value.unwrap_or_default();
                let Ok(name) = systemd::mangle_dependency(v) else {
                    ctx.error(
                        &of,
                        format!("'{v}' cannot be made a unit name"),
                        Some("name a unit (foo.service), a path, or a mount point".into()),
                    );
                    continue;
                };
                let list = match key.as_str() {
                    "x-systemd.requires" => &mut unit.requires,
                    "x-systemd.after" => &mut unit.after,
                    "x-systemd.before" => &mut unit.before,
                    "x-systemd.wanted-by" => &mut unit.wanted_by,
                    _ => &mut unit.required_by,
                };
                if !list.contains(&name) {
                    list.push(name);
                }
                true
            }
            "x-systemd.requires-mounts-for" => {
                let v = value.unwrap_or_default();
                let plain = !v.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\');
                match systemd::simplify_path(v) {
                    Ok(p) if plain => unit.requires_mounts_for.push(p),
                    _ => {
                        ctx.error(
                            &of,
                            format!("x-systemd.requires-mounts-for= needs an absolute path without blanks, quotes or backslashes, not '{v}'"),
                            None,
                        );
                        continue;
                    }
                }
                true
            }
            "x-systemd.automount" => {
                unit.automount = true;
                r.automount = Some(of);
                true
            }
            "x-systemd.rw-only" => {
                unit.rw_only = true;
                true
            }
            "x-systemd.device-bound" => {
                if layout.is_some_and(|l| !l.is_dm()) {
                    ctx.error(
                        &of,
                        "x-systemd.device-bound needs a device-mapper layout",
                        Some("a single entry's mount has no .device unit to bind to (it mounts /run/pmemtab/by-name/NAME); use linear".into()),
                    );
                    continue;
                }
                true
            }
            _ => match known.map(|k| k.kind) {
                Some(Kind::Nothing) => false,
                Some(_) => true,
                None if table::is_userspace_prefix(&opt) => true,
                None => {
                    ctx.warn(
                        &of,
                        format!("unknown option '{opt}', passed to mount as is"),
                        None,
                    );
                    true
                }
            },
        };
        if keep {
            o.mount.push(form);
        }
    }
    r
}

/// Cross-column rules for the mount part; returns the filesystem type to use.
fn check_mount(
    ctx: &mut LineCtx<'_>,
    layout: Layout,
    mount_point: &Option<String>,
    fstype: Option<FsType>,
    options: &OptionsResult,
    cols: &[Field],
) -> Option<FsType> {
    let last = cols.last().copied().unwrap_or(Field {
        text: " ",
        column: 1,
    });
    if layout == Layout::SystemRam {
        if let Some(f) = cols
            .get(3)
            .filter(|_| mount_point.is_some())
            .or(cols.get(4).filter(|_| fstype.is_some()))
        {
            ctx.error(
                f,
                "a system-ram entry becomes memory, not a filesystem",
                Some("write - for mount point and fstype".into()),
            );
        }
        if options.options.mkfs {
            ctx.error(&last, "mkfs makes no sense for system-ram", None);
        }
        return None;
    }
    check_mount_unit(ctx, mount_point, options, cols.get(3));
    match (mount_point, fstype) {
        // A mount point without a type: ext4, the documented default.
        (Some(_), None) => Some(FsType::Ext4),
        (None, Some(t)) if options.options.mkfs => Some(t),
        (None, Some(t)) => {
            if let Some(f) = cols.get(4) {
                ctx.warn(
                    f,
                    format!("fstype {t} without a mount point is only used by mkfs"),
                    None,
                );
            }
            Some(t)
        }
        (None, None) if options.options.mkfs => {
            ctx.error(
                &last,
                "mkfs needs a filesystem type",
                Some("give ext4 or xfs in the fstype column".into()),
            );
            None
        }
        (_, t) => t,
    }
}

/// The rules of the mount unit the generator writes: options that only a mount unit honours
/// need one (a mount point other than `/`, which `root=` mounts), and its unit names must fit
/// systemd's limit, in the booted system and, for attached entries, below `/sysroot` in the
/// initrd.
fn check_mount_unit(
    ctx: &mut LineCtx<'_>,
    mount_point: &Option<String>,
    options: &OptionsResult,
    mp_field: Option<&Field>,
) {
    let o = &options.options;
    let unitless = match mount_point.as_deref() {
        None => Some("this entry has no mount point"),
        Some("/") => Some("pmemtab writes no mount unit for / (root= mounts it)"),
        Some(_) => None,
    };
    if let Some(why) = unitless {
        for (opt, f) in &options.mount_unit {
            ctx.error(
                f,
                format!(
                    "option '{}' applies to the mount unit, and {why}",
                    table::key(opt)
                ),
                Some("remove it, or give the entry a mount point".into()),
            );
        }
    }
    if let (Some(f), false) = (&options.idle, o.systemd.automount) {
        ctx.error(
            f,
            "x-systemd.idle-timeout= is the idle time of an automount",
            Some("add x-systemd.automount, or remove it".into()),
        );
    }
    if let (Some(f), true) = (&options.automount, o.initrd_attach) {
        ctx.error(
            f,
            "x-systemd.automount cannot be used with x-initrd.attach: the initrd mounts the device before switching root",
            Some("remove one of them".into()),
        );
    }
    let (Some(mp), Some(f)) = (mount_point.as_deref(), mp_field) else {
        return;
    };
    if mp == "/" {
        return;
    }
    let mut wheres = vec![(mp.to_string(), "mount")];
    if o.systemd.automount {
        wheres.push((mp.to_string(), "automount"));
    }
    if o.initrd_attach {
        wheres.push((systemd::in_sysroot(mp), "mount"));
    }
    for (where_, suffix) in wheres {
        if let Err(e) = systemd::mount_unit(&where_, suffix) {
            ctx.error(
                f,
                format!("mount point {mp}: {e}"),
                Some(
                    "use a shorter path: systemd escapes each byte outside A-Z a-z 0-9 : _ . as 4"
                        .into(),
                ),
            );
            return;
        }
    }
}
