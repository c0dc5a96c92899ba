//! Golden tests: each directory under grub/tests/golden/ is one run of pmemtab-memmap.
//!
//! A case holds `args` (one argument per line), optionally `sysfs` (the name of a fixture
//! under tests/fixtures/: its `sys/` is `--sysfs`; default none, a sysfs without memory
//! blocks), `proc/` (default: a `cmdline` with no memmap=), `root/` (the system `--root`
//! configures; default an empty one), and `expected/{stdout,stderr,status}` plus, when the
//! case has a `root/`, `expected/root/`: the whole root after the run.
//! The run happens in a scratch directory holding a copy of `proc/` and `root/` and a link
//! `fixtures` to tests/fixtures, so every path in the output is relative and the same
//! everywhere (args name fixture files as `fixtures/...`). One test per case
//! (`cargo test -p pmemtab-memmap --test cli qemu_4g`); `GOLDEN_UPDATE=1` rewrites the
//! expectations; review the diff. See testsupport.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::process::Command;
use testsupport::Tree;

fn run_case(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let scratch = testsupport::Scratch::new(&format!("memmap-{name}"));
    let s = scratch.path();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    std::os::unix::fs::symlink(&fixtures, s.join("fixtures")).unwrap();
    if dir.join("proc").is_dir() {
        testsupport::copy_tree(&dir.join("proc"), &s.join("proc"));
    } else {
        fs::create_dir_all(s.join("proc")).unwrap();
        fs::write(
            s.join("proc/cmdline"),
            "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet\n",
        )
        .unwrap();
    }
    let has_root = dir.join("root").is_dir();
    if has_root {
        testsupport::copy_tree(&dir.join("root"), &s.join("root"));
    } else {
        fs::create_dir_all(s.join("root")).unwrap();
    }
    let sysfs = fs::read_to_string(dir.join("sysfs"))
        .map(|f| format!("fixtures/{}/sys", f.trim()))
        .unwrap_or_else(|_| "fixtures/no-sysfs".into());
    let args: Vec<String> = fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let out = Command::new(env!("CARGO_BIN_EXE_pmemtab-memmap"))
        .current_dir(s)
        .args(["--sysfs", &sysfs, "--proc", "proc", "--root", "root"])
        .args(&args)
        .output()
        .unwrap();
    let mut failures = testsupport::check_output(&dir.join("expected"), &out);
    let root_after = testsupport::read_tree(&s.join("root"));
    if has_root {
        failures.extend(testsupport::check_tree(
            &dir.join("expected/root"),
            "root/",
            &root_after,
        ));
    } else {
        failures.extend(testsupport::tree_diff("root/", &Tree::new(), &root_after));
    }
    testsupport::assert_matches(dir, &failures);
}

testsupport::golden_cases!(testsupport::golden_dir(env!("CARGO_MANIFEST_DIR")), run_case;
    cmdline_too_long,
    dropin_not_utf8,
    dropin_reset_condition_write,
    dropin_reset_later,
    dropin_reset_later_write,
    grubby_foreign_memmap,
    help,
    map_not_a_boot_log,
    map_two_boots,
    mount_with_blank,
    no_sysfs,
    qemu_1g_no_room,
    qemu_1g_too_small,
    qemu_4g,
    qemu_4g_2g_no_fit,
    qemu_4g_running,
    qemu_4g_two,
    qemu_4g_write,
    remove,
    remove_not_ours,
    server,
    server_falls_to_2m,
    server_five_regions,
    server_other_claims,
    server_too_big,
    server_too_many,
    server_write_fedora,
    usage_bad_name,
    usage_count_too_many,
    usage_empty_mount,
    usage_empty_name,
    usage_mount_relative,
    usage_mount_root,
    usage_mount_usr,
    usage_no_size,
    usage_odd_size,
);
