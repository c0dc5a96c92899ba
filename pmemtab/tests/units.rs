//! `pmem-assemble check` and the generator cannot disagree: both read pmemtab with
//! `units::load`, which refuses a line exactly when the renderer refuses its entry. These tests
//! hold that over a grid of awkward entries against an oracle the renderer does not share
//! (every file and link the generator would write fits a 255-byte file name and is named as
//! systemd names units), and check that no other code names the units.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pmemtab::systemd::is_unit_name;
use pmemtab::units::{self, Context, Output};
use std::path::Path;

const U1: &str = "27715d95-1bb8-478d-a466-d6e0a569746d";
const U2: &str = "e3fe0190-5c02-43c9-a08a-5958561ac30a";

/// Whether every path the generator would create from `out` can be created and is a unit (or a
/// unit's directory, or a drop-in in one): the limits systemd and the kernel apply, not the
/// renderer's own arithmetic.
fn writable(out: &Output) -> Result<(), String> {
    let paths = out.files.iter().map(|(p, _)| (p, true));
    let links = out.links.iter().map(|(p, _)| (p, false));
    for (path, file) in paths.chain(links) {
        let parts: Vec<&str> = path.split('/').collect();
        if let Some(long) = parts.iter().find(|p| p.len() > 255) {
            return Err(format!("{path}: component of {} bytes", long.len()));
        }
        let (dir, last) = match parts.as_slice() {
            [last] => (None, *last),
            [dir, last] => (Some(*dir), *last),
            _ => return Err(format!("{path}: unexpected depth")),
        };
        if let Some(dir) = dir {
            let unit = [".requires", ".wants", ".d"]
                .iter()
                .find_map(|s| dir.strip_suffix(s))
                .ok_or_else(|| format!("{path}: directory of no unit"))?;
            if !is_unit_name(unit) {
                return Err(format!("{path}: {unit} is not a unit name"));
            }
        }
        let drop_in = file && dir.is_some_and(|d| d.ends_with(".d")) && last.ends_with(".conf");
        if !drop_in && !is_unit_name(last) {
            return Err(format!("{path}: {last} is not a unit name"));
        }
    }
    Ok(())
}

/// Names around the lengths at which the units named after them stop fitting (a `-` escapes
/// to 4 bytes: the device, service, DAX check and blockdev units have 18, 22, 26 and 27
/// bytes besides the name), and names systemd escapes unevenly.
fn names() -> Vec<String> {
    let mut v: Vec<String> = ["a", "fast-1", ".hidden", "a#b+c=d@e:f", "x.y_z"]
        .map(String::from)
        .to_vec();
    for dashes in 53..=58 {
        v.push(format!("a{}", "-".repeat(dashes)));
        v.push(format!(".{}", "-".repeat(dashes)));
    }
    v.push("a".repeat(127));
    v
}

/// Mount points as written (escapes, duplicate slashes) and around the lengths at which the
/// mount unit, its automount and its `/sysroot` twin in the initrd stop fitting.
fn mount_points() -> Vec<String> {
    let mut v: Vec<String> = [
        "-",
        "/",
        "/usr",
        "/mnt/a",
        "//mnt//fast-1/",
        "/mnt/my\\040disk",
        "/mnt/50%",
        "/.hidden/x",
    ]
    .map(String::from)
    .to_vec();
    for n in [231, 232, 233, 236, 237, 240, 241] {
        v.push(format!("/{}", "m".repeat(n)));
    }
    for n in [55, 56, 57, 58, 59] {
        v.push(format!("/m/{}", "-".repeat(n)));
    }
    v
}

const LAYOUTS: [&str; 5] = [
    "linear uuid=U1",
    "striped:2M uuid=U1,uuid=U2",
    "single uuid=U1",
    "system-ram uuid=U1",
    "cxl-pmem serial=0x2003,serial=0x2002",
];

const OPTIONS: [&str; 8] = [
    "-",
    "x-initrd.attach",
    "x-systemd.automount",
    "nofail",
    "noauto",
    "dax=never",
    "x-systemd.device-timeout=5s",
    "x-systemd.validatefs",
];

#[test]
fn check_refuses_exactly_what_the_generator_cannot_write() {
    let (mut accepted, mut refused) = (0, 0);
    for name in names() {
        for layout in LAYOUTS {
            let layout = layout.replace("U1", U1).replace("U2", U2);
            for mp in mount_points() {
                for opts in OPTIONS {
                    let fs = if mp == "-" { "-" } else { "ext4" };
                    let line = format!("{name} {layout} {mp} {fs} {opts}\n");
                    // The parser's own verdict first: a line it refuses has no entry to render.
                    let raw = pmemtab::tab::parse(&line);
                    if raw.has_errors() {
                        continue;
                    }
                    // What `check` and the generator's log say of the line.
                    let read = units::parse(&line);
                    let said: Vec<&str> = read
                        .diagnostics
                        .iter()
                        .filter(|d| d.is_error())
                        .map(|d| d.message.as_str())
                        .collect();
                    // What the generator renders of it, in each phase, with and without a
                    // kernel command line naming it.
                    let mut refusals = Vec::new();
                    for in_initrd in [false, true] {
                        let ctx =
                            Context::new("/usr/sbin/pmem-assemble", "/etc/pmemtab", in_initrd);
                        for cmdline in [
                            String::new(),
                            format!("root=/dev/mapper/{name}"),
                            format!("mount.usr=/dev/mapper/{name}"),
                        ] {
                            let cmd = pmemtab::cmdline::parse(&cmdline, in_initrd);
                            let boot = pmemtab::cmdline::boot_devices(&raw.entries, &cmd);
                            let (chosen, _) = units::select(&raw.entries, &boot, in_initrd);
                            for c in &chosen {
                                match units::render(&ctx, c) {
                                    Ok(out) if said.is_empty() => {
                                        if let Err(why) = writable(&out) {
                                            panic!("{line:?} passes check, but in phase initrd={in_initrd} cmdline={cmdline:?}: {why}");
                                        }
                                    }
                                    Ok(_) => {}
                                    Err(e) if said.is_empty() => panic!(
                                        "{line:?} passes check, but the generator refuses it (initrd={in_initrd}, cmdline={cmdline:?}): {e}"
                                    ),
                                    Err(e) if cmdline.is_empty() => refusals.push(e.to_string()),
                                    Err(_) => {}
                                }
                            }
                        }
                    }
                    if said.is_empty() {
                        assert_eq!(read.entries.len(), 1, "{line:?}");
                        accepted += 1;
                    } else {
                        // Refused only for what the renderer refuses, in its words.
                        assert_eq!(said.len(), 1, "{line:?}: {said:?}");
                        assert!(
                            refusals.iter().any(|r| r == said[0]),
                            "{line:?}: check says {said:?}, the generator {refusals:?}"
                        );
                        assert!(read.entries.is_empty(), "{line:?}");
                        refused += 1;
                    }
                }
            }
        }
    }
    // The grid reaches both sides of every limit.
    assert!(
        accepted > 1000 && refused > 500,
        "{accepted} accepted, {refused} refused"
    );
}

/// Only the renderer (and systemd.rs, the escaping rules it uses) names the units: nothing
/// else may predict which units an entry gets or whether they fit.
#[test]
fn only_the_renderer_names_units() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let namers = [
        "service_unit(",
        "device_unit(",
        "dax_check_unit(",
        "blockdev_target(",
        "mount_unit(",
        "systemd::checked(",
        "sd::checked(",
        "DERIVED_UNIT_MAX",
    ];
    let mut dirs: Vec<_> = ["pmemtab/src", "assembler/src", "generator/src", "grub/src"]
        .iter()
        .map(|d| root.join(d))
        .collect();
    let mut seen = 0;
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let rel = path.strip_prefix(&root).unwrap().display().to_string();
            if rel.starts_with("pmemtab/src/units/") || rel == "pmemtab/src/systemd.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            seen += 1;
            for n in namers {
                // As a word: `check_mount_unit(` is not `mount_unit(`.
                let named = text.match_indices(n).any(|(at, _)| {
                    !text[..at]
                        .chars()
                        .next_back()
                        .is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                assert!(!named, "{rel} names units ({n}): ask pmemtab::units");
            }
        }
    }
    assert!(seen > 50, "only {seen} files read");
}

/// x-systemd.validatefs names a unit and a drop-in 21 and 35 bytes longer than the mount unit:
/// the old prediction of the mount unit alone let check pass lines the generator then failed
/// to write (ENAMETOOLONG). The renderer refuses them, and check says so at the mount point.
#[test]
fn validatefs_names_that_cannot_be_written_are_refused_at_the_mount_point() {
    let mp = format!("/{}", "m".repeat(220));
    let fits = format!("v linear uuid={U1} {mp} ext4 -\n");
    assert!(!units::parse(&fits).has_errors());
    let line = format!("v linear uuid={U1} {mp} ext4 x-systemd.validatefs\n");
    let read = units::parse(&line);
    let d: Vec<_> = read
        .diagnostics
        .iter()
        .map(|d| d.render("pmemtab"))
        .collect();
    assert_eq!(d.len(), 1, "{d:?}");
    let first = d[0].lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "pmemtab:1:52: error: mount point {mp}: x-systemd.validatefs needs a file named 50-order-systemd-validatefs@mmm"
        )) && first.ends_with(".service.conf, 261 bytes long, more than a file name can be (255)"),
        "{first}"
    );
    // Without the target's drop-in (noauto), only the link in the mount's .wants/ must fit.
    let noauto = format!("v linear uuid={U1} {mp} ext4 x-systemd.validatefs,noauto\n");
    assert!(!units::parse(&noauto).has_errors());
}
