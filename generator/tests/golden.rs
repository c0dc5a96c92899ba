//! Golden tests: each `tests/golden/<case>/` holds a `pmemtab`, a `cmdline`, an optional
//! `initrd` marker, an optional `default-path` marker (run as shipped: no `PMEMTAB`, the
//! case's pmemtab read as `/etc/pmemtab`; see `support::run_case`), the expected output tree
//! `expected/` (files and symlinks) and `expected.log` (the generator's stderr and exit
//! status). The whole tree is compared.
//! One test per case (`cargo test -p pmemtab-generator --test golden basic_host`);
//! `GOLDEN_UPDATE=1 cargo test -p pmemtab-generator --test golden` rewrites the expectations.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

/// One case: run the generator on its inputs and compare the whole output tree and the log
/// (stderr, then the exit status).
fn run_case(case: &std::path::Path) {
    let name = case
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let out = testsupport::Scratch::new(&format!("golden-{name}"));
    let run = support::run_case(case, out.path());
    let mut failures = testsupport::check_tree(&case.join("expected"), "", &run.tree);
    let log = format!("{}exit status: {}\n", run.log, run.status);
    failures.extend(testsupport::check_file(
        &case.join("expected.log"),
        "expected.log (stderr and exit status)",
        &log,
    ));
    testsupport::assert_matches(case, &failures);
}

testsupport::golden_cases!(support::golden_dir(), run_case;
    bad_lines,
    cxl,
    cxl_initrd,
    basic_host,
    boot_single_usr,
    default_path,
    disabled_everywhere,
    duplicates,
    escaping,
    host_root,
    host_root_uuid,
    initrd_attach,
    initrd_root,
    initrd_root_by_id,
    initrd_root_none,
    initrd_root_other,
    initrd_root_uuid,
    initrd_usr,
    initrd_usr_no_mount_usr,
    layouts_host,
    mount_options,
    no_pmemtab,
    nofail_noauto,
    non_utf8,
    rd_disabled_host,
    rd_disabled_initrd,
    rd_enabled_initrd,
    system_ram,
    system_ram_initrd,
    refused_lines,
    x_systemd_options,
);
