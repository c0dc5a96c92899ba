//! Parser tests: every error class with its exact message and position, shown as `check`
//! shows it (the line, the fault underlined: [`assert_shown`]), and the accepted forms.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pmemtab::tab::{Entry, FsType, Layout, Member, Severity};
// pmemtab as the generator and `pmem-assemble check` read it: with the unit renderer's
// refusals (units too long for systemd) among the parser's own.
use pmemtab::timespan;
use pmemtab::units::parse;
use std::time::Duration;

const U1: &str = "27715d95-1bb8-478d-a466-d6e0a569746d";
const U2: &str = "e3fe0190-5c02-43c9-a08a-5958561ac30a";

fn uuid(s: &str) -> Member {
    Member::Uuid(s.parse().unwrap())
}

fn one(text: &str) -> Entry {
    let p = parse(text);
    assert!(
        p.diagnostics.iter().all(|d| !d.is_error()),
        "unexpected errors: {:#?}",
        p.diagnostics
    );
    assert_eq!(p.entries.len(), 1, "{p:#?}");
    p.entries.into_iter().next().unwrap()
}

/// (severity, line, column, message) of one diagnostic.
type Diag = (Severity, usize, usize, String);

/// The (severity, line, column, message) of every diagnostic.
fn diags(text: &str) -> Vec<Diag> {
    parse(text)
        .diagnostics
        .into_iter()
        .map(|d| (d.severity, d.line, d.column, d.message))
        .collect()
}

fn err(line: usize, col: usize, msg: &str) -> Diag {
    (Severity::Error, line, col, msg.to_string())
}

fn warn(line: usize, col: usize, msg: &str) -> Diag {
    (Severity::Warning, line, col, msg.to_string())
}

/// Every diagnostic of `text` as the user sees it (`Diagnostic::render`), less what the
/// picture already says: the `path:line:column: ` before the message (the line's number is
/// in front of it, the column is where the `^` stands) and the hint. So a wrong column, line,
/// severity, message or width fails a comparison with it, and its expectation shows the
/// point of the case.
fn shown(text: &str) -> String {
    parse(text)
        .diagnostics
        .iter()
        .map(|d| {
            let full = d.render("t");
            let mut lines = full.lines().filter(|l| !l.starts_with(" = "));
            let head = lines.next().unwrap_or_default();
            let head = head.splitn(4, ':').nth(3).unwrap_or(head).trim_start();
            std::iter::once(head)
                .chain(lines)
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        })
        .collect()
}

/// Asserts that `text`'s diagnostics are `expected` ([`shown`]), written indented like the
/// code around it: the indentation of its first line is taken off every line.
fn assert_shown_in(text: &str, expected: &str) {
    let (expected, got) = (dedent(expected), shown(text));
    assert!(
        got == expected,
        "for {text:?} (- expected, + shown):\n{}",
        testsupport::line_diff(&expected, &got)
    );
}

/// A one-line pmemtab whose diagnostics are `expected` ([`assert_shown_in`]): the line is
/// the one the picture shows (` 1 | LINE`), so each case is written once, the carets under
/// the fault. An entry with errors is dropped, one with only warnings kept.
fn assert_shown(expected: &str) {
    let picture = dedent(expected);
    let line = picture
        .lines()
        .find_map(|l| l.strip_prefix(" 1 | "))
        .unwrap_or_else(|| panic!("no ' 1 | LINE' in {picture:?}"));
    let text = format!("{line}\n");
    assert_shown_in(&text, expected);
    assert_eq!(
        parse(&text).entries.is_empty(),
        picture.lines().any(|l| l.starts_with("error: ")),
        "an entry with errors is dropped, one with warnings kept: {text:?}"
    );
}

/// `text` from its first non-empty line on, less that line's indentation on every line,
/// without the blank last line before the closing quote.
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().skip_while(|l| l.trim().is_empty()).collect();
    let indent = lines.first().map_or(0, |l| l.len() - l.trim_start().len());
    lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            format!(
                "{}\n",
                l.get(indent..)
                    .unwrap_or_else(|| panic!("{l:?} is indented less than the first line"))
            )
        })
        .collect()
}

#[test]
fn full_striped_line() {
    let e = one(&format!("fast0  striped:2M  uuid={U1},uuid={U2}  /mnt/fast  ext4  noatime,nofail,x-systemd.device-timeout=1min30s\n"));
    assert_eq!(e.line, 1);
    assert_eq!(e.name, "fast0");
    assert_eq!(
        e.layout(),
        Layout::Striped {
            chunk_bytes: 2 << 20
        }
    );
    assert_eq!(e.members(), vec![uuid(U1), uuid(U2)]);
    assert_eq!(e.mount_point().map(|m| m.as_str()), Some("/mnt/fast"));
    assert_eq!(e.fstype(), Some(FsType::Ext4));
    assert!(e.options.nofail && !e.options.noauto && !e.mkfs());
    assert_eq!(e.options.device_timeout, Some(Duration::from_secs(90)));
    // nofail stays for mount(8) and systemd (which orders the mount by it); the timeout is
    // pmemtab's own.
    assert_eq!(e.options.mount, vec!["noatime", "nofail"]);
    assert_eq!(e.mount_options(), vec!["dax", "noatime", "nofail"]);
}

#[test]
fn defaults_for_trailing_columns() {
    let e = one(&format!("# comment\n\n   \t\nraw linear uuid={U1}\n"));
    assert_eq!(e.line, 4);
    assert_eq!(e.layout(), Layout::Linear);
    assert_eq!(e.mount_point(), None);
    assert_eq!(e.fstype(), None);
    assert_eq!(e.options, Default::default());
    assert_eq!(e.timeouts().device, Duration::from_secs(30));
    // striped without chunk: 2 MiB; a mount point without type: ext4.
    let e = one(&format!("s striped uuid={U1},uuid={U2} /srv\n"));
    assert_eq!(
        e.layout(),
        Layout::Striped {
            chunk_bytes: 2 << 20
        }
    );
    assert_eq!(e.fstype(), Some(FsType::Ext4));
}

#[test]
fn member_forms() {
    let e = one("m linear name=alpha,addr=0x28000000,ADDR=140000000,/dev/pmem2.1\n");
    assert_eq!(
        e.members(),
        vec![
            Member::Name("alpha".into()),
            Member::Addr(0x2800_0000),
            Member::Addr(0x1_4000_0000),
            Member::DevPath("/dev/pmem2.1".into())
        ]
    );
    assert_shown(
        r#"
        warning: /dev/pmem1 is not stable across boots (pmem numbers change)
         1 | m single /dev/pmem1 - -
           |          ^^^^^^^^^^
        "#,
    );
}

#[test]
fn mount_point_escapes_and_dax_choice() {
    let e = one(&format!("db single uuid={U1} /srv/my\\040data//  xfs  dax=inode,logbufs=8,x-systemd.requires=foo.service\n"));
    assert_eq!(e.mount_point().map(|m| m.as_str()), Some("/srv/my data"));
    assert_eq!(e.fstype(), Some(FsType::Xfs));
    // the user's dax choice is kept and no second dax is added.
    assert_eq!(
        e.mount_options(),
        vec!["dax=inode", "logbufs=8", "x-systemd.requires=foo.service"]
    );
    // A comma inside a value, escaped or quoted, is quoted for mount(8), which would split
    // the option there otherwise.
    let e = one(&format!(
        "o single uuid={U1} /o ext4 errors=remount-ro,context=system_u:object_r:t:s0:c1\\,c2,fscontext=\"a:b:c1,c2\"\n"
    ));
    assert_eq!(
        e.options.mount,
        vec![
            "errors=remount-ro",
            "context=\"system_u:object_r:t:s0:c1,c2\"",
            "fscontext=\"a:b:c1,c2\""
        ]
    );
}

/// Each error class at its position: the line as `check` shows it, the fault underlined.
#[test]
fn error_classes_with_positions() {
    for case in [
        r#"
        error: unknown layout 'stripe'
         1 | fast stripe uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |      ^^^^^^
        "#,
        r#"
        error: invalid stripe chunk '3X'
         1 | fast striped:3X uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |      ^^^^^^^^^^
        "#,
        r#"
        error: stripe chunk 1000 is not a multiple of 4 KiB
         1 | fast striped:1000 uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |      ^^^^^^^^^^^^
        "#,
        r#"
        warning: stripe chunk 64K is not a multiple of 2 MiB: DAX cannot use huge-page faults
         1 | fast striped:64K uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |      ^^^^^^^^^^^
        "#,
        r#"
        error: striped needs at least 2 members, has 1
         1 | fast striped uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: single takes exactly 1 member, has 2
         1 | one single uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: invalid uuid '1234'
         1 | bad linear uuid=1234
           |            ^^^^^^^^^
        "#,
        r#"
        error: empty member
         1 | bad linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d,,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |                                                      ^
        "#,
        r#"
        error: member uuid=27715d95-1bb8-478d-a466-d6e0a569746d is listed twice
         1 | bad linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |                                                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: serial= names a CXL memory device, which a linear entry cannot use
         1 | bad linear serial=42
           |            ^^^^^^^^^
        "#,
        r#"
        error: invalid address 'xyz'
         1 | bad linear addr=xyz
           |            ^^^^^^^^
        "#,
        r#"
        error: at least one member is required
         1 | bad linear -
           |            ^
        "#,
        r#"
        error: 'control' cannot be a device name
         1 | control linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           | ^^^^^^^
        "#,
        r#"
        error: character '/' is not allowed in a device name
         1 | a/b linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |  ^
        "#,
        r#"
        error: device name is 128 bytes long, device-mapper allows at most 127
         1 | nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: a device name is required
         1 | - linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           | ^
        "#,
        r#"
        error: mount point 'mnt' is not an absolute path
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d mnt
           |                                                    ^^^
        "#,
        r#"
        error: mount point '/a/../b' contains . or .. components
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a/../b
           |                                                    ^^^^^^^
        "#,
        r#"
        error: invalid escape in mount point
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a\04 ext4
           |                                                    ^^^^^
        "#,
        r#"
        error: unsupported filesystem type 'btrfs'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a btrfs
           |                                                       ^^^^^
        "#,
        r#"
        error: empty option
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 nofail,,ro
           |                                                                   ^
        "#,
        r#"
        error: invalid device timeout 'infinity'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.device-timeout=infinity
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: invalid device timeout '0'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.device-timeout=0
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: unknown DAX mode 'dax=maybe'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 dax=maybe
           |                                                            ^^^^^^^^^
        "#,
        r#"
        warning: unknown option 'frobnicate', passed to mount as is
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 frobnicate
           |                                                            ^^^^^^^^^^
        "#,
        r#"
        warning: dax=never turns DAX off for this device
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 dax=never
           |                                                            ^^^^^^^^^
        "#,
        r#"
        error: mkfs needs a filesystem type
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - mkfs
           |                                                        ^^^^
        "#,
        r#"
        error: unexpected text 'extra' after the options column
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 ro extra
           |                                                               ^^^^^
        "#,
        r#"
        error: a system-ram entry becomes memory, not a filesystem
         1 | r system-ram uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4
           |                                                        ^^
        "#,
        r#"
        error: missing layout and members columns
         1 | lonely
           |       ^
        "#,
        r#"
        error: missing members column
         1 | lonely linear
           |              ^
        "#,
    ] {
        assert_shown(case);
    }
}

#[test]
fn every_problem_in_a_file_is_reported() {
    let text = format!(
        "a stripe uuid={U1}\nb linear uuid=zz /x ext4\nc linear uuid={U2} /c ext4\nc linear name=beta /d ext4\nd linear uuid={U2}\ne linear name=gamma /c\n"
    );
    assert_shown_in(
        &text,
        r#"
        error: unknown layout 'stripe'
         1 | a stripe uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |   ^^^^^^
        error: invalid uuid 'zz'
         2 | b linear uuid=zz /x ext4
           |          ^^^^^^^
        error: duplicate device name 'c' (first defined on line 3); this line is ignored
         4 | c linear name=beta /d ext4
           | ^
        error: member uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a is already used by 'c' on line 3; this line is ignored
         5 | d linear uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a
           |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        error: mount point /c is already used by 'c' on line 3; this line is ignored
         6 | e linear name=gamma /c
           |                     ^^
        "#,
    );
    let p = parse(&text);
    assert_eq!(
        p.entries
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        vec!["c"]
    );
}

#[test]
fn rendered_diagnostic_points_at_the_fault() {
    let p = parse(&format!("# t\nfast stripe uuid={U1}\n"));
    assert_eq!(
        p.diagnostics[0].render("/etc/pmemtab"),
        format!(
            "/etc/pmemtab:2:6: error: unknown layout 'stripe'\n 2 | fast stripe uuid={U1}\n   |      ^^^^^^\n = expected one of: linear, striped, striped:<chunk> (e.g. striped:2M), single, system-ram, cxl-pmem"
        )
    );
}

#[test]
fn crlf_tabs_and_non_ascii_columns() {
    let e = one(&format!("n\tlinear\tuuid={U1}\t/mnt/é\r\n"));
    assert_eq!(e.mount_point().map(|m| m.as_str()), Some("/mnt/é"));
    // A non-ASCII name is refused at its first bad character; columns count characters.
    assert_shown(
        r#"
        error: character 'é' is not allowed in a device name
         1 | é linear x
           | ^
        error: unknown member 'x'
         1 | é linear x
           |          ^
        "#,
    );
    assert_shown(
        r#"
        error: unknown member 'é'
         1 | n linear é,x
           |          ^
        error: unknown member 'x'
         1 | n linear é,x
           |            ^
        "#,
    );
}

#[test]
fn timespans() {
    assert_eq!(timespan::parse("30"), Some(Duration::from_secs(30)));
    assert_eq!(timespan::parse("500ms"), Some(Duration::from_millis(500)));
    assert_eq!(timespan::parse("2min"), Some(Duration::from_secs(120)));
    assert_eq!(timespan::parse("1h5min3s"), Some(Duration::from_secs(3903)));
    assert_eq!(timespan::parse("5x"), None);
    assert_eq!(timespan::parse("99999999999999999999h"), None);
    // systemd's other units, and `ms` still milliseconds, `M` months, `m` minutes.
    assert_eq!(timespan::parse("1d2h"), Some(Duration::from_secs(93_600)));
    assert_eq!(timespan::parse("1w"), Some(Duration::from_secs(604_800)));
    assert_eq!(timespan::parse("1M"), Some(Duration::from_secs(2_629_800)));
    assert_eq!(timespan::parse("1y"), Some(Duration::from_secs(31_557_600)));
    assert_eq!(timespan::parse("1m"), Some(Duration::from_secs(60)));
    assert_eq!(timespan::parse("5ns"), Some(Duration::from_nanos(5)));
    assert_eq!(
        timespan::parse("1months"),
        Some(Duration::from_secs(2_629_800))
    );
}

/// Out-of-range time limits are the parser's error (so `check` says so), never a panic or a
/// value systemd cannot read further on (issue 18 item 1).
#[test]
fn time_limits_past_a_week_are_refused() {
    for key in ["device-timeout", "mount-timeout", "idle-timeout"] {
        for v in [
            "18446744073709551615",
            "99999999999999999",
            "8d",
            "1y",
            "604801",
        ] {
            let opt = if key == "idle-timeout" {
                format!("x-systemd.automount,x-systemd.{key}={v}")
            } else {
                format!("x-systemd.{key}={v}")
            };
            let text = format!("n single addr=0x28000000 /mnt/n ext4 {opt}\n");
            let what = key.replace('-', " ");
            let d = diags(&text);
            assert!(
                d.iter().any(|d| d.3
                    == format!("{what} '{v}' is longer than pmemtab's limit of 1 week (604800s)")),
                "{text}: {d:?}"
            );
        }
        let ok = if key == "idle-timeout" {
            format!("x-systemd.automount,x-systemd.{key}=1w")
        } else {
            format!("x-systemd.{key}=1w")
        };
        assert_eq!(
            diags(&format!("n single addr=0x28000000 /mnt/n ext4 {ok}\n")),
            vec![]
        );
    }
}

#[test]
fn load_warns_about_a_file_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let dir = testsupport::Scratch::new("load");
    let path = dir.join("pmemtab");
    std::fs::write(&path, format!("a single uuid={U1}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let ok = pmemtab::tab::load(&path).unwrap();
    assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
    let p = pmemtab::tab::load(&path).unwrap();
    assert_eq!(p.diagnostics.len(), 1);
    assert_eq!(p.diagnostics[0].severity, Severity::Warning);
    assert_eq!(
        p.diagnostics[0].message,
        "writable by everyone; it decides what is mounted where at boot"
    );
    assert_eq!(p.entries.len(), 1);
    let missing = pmemtab::tab::load(&dir.join("nope"))
        .unwrap_err()
        .to_string();
    assert!(
        missing.starts_with(&format!("cannot read {}/nope: ", dir.display())),
        "{missing}"
    );
}

/// pmemtab as a FIFO or a device blocked every reader (udev's udev-member, the generator) for
/// as long as nobody wrote to it (issue 28); a file past the cap is refused too. Run in a
/// thread with a deadline, so that a reader that blocks fails this test instead of hanging it.
#[test]
fn load_refuses_what_is_not_a_regular_file_and_caps_the_size() {
    let dir = testsupport::Scratch::new("load-kind");
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let big = dir.join("big");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(pmemtab::tab::parse::MAX_BYTES + 1)
        .unwrap();
    let small = dir.join("small");
    std::fs::write(&small, format!("a single uuid={U1}\n")).unwrap();
    let cases = [
        (
            fifo.clone(),
            Some("it is a FIFO, and pmemtab must be a regular file"),
        ),
        ("/dev/zero".into(), Some("it is a character device")),
        // /dev/null is the empty file, as a unit linked to it is masked.
        ("/dev/null".into(), None),
        (dir.to_path_buf(), Some("it is a directory")),
        (big, Some("it is larger than 16777216 bytes")),
        (small, None),
    ];
    for (path, want) in cases {
        let (tx, rx) = std::sync::mpsc::channel();
        let p = path.clone();
        std::thread::spawn(move || {
            let _ = tx.send(
                pmemtab::tab::load(&p)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
            );
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("loading {} blocked", path.display()));
        match want {
            Some(w) => {
                let e = got.unwrap_err();
                assert!(
                    e.starts_with(&format!("cannot read {}: ", path.display())) && e.contains(w),
                    "{e}"
                );
            }
            None => assert!(got.is_ok(), "{got:?}"),
        }
    }
}

/// The examples in pmemtab(5) are what users copy: each must parse without errors.
#[test]
fn man_page_examples_parse() {
    let man =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../man/pmemtab.5")).unwrap();
    let mut in_example = false;
    let mut lines = Vec::new();
    for l in man.lines() {
        match l {
            ".nf" => in_example = true,
            ".fi" => in_example = false,
            _ if in_example => lines.push(l.replace("\\-", "-")),
            _ => {}
        }
    }
    assert_eq!(lines.len(), 11, "{lines:#?}");
    let parsed = parse(&lines.join("\n"));
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    let names: Vec<&str> = parsed.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names,
        ["fast", "big", "db", "cache", "ram", "scratch", "cxlpm", "data", "cxlroot", "root"]
    );
}

/// Control characters from the file are shown escaped, the caret still under the fault.
#[test]
fn control_characters_are_escaped_when_shown() {
    let p = parse(&format!("x linear uuid={U1} /a ext4 ro,\x1b[2Jx\n"));
    let shown = p.diagnostics[0].render("pmemtab");
    assert_eq!(
        shown,
        format!(
            "pmemtab:1:63: error: option '\\x1b[2Jx' contains a control character\n 1 | x linear uuid={U1} /a ext4 ro,\\x1b[2Jx\n   |                                                               ^^^^^^^^\n = a unit file cannot hold it; remove it"
        )
    );
}

#[test]
fn diagnostics_know_their_entry() {
    let p = parse("a mirror name=x\nb linear uuid=zz\n");
    assert_eq!(p.diagnostics.len(), 2);
    assert!(p.diagnostics[0].concerns("a") && !p.diagnostics[0].concerns("b"));
    assert!(p.diagnostics[1].concerns("b"));
}

/// One byte that is not UTF-8 costs its own line only: an error with line and column, a
/// warning in a comment; the other lines are entries as usual.
#[test]
fn a_bad_byte_costs_only_its_line() {
    let mut text = b"# caf\xe9\n".to_vec();
    text.extend_from_slice(format!("a linear uuid={U1}\n").as_bytes());
    text.extend_from_slice(b"b linear name=x\xff /b\n");
    text.extend_from_slice(format!("c linear uuid={U2}\n").as_bytes());
    let p = pmemtab::tab::parse_bytes(&text);
    let names: Vec<&str> = p.entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["a", "c"]);
    let got: Vec<Diag> = p
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.line, d.column, d.message.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            warn(1, 6, "byte 0xe9 is not UTF-8; comment ignored"),
            err(3, 16, "byte 0xff is not UTF-8; this line is ignored"),
        ]
    );
    assert_eq!(p.diagnostics[1].entry.as_deref(), Some("b"));
    let shown = p.diagnostics[1].render("pmemtab");
    assert_eq!(
        shown.lines().nth(2),
        Some("   |                ^"),
        "{shown}"
    );
}

#[test]
fn uuids_are_taken_in_the_form_the_hint_describes() {
    let d = parse("u linear uuid=27715d951bb8478da466d6e0a569746d\n").diagnostics;
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].message,
        "invalid uuid '27715d951bb8478da466d6e0a569746d'"
    );
    assert!(d[0]
        .hint
        .as_deref()
        .unwrap()
        .contains("32 hexadecimal digits in groups of 8-4-4-4-12"));
    let e = one(&format!("u linear UUID={}\n", U1.to_uppercase()));
    assert_eq!(e.members(), vec![uuid(U1)]);
}

/// Options mean what fstab(5), mount(8) and systemd.mount(5) say, or are refused; none is
/// silently dropped, and none that the generator could not write passes.
#[test]
fn options_mean_what_fstab_says_or_are_refused() {
    for case in [
        r#"
        error: option 'user' is not supported
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 user
           |                                                            ^^^^
        "#,
        r#"
        error: option 'x-systemd.makefs' is not supported
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.makefs
           |                                                            ^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: unknown systemd option 'x-systemd.frobnicate'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.frobnicate
           |                                                            ^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: option 'ro' takes no value
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 ro=1
           |                                                            ^^^^
        "#,
        r#"
        error: option 'errors=' needs a value
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 errors
           |                                                            ^^^^^^
        "#,
        r#"
        warning: option 'mkfs' is given twice
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 mkfs,mkfs
           |                                                                 ^^^^
        "#,
        r#"
        error: option 'dax=never' contradicts 'dax' before it
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 dax,dax=never
           |                                                                ^^^^^^^^^
        "#,
        r#"
        error: option 'auto' contradicts 'noauto' before it
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 noauto,auto
           |                                                                   ^^^^
        "#,
        r#"
        error: option 'x-systemd.device-timeout=6s' contradicts 'x-systemd.device-timeout=5s' before it
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.device-timeout=5s,x-systemd.device-timeout=6s
           |                                                                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        // The value `up` would use was the last one, silently (issue 18 item 11).
        r#"
        error: option 'zone=movable' contradicts 'zone=normal' before it
         1 | ram system-ram uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - zone=normal,zone=movable
           |                                                                          ^^^^^^^^^^^^
        "#,
        r#"
        error: x-systemd.idle-timeout= is the idle time of an automount
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.idle-timeout=5min
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: option 'a\' ends with a backslash
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 a\
           |                                                            ^^
        "#,
        r#"
        error: option 'context="a:b:c1,c2' has a " without its closing one
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 context="a:b:c1,c2
           |                                                            ^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: option 'a,b' holds a comma mount(8) would split at
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 a\,b
           |                                                            ^^^^
        "#,
        r#"
        error: 'comment=systemd.automount' is the old spelling of a systemd option
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 comment=systemd.automount
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: x-systemd.requires-mounts-for= needs an absolute path without blanks, quotes or backslashes, not 'srv'
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.requires-mounts-for=srv
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: '@x' cannot be made a unit name
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.requires=@x
           |                                                            ^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: x-systemd.device-bound needs a device-mapper layout
         1 | x single uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.device-bound
           |                                                            ^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: option 'x-systemd.requires' applies to the mount unit, and this entry has no mount point
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - x-systemd.requires=a.service
           |                                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: option '_netdev' applies to the mount unit, and pmemtab writes no mount unit for / (root= mounts it)
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d / ext4 _netdev
           |                                                           ^^^^^^^
        "#,
        r#"
        error: x-systemd.automount cannot be used with x-initrd.attach: the initrd mounts the device before switching root
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 x-systemd.automount,x-initrd.attach
           |                                                            ^^^^^^^^^^^^^^^^^^^
        "#,
    ] {
        assert_shown(case);
    }
    // A control character is shown escaped, so this line is given apart from its picture.
    assert_shown_in(
        &format!("x linear uuid={U1} /a ext4 ro,a\rb\n"),
        r#"
        error: option 'a\rb' contains a control character
         1 | x linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d /a ext4 ro,a\rb
           |                                                               ^^^^
        "#,
    );
    // Known to systemd or mount(8): no warning.
    assert_shown_in(
        &format!("x linear uuid={U1} /a ext4 _netdev,nosymfollow,symfollow,nostrictatime,iversion,X-mount.mkdir,x-gvfs-show,comment=x,nouser,seclabel\n"),
        "",
    );
}

#[test]
fn systemd_options_become_unit_settings() {
    let e = one(&format!(
        "x linear uuid={U1} /a ext4 nofail,_netdev,x-systemd.requires=foo,x-systemd.requires=/srv/x,x-systemd.after=b.service,x-systemd.before=/dev/sdb,x-systemd.requires-mounts-for=/var//lib/,x-systemd.wanted-by=multi-user.target,x-systemd.required-by=db@1.service,x-systemd.automount,x-systemd.idle-timeout=10min,x-systemd.mount-timeout=2min,x-systemd.rw-only,x-systemd.device-bound\n"
    ));
    let u = &e.options.systemd;
    assert_eq!(u.requires, ["foo.mount", "srv-x.mount"]);
    assert_eq!(u.after, ["b.service"]);
    assert_eq!(u.before, ["dev-sdb.device"]);
    assert_eq!(u.requires_mounts_for, ["/var/lib"]);
    assert_eq!(u.wanted_by, ["multi-user.target"]);
    assert_eq!(u.required_by, ["db@1.service"]);
    assert!(u.automount && u.rw_only);
    assert_eq!(u.idle_timeout, Some(Duration::from_secs(600)));
    assert_eq!(u.mount_timeout, Some(Duration::from_secs(120)));
    assert!(e.options.nofail && e.options.netdev && !e.options.initrd_attach);
    // Everything fstab-generator would keep in Options= is kept, in order.
    assert_eq!(e.options.mount.len(), 14);
    assert_eq!(e.options.mount[0], "nofail");
    // fstab's x-initrd.mount: mounted in the initrd, so attached there; systemd reads it too.
    let e = one(&format!("x linear uuid={U1} /a ext4 x-initrd.mount\n"));
    assert!(e.options.initrd_attach);
    assert_eq!(e.options.mount, ["x-initrd.mount"]);
    // Only pmemtab's own options stay out of Options=.
    let e = one(&format!(
        "x linear uuid={U1} /a ext4 mkfs,x-initrd.attach,x-systemd.device-timeout=1min,defaults,auto\n"
    ));
    assert!(e.options.mount.is_empty(), "{:?}", e.options.mount);
}

/// What the generator cannot write, check refuses: mount points a unit file cannot hold,
/// and names or mount points whose unit names exceed systemd's 255 bytes.
#[test]
fn what_no_unit_can_hold_is_refused() {
    let cases = [
        (
            format!("x linear uuid={U1} /mnt/x\\040 ext4\n"),
            err(
                1,
                52,
                "mount point '/mnt/x ' ends with a blank or a backslash, which a unit file cannot hold",
            ),
        ),
        (
            format!("x linear uuid={U1} /mnt/x\\134 ext4\n"),
            err(
                1,
                52,
                "mount point '/mnt/x\\' ends with a blank or a backslash, which a unit file cannot hold",
            ),
        ),
    ];
    for (text, want) in cases {
        assert_eq!(diags(&text), vec![want], "for {text:?}");
    }
    let long_mp = format!("/{}", "m".repeat(300));
    let d = diags(&format!("x linear uuid={U1} {long_mp} ext4\n"));
    assert_eq!(d.len(), 1);
    assert!(
        d[0].3
            .starts_with(&format!("mount point {long_mp}: unit name ")),
        "{d:?}"
    );
    // 246 bytes fit the host's unit (and its .requires/), but not the initrd's /sysroot one.
    let mp = format!("/{}", "m".repeat(240));
    assert!(diags(&format!("x linear uuid={U1} {mp} ext4\n")).is_empty());
    let d = diags(&format!("x linear uuid={U1} {mp} ext4 x-initrd.attach\n"));
    assert!(d[0].3.contains("unit name sysroot-mmm"), "{d:?}");
    let d = diags(&format!(
        "x linear uuid={U1} {mp} ext4 x-systemd.automount\n"
    ));
    assert!(d[0].3.contains(".automount is 250 bytes long"), "{d:?}");
    // A 127-byte name of dashes escapes to 4 bytes a character.
    let name = format!("a{}", "-".repeat(126));
    let d = diags(&format!("{name} linear uuid={U1}\n"));
    assert_eq!(d.len(), 1);
    assert!(
        d[0].3.starts_with(&format!(
            "device name '{name}' is too long for systemd: unit name dev-mapper-a\\x2d"
        )) && d[0]
            .3
            .ends_with("\\x2d.device is 523 bytes long, more than the 246 that leave room for its '.requires' directory in a 255-byte file name"),
        "{d:?}"
    );
}

/// The parser shows a long line the way the planner does: the part around each fault, with
/// the real column, so one line of 4,000 bad members gives linear, not quadratic, text
/// (issue 18 item 3: it was 155.6 MB).
#[test]
fn a_long_line_shows_the_part_around_each_fault() {
    let n = 4000;
    let members: Vec<String> = (0..n).map(|i| format!("bogus{i:04}")).collect();
    let text = format!("big linear {}\n", members.join(","));
    let d = parse(&text).diagnostics;
    assert_eq!(d.len(), n);
    let total: usize = d.iter().map(|d| d.render("t").len()).sum();
    assert!(total < n * 600, "{total} bytes of diagnostics");
    for k in [0, 1, 2, 1500, 3999] {
        // "big linear " is 11 characters, each member 9 + ','.
        assert_eq!(d[k].column, 12 + 10 * k, "member {k}");
        support::assert_shows_around(&d[k], &members[k]);
    }
    // A short line is still shown whole.
    let d = parse("n linear bogus\n").diagnostics;
    assert_eq!(d[0].source_line, "n linear bogus");
}

/// A mount unit whose name fits systemd's 255 bytes but not with `.wants/` after it is the
/// parser's error, not the generator's ENAMETOOLONG at boot (issue 18 item 10).
#[test]
fn unit_names_leave_room_for_their_directories() {
    // "/" + 248 letters: the unit is 248 + ".mount" = 254 bytes; its .wants/ would be 260.
    let text = format!("n single addr=0x28000000 /{} ext4 -\n", "m".repeat(248));
    let d = diags(&text);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].3.contains(
            "is 254 bytes long, more than the 246 that leave room for its '.requires' directory"
        ),
        "{d:?}"
    );
    // 240 letters: 246 bytes, the longest that fits.
    let text = format!("n single addr=0x28000000 /{} ext4 -\n", "m".repeat(240));
    assert_eq!(diags(&text), vec![]);
}

#[test]
fn numa_mix_is_pmemtabs_own_and_for_dm_layouts_only() {
    let e = one(&format!(
        "both striped uuid={U1},uuid={U2} /mnt/b ext4 numa-mix,noatime\n"
    ));
    assert!(e.options.numa_mix);
    // Never given to mount or written into the mount unit's Options=.
    assert_eq!(e.options.mount, vec!["noatime".to_string()]);
    assert!(
        one(&format!("l linear uuid={U1} - - numa-mix\n"))
            .options
            .numa_mix
    );
    assert!(!one(&format!("l linear uuid={U1} - - -\n")).options.numa_mix);
    assert_shown_in(
        &format!(
            "s single uuid={U1} - - numa-mix\nr system-ram uuid={U2} - - numa-mix\nv linear uuid={U1} - - numa-mix=yes\n"
        ),
        r#"
        error: numa-mix applies to striped and linear entries only
         1 | s single uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - numa-mix
           |                                                        ^^^^^^^^
        error: numa-mix applies to striped and linear entries only
         2 | r system-ram uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a - - numa-mix
           |                                                            ^^^^^^^^
        error: option 'numa-mix' takes no value
         3 | v linear uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - numa-mix=yes
           |                                                        ^^^^^^^^^^^^
        "#,
    );
}

#[test]
fn cxl_pmem_lines() {
    let e = one("cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - size=512M,granularity=256\n");
    assert_eq!(e.layout(), Layout::CxlPmem);
    assert_eq!(
        e.members(),
        vec![Member::Serial(0x2002), Member::Serial(0x2003)]
    );
    assert_eq!(e.options.size, Some(512 << 20));
    assert_eq!(e.options.granularity, Some(256));
    assert!(e.is_cxl() && e.mount_point().is_none() && e.fstype().is_none());
    assert_eq!(e.layout().to_string(), "cxl-pmem");
    assert_eq!(e.members()[0].to_string(), "serial=0x2002");
    // Decimal too, and the defaults (no size=, no granularity=).
    let d = one("cxlpm cxl-pmem serial=8194 - - x-initrd.attach,nofail\n");
    assert_eq!(d.members(), vec![Member::Serial(0x2002)]);
    assert_eq!((d.options.size, d.options.granularity), (None, None));
    assert!(d.options.initrd_attach && d.options.nofail);
    let r = one("expand system-ram serial=0x1001 - - zone=movable,size=256M\n");
    assert_eq!(r.layout(), Layout::SystemRam);
    assert!(r.is_cxl());
    assert_eq!(r.options.size, Some(256 << 20));
}

#[test]
fn cxl_refusals() {
    for case in [
        r#"
        error: serial 0 names no CXL memory device
         1 | p cxl-pmem serial=0
           |            ^^^^^^^^
        "#,
        r#"
        error: invalid serial '0x'
         1 | p cxl-pmem serial=0x
           |            ^^^^^^^^^
        "#,
        r#"
        error: member serial=0x2002 is listed twice
         1 | p cxl-pmem serial=0x2002,serial=8194
           |                          ^^^^^^^^^^^
        "#,
        r#"
        error: a cxl-pmem entry names its CXL memory devices by serial only
         1 | p cxl-pmem serial=0x2002,uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: a system-ram entry names either CXL memory devices (serial=) or devdax namespaces, not both
         1 | r system-ram serial=0x1001,uuid=27715d95-1bb8-478d-a466-d6e0a569746d
           |              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
        r#"
        error: serial= names a CXL memory device, which a single entry cannot use
         1 | p single serial=0x2002 /mnt
           |          ^^^^^^^^^^^^^
        "#,
        r#"
        error: a cxl-pmem entry is a region, not a filesystem
         1 | p cxl-pmem serial=0x2002 /mnt ext4
           |                          ^^^^
        "#,
        r#"
        error: region size 256M is not a multiple of 512M (256 MiB per device, 2 devices)
         1 | p cxl-pmem serial=0x2002,serial=0x2003 - - size=256M
           |                                            ^^^^^^^^^
        "#,
        r#"
        error: invalid interleave granularity '300'
         1 | p cxl-pmem serial=0x2002 - - granularity=300
           |                              ^^^^^^^^^^^^^^^
        "#,
        r#"
        error: invalid region size 'lots'
         1 | p cxl-pmem serial=0x2002 - - size=lots
           |                              ^^^^^^^^^
        "#,
        r#"
        error: zone= applies to system-ram entries only
         1 | p cxl-pmem serial=0x2002 - - zone=movable
           |                              ^^^^^^^^^^^^
        "#,
        r#"
        error: option 'noatime' is about mounting, and a cxl-pmem entry is a region, not mounted (its namespaces' entries are)
         1 | p cxl-pmem serial=0x2002 - - noatime
           |                              ^^^^^^^
        "#,
        r#"
        error: size= and granularity= apply to CXL regions only (cxl-pmem, or system-ram over serial= members)
         1 | p single uuid=27715d95-1bb8-478d-a466-d6e0a569746d /mnt ext4 size=1G
           |                                                              ^^^^^^^
        "#,
        r#"
        error: size= and granularity= apply to a system-ram entry over CXL devices (serial= members) only
         1 | r system-ram uuid=27715d95-1bb8-478d-a466-d6e0a569746d - - granularity=256
           |                                                            ^^^^^^^^^^^^^^^
        "#,
        r#"
        error: a CXL region interleaves 1, 2, 3, 4, 6, 8, 12 or 16 devices, not 5
         1 | p cxl-pmem serial=1,serial=2,serial=3,serial=4,serial=5
           |            ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
        "#,
    ] {
        assert_shown(case);
    }
    assert_shown_in(
        "a cxl-pmem serial=0x2002\nb system-ram serial=0x2002\n",
        r#"
        error: member serial=0x2002 is already used by 'a' on line 1; this line is ignored
         2 | b system-ram serial=0x2002
           |              ^^^^^^^^^^^^^
        "#,
    );
}

#[test]
fn zone_belongs_to_the_system_ram_entry() {
    let normal = one(&format!("ram system-ram uuid={U1} - - zone=normal\n"));
    assert_eq!(normal.zone(), Some(pmemtab::kmem::Zone::Normal));
    let default = one(&format!("ram system-ram uuid={U1}\n"));
    assert_eq!(default.zone(), Some(pmemtab::kmem::Zone::Movable));
    assert_eq!(one(&format!("x linear uuid={U1}\n")).zone(), None);
}
