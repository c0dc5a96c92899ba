//! The generator never panics and always ends with 0, 1 or (a usage error) 2 and one-line
//! messages, whatever pmemtab, command line, arguments or output directory it is given.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn generator(args: &[&Path], pmemtab: Option<&Path>, cmdline: &str) -> Output {
    generator_bytes(args, pmemtab, cmdline.as_bytes())
}

/// [`generator`] with a command line that need not be text, as /proc/cmdline need not be.
fn generator_bytes(args: &[&Path], pmemtab: Option<&Path>, cmdline: &[u8]) -> Output {
    use std::os::unix::ffi::OsStrExt;
    let cmdline = std::ffi::OsStr::from_bytes(cmdline);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pmemtab-generator"));
    cmd.args(args)
        .env_clear()
        .env("SYSTEMD_PROC_CMDLINE", cmdline)
        .env("SYSTEMD_IN_INITRD", "0")
        .env("SYSTEMD_LOG_TARGET", "console")
        .env("SYSTEMD_LOG_LEVEL", "debug");
    if let Some(p) = pmemtab {
        cmd.env("PMEMTAB", p);
    }
    cmd.output().expect("run pmemtab-generator")
}

/// Exit 0, 1 or 2, and every stderr line a `pmemtab-generator: ` message (no panic text).
fn check_sane(o: &Output, what: &str) {
    let code = o.status.code();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(matches!(code, Some(0..=2)), "{what}: exit {code:?}\n{err}");
    for line in err.lines() {
        assert!(
            line.starts_with("pmemtab-generator: "),
            "{what}: stray stderr line {line:?}"
        );
    }
    assert!(!err.contains("panicked"), "{what}: {err}");
}

/// A deterministic generator of awkward text: pmemtab words, escapes, garbage bytes.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn text(&mut self, words: usize) -> String {
        const WORDS: [&str; 42] = [
            "fast",
            "linear",
            "striped",
            "striped:4M",
            "striped:3K",
            "single",
            "system-ram",
            "uuid=27715d95-1bb8-478d-a466-d6e0a569746d",
            "name=a",
            "name=",
            "addr=0x28000000",
            "/dev/pmem0",
            "/mnt/x",
            "/",
            "/mnt/a\\040b",
            "/mnt/\\134",
            "-",
            "ext4",
            "xfs",
            "vfat",
            "nofail",
            "noauto",
            "x-initrd.attach",
            "mkfs",
            "x-systemd.device-timeout=",
            "x-systemd.device-timeout=1min",
            "x-systemd.device-timeout=18446744073709551615",
            "x-systemd.mount-timeout=99999999999999999",
            "dax=never",
            "ro,noatime",
            "a\\,b",
            "%",
            "%i",
            "\"",
            "'",
            "#",
            "\t",
            "\n",
            "\n",
            " ",
            "é",
            "\u{7f}",
        ];
        let mut s = String::new();
        for _ in 0..words {
            s.push_str(WORDS[self.next() % WORDS.len()]);
            if matches!(self.next() % 3, 1 | 2) {
                s.push(' ');
            }
        }
        s
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.next() % from.len()]
    }
    /// Lines of six columns, each usually valid, sometimes noise.
    fn pmemtab(&mut self, lines: usize) -> String {
        let mut s = String::new();
        for i in 0..lines {
            if self.next() % 5 < 1 {
                let w = 1 + self.next() % 8;
                s.push_str(&self.text(w));
                s.push('\n');
                continue;
            }
            let name = format!(
                "{}{i}",
                self.pick(&["pm", "a-b", ".d", "x:y", "é", "a%b", "n"])
            );
            let layout = self.pick(&[
                "linear",
                "striped",
                "striped:4M",
                "single",
                "system-ram",
                "raid5",
            ]);
            let member = format!("name=m{i}");
            let member2 = format!("name=m{i},name=n{i}");
            let members = self
                .pick(&[&member, &member2, "addr=0x28000000", "uuid=zz"])
                .to_string();
            let mp = format!(
                "{}{i}",
                self.pick(&[
                    "/mnt/p",
                    "/mnt/a\\040b",
                    "/srv/%x",
                    "/mnt/\\134q",
                    "rel/",
                    "/"
                ])
            );
            let fs = self.pick(&["ext4", "xfs", "-", "vfat"]);
            let opts = self.pick(&[
                "-",
                "nofail",
                "noauto",
                "x-initrd.attach",
                "mkfs,noatime",
                "x-systemd.device-timeout=5s",
                "dax=inode",
            ]);
            s.push_str(&format!("{name} {layout} {members} {mp} {fs} {opts}\n"));
        }
        s
    }
}

#[test]
fn random_pmemtabs_and_command_lines() {
    let dir = support::temp_dir("robust");
    let tab = dir.join("pmemtab");
    let mut noise = Noise(42);
    let (mut failed, mut generated) = (0, 0);
    for i in 0..150 {
        let (lines, cmd_words) = (1 + noise.next() % 12, noise.next() % 6);
        let text = noise.pmemtab(lines);
        let cmdline = noise.text(cmd_words).replace('\n', " ") + " root=/dev/mapper/fast";
        fs::write(&tab, &text).unwrap();
        let out = dir.join(format!("out{i}"));
        fs::create_dir(&out).unwrap();
        let o = generator(&[&out, &out, &out], Some(&tab), &cmdline);
        check_sane(&o, &format!("run {i} on {text:?} with {cmdline:?}"));
        failed += usize::from(o.status.code() == Some(1));
        generated += usize::from(
            testsupport::read_tree(&out)
                .keys()
                .any(|k| k.starts_with("pmem-assemble@")),
        );
        let _ = fs::remove_dir_all(&out);
    }
    let _ = fs::remove_dir_all(&dir);
    // The noise must exercise both paths, or this test proves little.
    assert!(
        failed >= 20 && generated >= 20,
        "{failed} runs failed, {generated} generated units"
    );
}

/// One entry's bad value, or one entry whose files cannot be written mid-run, costs that entry
/// only: every other entry gets its units, and pmemtab.target names exactly those (issue 18).
#[test]
fn one_failing_entry_costs_only_itself() {
    let dir = support::temp_dir("robust-one");
    let tab = dir.join("pmemtab");
    fs::write(
        &tab,
        "a linear name=a /mnt/a ext4 -\n\
         b linear name=b /mnt/b ext4 x-systemd.device-timeout=18446744073709551615\n\
         c linear name=c /mnt/c ext4 x-systemd.mount-timeout=99999999999999999\n\
         d linear name=d /mnt/d ext4 x-systemd.automount,x-systemd.idle-timeout=1y\n\
         e linear name=e /mnt/e ext4 -\n\
         f linear name=f - - x-systemd.device-timeout=1w\n",
    )
    .unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    // e's service cannot be written: something else holds its path.
    fs::create_dir(out.join("pmem-assemble@e.service")).unwrap();
    let o = generator(&[&out, &out, &out], Some(&tab), "");
    check_sane(&o, "one failing entry");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let tree = testsupport::read_tree(&out);
    for ok in ["a", "f"] {
        assert!(
            tree.contains_key(&format!("pmem-assemble@{ok}.service")),
            "{ok}: {tree:?}\n{err}"
        );
    }
    let Some(testsupport::Node::File(target)) = tree.get("pmemtab.target") else {
        panic!("no pmemtab.target: {tree:?}\n{err}")
    };
    let requires: Vec<&str> = target
        .lines()
        .filter(|l| l.starts_with("Requires="))
        .collect();
    assert_eq!(
        requires,
        [
            "Requires=pmem-assemble@a.service",
            "Requires=pmem-assemble@f.service"
        ],
        "{target}"
    );
    assert!(
        tree.contains_key("system-pmem\\x2dassemble.slice"),
        "{tree:?}"
    );
    for bad in ["b", "c", "d"] {
        assert!(
            !tree.keys().any(|k| k.contains(&format!("@{bad}."))),
            "{bad}: {tree:?}"
        );
    }
    assert!(
        err.contains("is longer than pmemtab's limit of 1 week"),
        "{err}"
    );
    assert!(err.contains(":5: e: "), "{err}");
    // f's unit: a week for the device, 10 s to take it back and 30 s of work, in a form
    // systemd reads; its device job: the week, as written.
    let Some(testsupport::Node::File(f)) = tree.get("pmem-assemble@f.service") else {
        panic!("{tree:?}")
    };
    assert!(f.contains("TimeoutStartSec=604840s"), "{f}");
    let Some(testsupport::Node::File(d)) =
        tree.get("dev-mapper-f.device.d/00-pmemtab-device-timeout.conf")
    else {
        panic!("{tree:?}")
    };
    assert!(d.contains("JobRunningTimeoutSec=604800s"), "{d}");
    let _ = fs::remove_dir_all(&dir);
}

/// The longest names the parser accepts are names the generator can write: every file and
/// directory, `<unit>.requires/` included, fits a file name (issue 18 item 10).
#[test]
fn the_longest_accepted_names_are_written() {
    let dir = support::temp_dir("robust-long");
    let tab = dir.join("pmemtab");
    // A 127-byte device name (dm's limit) and a mount point whose unit is 246 bytes, in the
    // booted system (its .automount) and (x-initrd.attach) below /sysroot.
    let name = "n".repeat(127);
    let mp = format!("/{}", "m".repeat(236));
    let mp2 = format!("/{}", "m".repeat(232));
    fs::write(
        &tab,
        format!("{name} linear name=a {mp} ext4 x-systemd.automount\nb linear name=b {mp2} ext4 x-initrd.attach\n"),
    )
    .unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    let o = generator(&[&out, &out, &out], Some(&tab), "");
    check_sane(&o, "longest names");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    let tree = testsupport::read_tree(&out);
    let longest = tree
        .keys()
        .flat_map(|k| k.split('/'))
        .map(str::len)
        .max()
        .unwrap();
    assert!(longest > 246 && longest <= 255, "{longest}");
    assert!(
        tree.contains_key(&format!("pmem-assemble@{name}.service")),
        "{tree:?}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn bad_invocations_and_unreadable_inputs_fail_cleanly() {
    let dir = support::temp_dir("robust-bad");
    let tab = dir.join("pmemtab");
    fs::write(&tab, "fast linear name=a /mnt/fast ext4 -\n").unwrap();

    // Wrong argument counts: usage errors.
    for args in [vec![], vec![dir.path(), dir.path()]] {
        let o = generator(&args, Some(&tab), "");
        check_sane(&o, "bad arguments");
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("one or three arguments"));
    }

    // An argument that is not UTF-8: a usage error naming it, no panic (issue 28).
    let odd = {
        use std::os::unix::ffi::OsStrExt;
        dir.join(std::ffi::OsStr::from_bytes(b"out-\xff"))
    };
    fs::create_dir(&odd).unwrap();
    let o = generator(&[&odd], Some(&tab), "");
    check_sane(&o, "non-UTF-8 argument");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("argument 1 '") && err.contains("out-\\xff' is not UTF-8"),
        "{err}"
    );
    assert_eq!(fs::read_dir(&odd).unwrap().count(), 0, "nothing written");

    // Bytes that are not UTF-8 cost their own line only: an error naming the line and
    // column, exit 1, and the other lines' units written.
    let bin = dir.join("binary");
    fs::write(
        &bin,
        b"# r\xe9sum\xe9\nfast linear name=\xff\xfe /mnt/x\ngood linear name=g /mnt/g\n",
    )
    .unwrap();
    let out = dir.join("out-bin");
    fs::create_dir(&out).unwrap();
    let o = generator(&[&out], Some(&bin), "");
    check_sane(&o, "non-UTF-8 pmemtab");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let path = bin.display().to_string();
    assert!(
        err.contains(&format!(
            "{path}:1:4: warning: byte 0xe9 is not UTF-8; comment ignored"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{path}:2:18: error: byte 0xff is not UTF-8; this line is ignored"
        )),
        "{err}"
    );
    let tree = testsupport::read_tree(&out);
    assert!(tree.contains_key("pmem-assemble@good.service"), "{tree:?}");
    assert!(!tree.contains_key("pmem-assemble@fast.service"), "{tree:?}");

    // --help is not an output directory; other options are usage errors.
    let o = generator(&[Path::new("--help")], Some(&tab), "");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("usage: pmemtab-generator normal-dir"));
    assert!(!Path::new("--help").exists());
    let o = generator(&[Path::new("-x")], Some(&tab), "");
    check_sane(&o, "unknown option");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown option '-x'"));

    // A missing output directory: an error naming it, exit 1.
    let missing = dir.join("no/such/dir");
    let o = generator(&[&missing], Some(&tab), "");
    check_sane(&o, "missing output dir");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains(&*missing.display().to_string()));

    // No pmemtab at all: nothing to do, success, nothing written.
    let out = dir.join("out-none");
    fs::create_dir(&out).unwrap();
    let o = generator(&[&out], Some(&dir.join("absent")), "");
    check_sane(&o, "absent pmemtab");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(fs::read_dir(&out).unwrap().count(), 0);

    // A unit already present (another generator wrote it): that entry fails, and leaves
    // none of its other files behind.
    let out = dir.join("out-clash");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("mnt-fast.mount"), "# someone else's\n").unwrap();
    let o = generator(&[&out], Some(&tab), "");
    check_sane(&o, "clash");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("already exists"));
    let tree = testsupport::read_tree(&out);
    let names: Vec<&str> = tree.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "mnt-fast.mount",
            "pmemtab.target",
            "sysinit.target.wants/pmemtab.target",
            "system-pmem\\x2dassemble.slice"
        ],
        "{names:?}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// Names that `pmem-assemble up`/`down` would read as a command or an option, and
/// device-mapper's own `control`, get no units: the parser's one name rule refuses them.
#[test]
fn names_read_as_arguments_or_reserved_get_no_units() {
    let dir = support::temp_dir("robust-names");
    let tab = dir.join("pmemtab");
    fs::write(
        &tab,
        "help linear name=a /mnt/a ext4 -\n-x linear name=b /mnt/b ext4 -\ncontrol linear name=c /mnt/c ext4 -\ngood linear name=g /mnt/g ext4 -\n",
    )
    .unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    let o = generator(&[&out], Some(&tab), "");
    check_sane(&o, "names");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    let path = tab.display().to_string();
    for (line, name, why) in [
        (
            1,
            "help",
            "pmem-assemble would read it as an option or command",
        ),
        (
            2,
            "-x",
            "pmem-assemble would read it as an option or command",
        ),
        (3, "control", ""),
    ] {
        let want = format!("{path}:{line}:1: error: '{name}' cannot be a device name");
        assert!(err.contains(&want) && err.contains(why), "{want}\n{err}");
    }
    let tree = testsupport::read_tree(&out);
    assert!(tree.contains_key("pmem-assemble@good.service"), "{tree:?}");
    assert!(
        tree.keys()
            .filter(|k| k.contains("pmem-assemble@"))
            .all(|k| k.contains("pmem-assemble@good.service")),
        "{tree:?}"
    );
}

/// One byte that is not UTF-8 in the kernel command line (a word for another program) costs
/// that word only (issue 28): the escape hatch `pmemtab=0` is still honoured, and the root
/// named by `root=` is still attached in the initrd.
#[test]
fn a_command_line_that_is_not_utf8_keeps_every_other_word() {
    let dir = support::temp_dir("robust-cmdline-bytes");
    let tab = dir.join("pmemtab");
    fs::write(
        &tab,
        "root linear name=a - - -\nfast linear name=b /mnt/fast ext4 -\n",
    )
    .unwrap();
    let off = dir.join("off");
    fs::create_dir(&off).unwrap();
    let o = generator_bytes(&[&off], Some(&tab), b"quiet label=Ger\xe4t pmemtab=0");
    check_sane(&o, "pmemtab=0 beside a non-UTF-8 word");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(
        fs::read_dir(&off).unwrap().count(),
        0,
        "disabled: nothing written"
    );

    let initrd = dir.join("initrd");
    fs::create_dir(&initrd).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pmemtab-generator"));
    let o = cmd
        .arg(&initrd)
        .env_clear()
        .env("PMEMTAB", &tab)
        .env("SYSTEMD_IN_INITRD", "1")
        .env("SYSTEMD_LOG_TARGET", "console")
        .env("SYSTEMD_PROC_CMDLINE", {
            use std::os::unix::ffi::OsStrExt;
            std::ffi::OsStr::from_bytes(b"\xff root=/dev/mapper/root rootflags=dax \xfe")
        })
        .output()
        .unwrap();
    check_sane(&o, "root= beside non-UTF-8 words");
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let tree = testsupport::read_tree(&initrd);
    assert!(tree.contains_key("pmem-assemble@root.service"), "{tree:?}");
    assert!(!tree.contains_key("pmem-assemble@fast.service"), "{tree:?}");
    let _ = fs::remove_dir_all(&dir);
}

/// pmemtab as a FIFO (or a device) blocked the generator, and with it the boot, for as long as
/// nobody wrote to it (issue 28): now one error naming it, at once, and nothing generated.
#[test]
fn a_pmemtab_that_is_not_a_regular_file_is_refused_at_once() {
    let dir = support::temp_dir("robust-fifo");
    let fifo = dir.join("pmemtab");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for tab in [fifo.as_path(), Path::new("/dev/zero")] {
        let out = dir.join("out");
        let _ = fs::remove_dir_all(&out);
        fs::create_dir(&out).unwrap();
        let o = testsupport::output_within(
            Command::new(env!("CARGO_BIN_EXE_pmemtab-generator"))
                .arg(&out)
                .env_clear()
                .env("PMEMTAB", tab)
                .env("SYSTEMD_PROC_CMDLINE", "")
                .env("SYSTEMD_IN_INITRD", "0")
                .env("SYSTEMD_LOG_TARGET", "console"),
            std::time::Duration::from_secs(10),
        );
        check_sane(&o, "not a regular file");
        assert_eq!(o.status.code(), Some(1));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&format!("cannot read {}: it is a", tab.display()))
                && err.contains("pmemtab must be a regular file"),
            "{err}"
        );
        assert_eq!(fs::read_dir(&out).unwrap().count(), 0, "nothing written");
    }
    let _ = fs::remove_dir_all(&dir);
}
