//! systemd itself as the oracle: every golden output tree passes `systemd-analyze verify` in a
//! throwaway root (the host's unit directory copied, a stub pmem-assemble at the path the
//! units run), and systemd's own generator pipeline (`--generators=true`) runs
//! pmemtab-generator and accepts what it writes. A unit warning fails like an error does.
//! systemd must be installed (tests/run-all does `apt-get install systemd`).

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use testsupport::{Node, Tree};

const ASSEMBLER: &str = match option_env!("PMEMTAB_ASSEMBLE_PATH") {
    Some(p) => p,
    None => "/usr/sbin/pmem-assemble",
};

/// A root with the system's units and an executable stub at the assembler's path.
fn make_root(tag: &str) -> testsupport::Scratch {
    let root = support::temp_dir(tag);
    let units = ["/usr/lib/systemd/system", "/lib/systemd/system"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.join("local-fs.target").exists())
        .expect("systemd's unit directory (apt-get install systemd)");
    let dest = root.join("usr/lib/systemd/system");
    fs::create_dir_all(&dest).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(format!("{}/.", units.display()))
        .arg(&dest)
        .status()
        .unwrap();
    assert!(status.success(), "copying {}", units.display());
    let stub = root.join(ASSEMBLER.trim_start_matches('/'));
    fs::create_dir_all(stub.parent().unwrap()).unwrap();
    fs::write(&stub, "#!/bin/sh\nexit 0\n").unwrap();
    fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir_all(root.join("etc/systemd/system")).unwrap();
    root
}

/// The unit names a tree defines or configures: unit files, and devices with drop-ins or
/// `.requires/` links (verifying a device loads its drop-ins and requirements).
///
/// A name with `:` cannot be given to `systemd-analyze verify`, which reads `SRC:ALIAS` there;
/// such units are checked as dependencies of the targets and devices that link to them
/// (parse errors and warnings; not the executable check), so each must be linked.
fn unit_names(tree: &Tree) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for path in tree.keys() {
        let first = path.split('/').next().unwrap_or_default();
        let unit = first
            .trim_end_matches(".d")
            .trim_end_matches(".requires")
            .trim_end_matches(".wants");
        let is_unit = [".service", ".mount", ".automount", ".target", ".device"]
            .iter()
            .any(|s| unit.ends_with(s));
        if !is_unit || names.iter().any(|n| n == unit) {
            continue;
        }
        if unit.contains(':') {
            let linked = tree
                .values()
                .any(|n| *n == Node::Link(format!("../{unit}")));
            assert!(
                linked || unit.ends_with(".device"),
                "{unit} has a ':' and no link pulls it in"
            );
            continue;
        }
        names.push(unit.to_string());
    }
    names
}

/// Runs `systemd-analyze verify` on `units`; Err with the output on a non-zero exit or any
/// message at all (systemd only warns about unknown keys and many bad values).
fn verify(
    root: &Path,
    units: &[String],
    generators: Option<(&Path, &[(&str, String)])>,
) -> Result<(), String> {
    let mut cmd = Command::new("systemd-analyze");
    cmd.arg(format!("--root={}", root.display()))
        .arg("--man=no");
    cmd.env_remove("SYSTEMD_UNIT_PATH")
        .env("SYSTEMD_LOG_LEVEL", "info")
        .env("SYSTEMD_LOG_TARGET", "console");
    if let Some((dir, env)) = generators {
        cmd.arg("--generators=true")
            .env("SYSTEMD_GENERATOR_PATH", dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
    } else {
        cmd.arg("--generators=false");
    }
    cmd.arg("verify").args(units);
    let o = cmd
        .output()
        .map_err(|e| format!("cannot run systemd-analyze ({e}); apt-get install systemd"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if o.status.success() && text.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("exit {:?}\n{text}", o.status.code()))
    }
}

/// Copies an expected tree into the root's /etc/systemd/system, the token made a real path.
fn install(root: &Path, tree: &Tree) {
    let dir = root.join("etc/systemd/system");
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let real: Tree = tree
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Node::File(t) => Node::File(t.replace(support::PMEMTAB_TOKEN, "/etc/pmemtab")),
                l => l.clone(),
            };
            (k.clone(), v)
        })
        .collect();
    testsupport::write_tree(&dir, &real);
}

#[test]
fn every_golden_output_passes_systemd_analyze_verify() {
    let root = make_root("verify");
    let mut failures = String::new();
    let mut verified = 0;
    for case in support::cases() {
        let tree = testsupport::read_tree(&case.join("expected"));
        let units = unit_names(&tree);
        if units.is_empty() {
            continue;
        }
        install(&root, &tree);
        match verify(&root, &units, None) {
            Ok(()) => verified += units.len(),
            Err(e) => failures.push_str(&format!("\n=== {}: {units:?}\n{e}", case.display())),
        }
    }
    let _ = fs::remove_dir_all(&root);
    assert!(
        failures.is_empty(),
        "systemd-analyze verify rejected golden output:{failures}"
    );
    assert!(verified >= 40, "only {verified} units verified");
}

/// The check must be able to fail: a mount whose Where= does not match its name, an unknown
/// key, and a missing assembler are each reported.
#[test]
fn verify_rejects_broken_units() {
    let root = make_root("verify-broken");
    let good = testsupport::read_tree(&support::golden_dir().join("basic-host/expected"));
    let units = unit_names(&good);
    install(&root, &good);
    verify(&root, &units, None).expect("the unmodified case passes");

    type Breakage<'a> = (&'a str, &'a dyn Fn(&str) -> String);
    let breakages: [Breakage; 3] = [
        ("mnt-fast.mount", &|t| {
            t.replace("Where=/mnt/fast", "Where=/mnt/slow")
        }),
        ("pmem-assemble@fast.service", &|t| {
            t.replace(
                "RemainAfterExit=yes",
                "RemainAfterExit=yes\nRemaimAfterExit=no",
            )
        }),
        ("pmem-assemble@fast.service", &|t| {
            t.replace(ASSEMBLER, "/usr/sbin/pmem-assemble-missing")
        }),
    ];
    for (unit, f) in breakages {
        let mut broken = good.clone();
        let Some(Node::File(text)) = broken.get(unit).cloned() else {
            panic!("{unit} not in basic-host")
        };
        let changed = f(&text);
        assert_ne!(changed, text, "breakage of {unit} changed nothing");
        broken.insert(unit.to_string(), Node::File(changed));
        install(&root, &broken);
        let r = verify(&root, &units, None);
        assert!(r.is_err(), "broken {unit} passed verify");
    }
    let _ = fs::remove_dir_all(&root);
}

/// systemd runs pmemtab-generator itself (as at boot), then loads and verifies its units.
#[test]
fn systemd_runs_the_generator_and_accepts_its_units() {
    let root = make_root("generators");
    let gen_dir = support::temp_dir("generator-bin");
    fs::copy(
        env!("CARGO_BIN_EXE_pmemtab-generator"),
        gen_dir.join("pmemtab-generator"),
    )
    .unwrap();
    for name in [
        "layouts-host",
        "escaping",
        "initrd-attach",
        "initrd-root",
        "nofail-noauto",
        "x-systemd-options",
    ] {
        let case = support::golden_dir().join(name);
        let tree = testsupport::read_tree(&case.join("expected"));
        let units = unit_names(&tree);
        assert!(!units.is_empty(), "{name} generates units");
        let cmdline = fs::read_to_string(case.join("cmdline")).unwrap();
        let env = [
            ("PMEMTAB", case.join("pmemtab").display().to_string()),
            ("SYSTEMD_PROC_CMDLINE", cmdline.trim_end().to_string()),
            (
                "SYSTEMD_IN_INITRD",
                if case.join("initrd").exists() {
                    "1"
                } else {
                    "0"
                }
                .to_string(),
            ),
        ];
        if let Err(e) = verify(&root, &units, Some((&gen_dir, &env))) {
            panic!("case {name}: systemd's generator run rejected or lacked units {units:?}:\n{e}");
        }
    }
    // Without the generator the same units do not exist: the run above really used it.
    let units = unit_names(&testsupport::read_tree(
        &support::golden_dir().join("basic-host/expected"),
    ));
    assert!(
        verify(&root, &units, None).is_err(),
        "units found without running the generator"
    );
    let _ = fs::remove_dir_all(&root);
    let _ = fs::remove_dir_all(&gen_dir);
}

/// A unit ordered after local-fs.target and before a mount: an ordering cycle exactly when
/// the mount is ordered before local-fs.target.
fn probe(mount: &str) -> Node {
    Node::File(format!(
        "[Unit]\nDefaultDependencies=no\nWants=local-fs.target {mount}\nAfter=local-fs.target\nBefore={mount}\n\n[Service]\nType=oneshot\nExecStart={ASSEMBLER}\n"
    ))
}

/// `nofail` means the boot does not wait for the mount: systemd must not order it before
/// local-fs.target. It does so by itself unless `nofail` is in `Options=`, so the generator
/// keeps it there, as fstab-generator does (whose unit for the same fstab line is the
/// oracle here). Without it (the unit pmemtab wrote before), verify finds the cycle.
#[test]
fn a_nofail_mount_is_not_ordered_before_local_fs() {
    let root = make_root("nofail-order");
    let mut tree = testsupport::read_tree(&support::golden_dir().join("nofail-noauto/expected"));
    tree.insert("probe.service".into(), probe("mnt-opt.mount"));
    let units = vec!["probe.service".to_string()];
    install(&root, &tree);
    verify(&root, &units, None).expect("no cycle with the generated nofail mount");

    let mut old = tree.clone();
    let Some(Node::File(m)) = old.get("mnt-opt.mount").cloned() else {
        panic!("no mnt-opt.mount")
    };
    assert!(m.contains("Options=dax,nofail\n"), "{m}");
    old.insert(
        "mnt-opt.mount".into(),
        Node::File(m.replace("Options=dax,nofail\n", "Options=dax\n")),
    );
    install(&root, &old);
    let e = verify(&root, &units, None).expect_err("the old unit is ordered before local-fs");
    assert!(e.contains("ordering cycle"), "{e}");

    // fstab-generator's unit for `/dev/mapper/opt /mnt/opt ext4 nofail,dax`: no cycle either.
    let fsg = [
        "/usr/lib/systemd/system-generators",
        "/lib/systemd/system-generators",
    ]
    .into_iter()
    .map(|d| Path::new(d).join("systemd-fstab-generator"))
    .find(|p| p.exists())
    .expect("systemd-fstab-generator (apt-get install systemd)");
    let dir = support::temp_dir("nofail-fstab");
    let fstab = dir.join("fstab");
    fs::write(&fstab, "/dev/mapper/opt /mnt/opt ext4 nofail,dax 0 0\n").unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    let st = Command::new(&fsg)
        .args([&out, &out, &out])
        .env("SYSTEMD_FSTAB", &fstab)
        .env("SYSTEMD_PROC_CMDLINE", "")
        .env("SYSTEMD_LOG_TARGET", "console")
        .status()
        .unwrap();
    assert!(st.success());
    let theirs = testsupport::read_tree(&out);
    let Some(Node::File(their_mount)) = theirs.get("mnt-opt.mount") else {
        panic!("fstab-generator wrote no mnt-opt.mount: {theirs:?}")
    };
    assert!(
        their_mount.contains("Options=nofail,dax\n"),
        "{their_mount}"
    );
    let mut with_theirs = tree.clone();
    with_theirs.insert("mnt-opt.mount".into(), Node::File(their_mount.clone()));
    install(&root, &with_theirs);
    verify(&root, &units, None).expect("no cycle with fstab-generator's unit");
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&root);
}

/// x-systemd.before= orders the mount (and its DAX check) before the unit named, and
/// x-systemd.after=/requires= after theirs: a probe ordered after srv-late.mount and before
/// srv-deps.mount is a cycle, one ordered the other way round is not.
#[test]
fn x_systemd_ordering_reaches_systemd() {
    let root = make_root("x-systemd-order");
    let tree = testsupport::read_tree(&support::golden_dir().join("x-systemd-options/expected"));
    let probe_unit = |after: &str, before: &str| {
        Node::File(format!(
            "[Unit]\nDefaultDependencies=no\nWants={after} {before}\nAfter={after}\nBefore={before}\n\n[Service]\nType=oneshot\nExecStart={ASSEMBLER}\n"
        ))
    };
    let units = vec!["probe.service".to_string()];
    let mut t = tree.clone();
    t.insert(
        "probe.service".into(),
        probe_unit("srv-deps.mount", "srv-late.mount"),
    );
    install(&root, &t);
    verify(&root, &units, None).expect("deps before late: no cycle");
    t.insert(
        "probe.service".into(),
        probe_unit("srv-late.mount", "srv-deps.mount"),
    );
    install(&root, &t);
    let e = verify(&root, &units, None).expect_err("late before deps is a cycle");
    assert!(e.contains("ordering cycle"), "{e}");
    // The DAX check of deps is ordered before late too.
    t.insert(
        "probe.service".into(),
        probe_unit("srv-late.mount", "pmem-assemble-dax@deps.service"),
    );
    install(&root, &t);
    let e = verify(&root, &units, None).expect_err("the check comes before late as well");
    assert!(e.contains("ordering cycle"), "{e}");
    // x-systemd.requires=systemd-modules-load.service: the mount comes after it.
    t.insert(
        "probe.service".into(),
        probe_unit("srv-deps.mount", "systemd-modules-load.service"),
    );
    install(&root, &t);
    let e = verify(&root, &units, None).expect_err("modules-load comes before the mount");
    assert!(e.contains("ordering cycle"), "{e}");
    let _ = fs::remove_dir_all(&root);
}

/// A user's own setting for the device wins over the timeout drop-in pmemtab writes (issue
/// 28): systemd applies a unit's drop-ins in the order of their file names, whatever
/// directory holds them, the last winning, and `systemd-analyze cat-config` lists them in that
/// order (the same conf-files rule; it reads /etc and /run/systemd/system, not the generator
/// directory, so both generators' files are put there). Ours must come first: before
/// fstab-generator's for the same device (its real output for an fstab line with
/// `x-systemd.device-timeout=`) and before `systemctl edit`'s override.conf.
#[test]
fn a_user_s_own_device_timeout_wins() {
    let tree = testsupport::read_tree(&support::golden_dir().join("nofail-noauto/expected"));
    let (ours, text) = tree
        .iter()
        .find(|(k, _)| k.starts_with("dev-mapper-slow.device.d/"))
        .expect("nofail-noauto writes slow's device timeout");
    let Node::File(text) = text else {
        panic!("{ours} is not a file")
    };
    assert!(
        text.contains("JobRunningTimeoutSec=2min") || text.contains("JobRunningTimeoutSec=120s"),
        "{text}"
    );
    let fsg = [
        "/usr/lib/systemd/system-generators",
        "/lib/systemd/system-generators",
    ]
    .into_iter()
    .map(|d| Path::new(d).join("systemd-fstab-generator"))
    .find(|p| p.exists())
    .expect("systemd-fstab-generator (apt-get install systemd)");
    let dir = support::temp_dir("device-timeout-order");
    let fstab = dir.join("fstab");
    fs::write(
        &fstab,
        "/dev/mapper/slow /mnt/slow ext4 x-systemd.device-timeout=7s 0 0\n",
    )
    .unwrap();
    let out = dir.join("out");
    fs::create_dir(&out).unwrap();
    let st = Command::new(&fsg)
        .args([&out, &out, &out])
        .env("SYSTEMD_FSTAB", &fstab)
        .env("SYSTEMD_PROC_CMDLINE", "")
        .env("SYSTEMD_LOG_TARGET", "console")
        .status()
        .unwrap();
    assert!(st.success());
    let theirs_tree = testsupport::read_tree(&out);
    let theirs: Vec<&String> = theirs_tree
        .keys()
        .filter(|k| k.starts_with("dev-mapper-slow.device.d/"))
        .collect();
    assert_eq!(theirs.len(), 1, "{theirs_tree:?}");
    let root = dir.join("root");
    let run = root.join("run/systemd/system");
    let etc = root.join("etc/systemd/system/dev-mapper-slow.device.d");
    fs::create_dir_all(run.join("dev-mapper-slow.device.d")).unwrap();
    fs::create_dir_all(&etc).unwrap();
    fs::write(run.join(ours), text).unwrap();
    fs::copy(out.join(theirs[0]), run.join(theirs[0])).unwrap();
    fs::write(
        etc.join("override.conf"),
        "[Unit]\nJobRunningTimeoutSec=3s\n",
    )
    .unwrap();
    let o = Command::new("systemd-analyze")
        .arg(format!("--root={}", root.display()))
        .args(["cat-config", "systemd/system/dev-mapper-slow.device"])
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&o.stdout);
    let order: Vec<&str> = listed
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.contains("dev-mapper-slow.device.d/"))
        .map(|l| l.rsplit('/').next().unwrap_or_default())
        .collect();
    let name = |p: &str| p.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(
        order,
        [
            name(ours).as_str(),
            name(theirs[0]).as_str(),
            "override.conf"
        ],
        "systemd applies them in this order, the last winning:\n{listed}"
    );
    let _ = fs::remove_dir_all(&dir);
}
