//! `import`: tables built by hand, on the namespaces of a real qemu guest's sysfs
//! (tests/fixtures/nd-sysfs-qemu-a: pmem1 = 259:3 "alpha", pmem2 = 259:2 "beta", 502 MiB each;
//! pmem0 = 259:0, legacy memmap= pmem at 0x28000000; dax3.0 devdax).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use pmemtab::dmtable::{DevRef, Target};
use pmemtab::import::{import, parse_table, LiveMount, Outcome};
use pmemtab::ns::{scan, Namespace};
use std::path::Path;

const A: &str = "uuid=27715d95-1bb8-478d-a466-d6e0a569746d";
const B: &str = "uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a";

fn namespaces() -> Vec<Namespace> {
    scan(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys"))
        .unwrap()
}

fn table(text: &str) -> Vec<Target<DevRef>> {
    parse_table(text)
        .unwrap()
        .into_iter()
        .flat_map(|(_, t)| t)
        .collect()
}

fn line(o: Outcome) -> String {
    match o {
        Outcome::Line { line, .. } => line,
        other => panic!("not importable: {other:?}"),
    }
}

fn refused(o: Outcome) -> Vec<String> {
    match o {
        Outcome::Refused(why) => why,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn the_guide_s_striped_device_with_its_mount() {
    // 502 MiB = 1028096 sectors each; chunk 4096 sectors (2 MiB), as the guide makes it.
    let t = table("0 2056192 striped 2 4096 259:3 0 259:2 0");
    let m = LiveMount {
        mount_point: "/mnt/pmem stripe".into(),
        fstype: "ext4".into(),
        options: ["rw", "noatime", "dax=always"].map(String::from).to_vec(),
    };
    assert_eq!(
        line(import(
            "striped-pmem",
            Some(""),
            &t,
            &namespaces(),
            Some(&m)
        )),
        format!("striped-pmem striped:2M {A},{B} /mnt/pmem\\040stripe ext4 noatime")
    );
}

#[test]
fn the_guide_s_linear_device_named_by_paths_in_the_script() {
    // `blockdev --getsz` lengths, as the guide's script computes them.
    let t = table("0 1028096 linear /dev/pmem2 0\n1028096 1028096 linear /dev/pmem1 0\n");
    assert_eq!(
        line(import("linear-pmem", None, &t, &namespaces(), None)),
        format!("linear-pmem linear {B},{A} - - -")
    );
}

#[test]
fn a_legacy_namespace_is_named_by_its_address() {
    let t = table("0 262144 linear 259:0 0");
    assert_eq!(
        line(import("scratch", None, &t, &namespaces(), None)),
        "scratch linear addr=0x28000000 - - -"
    );
}

#[test]
fn an_offset_inside_a_member_is_refused() {
    let why = refused(import(
        "part",
        None,
        &table("0 8192 linear 259:3 2048"),
        &namespaces(),
        None,
    ));
    assert!(why[0].contains("maps 259:3 from sector 2048"), "{why:?}");
}

#[test]
fn a_length_pmemtab_would_not_give_is_refused_with_the_rounding() {
    let why = refused(import(
        "short",
        None,
        &table("0 1000000 linear 259:3 0"),
        &namespaces(),
        None,
    ));
    assert!(why[0].contains("maps 1000000 sectors of 259:3; pmemtab maps its 502.00 MiB rounded down to 2 MiB, 1028096 sectors"), "{why:?}");
    assert!(
        why.last()
            .unwrap()
            .contains("would build `0 1028096 linear 259:3 0`"),
        "{why:?}"
    );
}

#[test]
fn other_targets_and_other_devices_are_refused_or_skipped() {
    let ns = namespaces();
    let why = refused(import(
        "mix",
        None,
        &table("0 8 linear 259:3 0\n8 8 error"),
        &ns,
        None,
    ));
    assert!(
        why.iter().any(|w| w.contains("target type error")),
        "{why:?}"
    );
    let why = refused(import(
        "half",
        None,
        &table("0 8 linear 259:3 0\n8 8 linear 8:0 0"),
        &ns,
        None,
    ));
    assert!(
        why.iter()
            .any(|w| w.contains("8:0 is not a pmem namespace")),
        "{why:?}"
    );
    assert_eq!(
        import("lvm", None, &table("0 8 linear 8:0 0"), &ns, None),
        Outcome::NotPmem
    );
    assert_eq!(
        import(
            "fast",
            Some("PMEMTAB-fast"),
            &table("0 8 linear 259:3 0"),
            &ns,
            None
        ),
        Outcome::Managed
    );
    // A devdax namespace has no block device: nothing in a table can name it; a name that
    // reads like an option is refused by the parser's own rule.
    let why = refused(import(
        "-x",
        None,
        &table("0 1028096 linear 259:3 0"),
        &ns,
        None,
    ));
    assert!(why[0].contains("name"), "{why:?}");
}

#[test]
fn numbers_near_2_64_are_refused_naming_them() {
    let ns = namespaces();
    // 2^55 sectors of chunk: 2^64 bytes.
    let why = refused(import(
        "big",
        None,
        &table("0 2056192 striped 2 36028797018963968 259:3 0 259:2 0"),
        &ns,
        None,
    ));
    assert!(
        why.iter()
            .any(|w| w.contains("stripe chunk 36028797018963968 sectors")),
        "{why:?}"
    );
    // The second target would end past 2^64 sectors.
    let why = refused(import(
        "long",
        None,
        &table("0 18446744073709551615 linear 259:3 0\n18446744073709551615 1 linear 259:2 0"),
        &ns,
        None,
    ));
    assert!(
        why.iter()
            .any(|w| w.contains("target 2") && w.contains("18446744073709551615 + 1")),
        "{why:?}"
    );
    // 2^63 stripes: twice that many words does not fit a count.
    let why = refused(import(
        "wide",
        None,
        &table("0 8 striped 9223372036854775808 8 259:3 0"),
        &ns,
        None,
    ));
    assert!(
        why.iter()
            .any(|w| w.contains("9223372036854775808 stripes")),
        "{why:?}"
    );
}

#[test]
fn a_stripe_chunk_is_judged_in_the_sectors_the_table_gave() {
    let why = refused(import(
        "odd",
        None,
        &table("0 2056192 striped 2 4095 259:3 0 259:2 0"),
        &namespaces(),
        None,
    ));
    assert_eq!(
        why,
        ["stripe chunk 4095 sectors (2096640 bytes) is not a multiple of 4 KiB (8 sectors)"]
    );
    let why = refused(import(
        "huge",
        None,
        &table("0 2056192 striped 2 4294967296 259:3 0 259:2 0"),
        &namespaces(),
        None,
    ));
    assert_eq!(
        why,
        ["stripe chunk 4294967296 sectors is larger than device-mapper accepts (2^32 - 1 sectors)"]
    );
}

#[test]
fn only_pmem_and_dax_nodes_and_numbers_name_members() {
    let ns = namespaces();
    for path in [
        "/dev/mapper/pmem1",
        "/dev/disk/by-id/pmem1",
        "pmem1",
        "/dev/pmem1x",
    ] {
        let why = refused(import(
            "x",
            None,
            &table(&format!("0 1028096 linear {path} 0")),
            &ns,
            None,
        ));
        assert_eq!(
            why,
            [format!("{path} is not how a table names a namespace: use /dev/pmemN (pmemN.M, pmemNs), /dev/daxN.M or MAJOR:MINOR")],
            "{path}"
        );
    }
    // The forms the scanner names devices by: absent ones are no namespace's.
    let why = refused(import(
        "x",
        None,
        &table("0 8 linear /dev/pmem7.1s 0"),
        &ns,
        None,
    ));
    assert!(
        why[0].starts_with("/dev/pmem7.1s is not a pmem namespace's device"),
        "{why:?}"
    );
    // A dax node names its namespace, which a linear device cannot use.
    let why = refused(import(
        "x",
        None,
        &table("0 8 linear /dev/dax3.0 0"),
        &ns,
        None,
    ));
    assert!(why.iter().any(|w| w.contains("devdax mode")), "{why:?}");
}

#[test]
fn a_device_without_a_table_or_a_target_without_params_is_refused() {
    let ns = namespaces();
    assert_eq!(
        refused(import("idle", None, &[], &ns, None)),
        ["it has no table"]
    );
    assert_eq!(
        refused(import("bare", None, &table("0 1028096 linear"), &ns, None)),
        ["target 1: linear without its `device offset`"]
    );
    assert_eq!(
        refused(import("bare", None, &table("0 2056192 striped"), &ns, None)),
        ["target 1: striped without its `#stripes chunk (device offset)...`"]
    );
    assert_eq!(
        refused(import("odd", None, &table("0 8 linear 259:3"), &ns, None)),
        ["target 1: linear takes `device offset`, not `259:3`"]
    );
}

#[test]
fn lines_are_planned_with_the_existing_file_and_with_each_other() {
    use pmemtab::import::Claims;
    let ns = namespaces();
    let lin = |dev: &str| table(&format!("0 1028096 linear {dev} 0"));
    // `old` names pmem1 by its ndctl name, the lines below by uuid: the claim is the
    // namespace's, as planning sees it.
    let existing = pmemtab::tab::parse(
        "scratch single addr=0x28000000 /mnt/scratch xfs -\n# x\nold linear name=alpha - - -\n",
    )
    .entries;
    let mut claims = Claims::new(existing, "/etc/pmemtab");
    let mut admit = |name: &str, t: &[Target<DevRef>], m: Option<&LiveMount>| {
        claims.admit(import(name, None, t, &ns, m), &ns)
    };
    assert_eq!(
        refused(admit("a", &lin("259:3"), None)),
        [format!(
            "member {A} (namespace1.0) is already used by 'old' on line 3 of /etc/pmemtab"
        )]
    );
    assert_eq!(
        line(admit("b", &lin("259:2"), None)),
        format!("b linear {B} - - -")
    );
    assert_eq!(
        refused(admit("c", &lin("/dev/pmem2"), None)),
        [format!(
            "member {B} (namespace2.0) is already used by 'b', printed above"
        )]
    );
    assert_eq!(
        refused(admit("scratch", &lin("259:2"), None)),
        [
            "the name 'scratch' is already used on line 1 of /etc/pmemtab".to_string(),
            format!("member {B} (namespace2.0) is already used by 'b', printed above"),
        ]
    );
    let m = LiveMount {
        mount_point: "/mnt/scratch".into(),
        fstype: "ext4".into(),
        options: vec!["dax".into()],
    };
    let mut claims = Claims::new(Vec::new(), "pmemtab");
    let mut admit = |name: &str, t: &[Target<DevRef>], m: Option<&LiveMount>| {
        claims.admit(import(name, None, t, &ns, m), &ns)
    };
    assert!(matches!(
        admit("d", &lin("259:3"), Some(&m)),
        Outcome::Line { .. }
    ));
    assert_eq!(
        refused(admit("e", &lin("259:2"), Some(&m))),
        ["mount point /mnt/scratch is already used by 'd', printed above"]
    );
    // What is not a line passes as it is.
    assert_eq!(admit("lvm", &lin("8:0"), None), Outcome::NotPmem);
}
