//! CLI golden tests: each directory under tests/golden/ is one run of pmem-assemble.
//!
//! A case holds `args` (one argument per line), optionally `pmemtab`, `sysfs` (the name of a
//! fixture under tests/fixtures/, default nd-sysfs-qemu-a; a name that is not there tests a
//! sysfs that does not exist), `proc/` (a /proc with `cmdline` and `self/mountinfo`; default
//! an empty one), and `expected/{stdout,stderr,status}`.
//! The command runs in the case directory with `--pmemtab pmemtab`, so messages name the file
//! as `pmemtab:LINE:COL`. One test per case (`cargo test -p pmem-assemble --test cli check_bad`);
//! `GOLDEN_UPDATE=1 cargo test` rewrites the expectations; review the diff. See testsupport.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

fn run_case(dir: &Path) {
    let args: Vec<String> = std::fs::read_to_string(dir.join("args"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let fixture = std::fs::read_to_string(dir.join("sysfs"))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "nd-sysfs-qemu-a".into());
    // Relative to the case directory, so that messages naming it are the same everywhere.
    let sysfs = Path::new("../../../../tests/fixtures")
        .join(&fixture)
        .join("sys");
    assert!(
        fixture == "no-such-fixture" || dir.join(&sysfs).is_dir(),
        "{}: no fixture {fixture}",
        dir.display()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pmem-assemble"));
    cmd.current_dir(dir)
        .arg("--pmemtab")
        .arg("pmemtab")
        .arg("--sysfs")
        .arg(&sysfs);
    // Locks and links go to a scratch run directory, never the host's /run.
    let run = testsupport::Scratch::new(&format!(
        "cli-{}",
        dir.file_name().unwrap().to_string_lossy()
    ));
    if !args.iter().any(|a| a == "--run") {
        cmd.arg("--run").arg(run.path());
    }
    // Never the host's /proc: its command line and mounts would leak into the output.
    if dir.join("proc").is_dir() {
        cmd.arg("--proc").arg("proc");
    } else {
        let empty = run.path().join("proc");
        std::fs::create_dir_all(&empty).unwrap();
        cmd.arg("--proc").arg(empty);
    }
    let out = cmd.args(&args).output().unwrap();
    drop(run);
    testsupport::assert_matches(dir, &testsupport::check_output(&dir.join("expected"), &out));
}

testsupport::golden_cases!(testsupport::golden_dir(env!("CARGO_MANIFEST_DIR")), run_case;
    check_all_invalid,
    check_bad,
    check_cxl,
    check_cxl_qemu,
    check_cmdline_empty_root,
    check_cmdline_not_utf8,
    check_claims_of_unbuildable_entry,
    check_empty,
    check_escapes_control_characters,
    check_every_bad_member,
    check_good,
    check_initrd_line_broken,
    check_missing_pmemtab,
    check_named_good_entry,
    check_numa,
    check_numa_one_node,
    check_names_as_options,
    check_no_pmem,
    check_refused_lines,
    check_root_single,
    check_system_ram,
    check_timeouts_too_long,
    check_unknown_name,
    check_unknown_names,
    status_json_mountinfo_not_utf8,
    status_mount_dax,
    status_mountinfo_not_utf8,
    status_names_not_active,
    down_single_not_a_link,
    down_usage,
    help,
    help_check,
    import_cxl_none,
    import_cxl_qemu,
    import_table,
    import_table_json,
    import_table_named,
    import_table_named_absent,
    import_table_no_devices,
    import_table_no_table,
    import_table_chunk_in_sectors,
    import_table_claimed,
    import_table_device_paths,
    import_table_huge_numbers,
    import_table_refused,
    initramfs_cxl,
    initramfs_good,
    initramfs_late_broken,
    initramfs_noauto_root,
    initramfs_removal_check_dm,
    initramfs_removal_check_free,
    initramfs_removal_check_single,
    initramfs_root_broken,
    initramfs_root_names_single,
    initramfs_root_undeclared,
    initramfs_targets,
    initramfs_unreadable,
    initramfs_verify,
    list_cxl,
    list_cxl_qemu,
    list_cxl_json,
    list_disabled,
    list_fixture,
    list_hostile_names,
    list_json,
    list_json_disabled,
    list_numa,
    list_numa_json,
    list_sysfs_nowhere,
    mount_no_mountpoint,
    table_linear,
    table_names_a_bad_line,
    table_only_its_diagnostics,
    table_single,
    table_striped,
    up_all_and_name,
    up_every_bad_member,
    udev_member_disabled,
    udev_member_of_a_stripe,
    udev_member_single,
    up_refused_devdax,
    up_timeout_too_long,
    up_usage,
    usage_unknown_command,
    verify_dax_dm_inactive,
    verify_dax_mountinfo_not_utf8,
    verify_dax_never,
    verify_dax_not_mounted,
    verify_dax_occupied,
    verify_dax_off,
    verify_dax_ok,
    verify_dax_root,
);
