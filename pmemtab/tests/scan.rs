//! Namespace scanning against a real sysfs capture (checked against ndctl, /dev and
//! /proc/iomem from the same boot), synthetic trees for topologies the capture lacks, and
//! corrupted copies that must give an error naming the file.

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pmemtab::devnum::DevNum;
use pmemtab::ns::{scan, wait_probe_within, Mode, Namespace};
use pmemtab::Error;
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};
use support::fixture;
use support::ndctl::{compare, Oracle};
use testsupport::Scratch;
use uuid::Uuid;

fn uuid(s: &str) -> Option<Uuid> {
    Some(Uuid::parse_str(s).unwrap())
}

fn by_dev<'a>(all: &'a [Namespace], dev: &str) -> &'a Namespace {
    all.iter()
        .find(|n| n.dev == dev)
        .unwrap_or_else(|| panic!("{dev} not scanned"))
}

fn devs(all: &[Namespace]) -> Vec<&str> {
    all.iter().map(|n| n.dev.as_str()).collect()
}

/// One line per namespace, for reading test output (`cargo test -- --nocapture`).
fn describe(ns: &Namespace) -> String {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    format!(
        "{} {} {} legacy={} active={} uuid={} raw_uuid={} name={} blockdev={} devnum={} chardev={} size={} resource={} data_start={} dax={} numa={} target={} align={} sector={} provider={}",
        ns.dev,
        ns.region,
        ns.mode,
        ns.legacy,
        ns.active,
        opt(ns.uuid.map(|u| u.to_string())),
        opt(ns.raw_uuid.map(|u| u.to_string())),
        opt(ns.name.clone()),
        opt(ns.blockdev.clone()),
        opt(ns.devnum.map(|d| d.to_string())),
        opt(ns.chardev.clone()),
        ns.size,
        opt(ns.resource.map(|r| format!("{r:#x}"))),
        opt(ns.data_start.map(|r| format!("{r:#x}"))),
        ns.dax,
        opt(ns.numa_node.map(|n| n.to_string())),
        opt(ns.target_node.map(|n| n.to_string())),
        opt(ns.align.map(|n| n.to_string())),
        opt(ns.sector_size.map(|n| n.to_string())),
        opt(ns.provider.clone()),
    )
}

// --- the real capture -----------------------------------------------------------------------

#[test]
fn capture_matches_ndctl_dev_nodes_and_iomem() {
    let dir = fixture("nd-sysfs-qemu-a");
    let all = scan(&dir.join("sys")).unwrap();
    for ns in &all {
        println!("{}", describe(ns));
    }
    let (listed, bad) = compare(&all, &Oracle::load(&dir));
    assert_eq!(listed, 9, "ndctl-list.json lists 9 namespaces");
    assert!(
        bad.is_empty(),
        "scan disagrees with the oracles:\n{}",
        bad.join("\n")
    );
}

/// Every capture dropped into tests/fixtures (a `sys/` tree beside an `ndctl-list.json`, as
/// the VM lab makes them) is checked the same way, without a test of its own.
#[test]
fn every_capture_matches_its_ndctl_listing() {
    let mut checked = Vec::new();
    for entry in fs::read_dir(fixture("")).unwrap() {
        let dir = entry.unwrap().path();
        if !(dir.join("sys").is_dir() && dir.join("ndctl-list.json").is_file()) {
            continue;
        }
        let all = scan(&dir.join("sys")).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let (listed, bad) = compare(&all, &Oracle::load(&dir));
        assert!(
            listed > 0,
            "{}: ndctl-list.json lists no namespace",
            dir.display()
        );
        assert!(bad.is_empty(), "{}:\n{}", dir.display(), bad.join("\n"));
        checked.push(dir);
    }
    assert!(!checked.is_empty(), "no capture found under tests/fixtures");
}

#[test]
fn capture_sorted_by_region_then_namespace() {
    let all = scan(&fixture("nd-sysfs-qemu-a/sys")).unwrap();
    assert_eq!(
        devs(&all),
        [
            "namespace0.0",
            "namespace1.0",
            "namespace1.1",
            "namespace2.0",
            "namespace2.1",
            "namespace3.0",
            "namespace3.1",
            "namespace4.0",
            "namespace4.1"
        ]
    );
}

/// The oracle comparison must catch a wrong value, or the test above proves nothing.
#[test]
fn oracle_comparison_catches_mistakes() {
    let dir = fixture("nd-sysfs-qemu-a");
    let oracle = Oracle::load(&dir);
    let good = scan(&dir.join("sys")).unwrap();
    type Spoil = fn(&mut Namespace);
    let spoils: [(&str, &str, Spoil); 10] = [
        ("namespace1.0", "uuid", |n| n.uuid = n.raw_uuid),
        ("namespace1.0", "raw_uuid", |n| n.raw_uuid = None),
        ("namespace4.0", "size", |n| n.size -= 4096),
        ("namespace2.0", "block MAJ:MIN", |n| {
            n.devnum = Some(DevNum {
                major: 259,
                minor: 3,
            })
        }),
        ("namespace0.0", "resource", |n| {
            n.resource = Some(0x2800_1000)
        }),
        ("namespace3.0", "chardev", |n| n.chardev = None),
        ("namespace3.0", "data_start", |n| n.data_start = n.resource),
        ("namespace1.1", "active", |n| n.active = true),
        ("namespace4.0", "dax", |n| n.dax = true),
        ("namespace0.0", "legacy", |n| n.legacy = false),
    ];
    for (dev, what, spoil) in spoils {
        let mut all = good.clone();
        spoil(all.iter_mut().find(|n| n.dev == dev).unwrap());
        let (_, bad) = compare(&all, &oracle);
        assert!(
            bad.iter().any(|b| b.starts_with(&format!("{dev}: {what}"))),
            "spoiling {what} of {dev} went unnoticed: {bad:?}"
        );
    }
    let (_, bad) = compare(&good[1..], &oracle);
    assert!(bad.iter().any(|b| b.contains("not scanned")), "{bad:?}");
}

#[test]
fn capture_identity_details() {
    let all = scan(&fixture("nd-sysfs-qemu-a/sys")).unwrap();
    // fsdax: the uuid users copy from ndctl is the pfn's; the block device hangs under it.
    let alpha = by_dev(&all, "namespace1.0");
    assert_eq!(alpha.uuid, uuid("27715d95-1bb8-478d-a466-d6e0a569746d"));
    assert_eq!(alpha.raw_uuid, uuid("11111111-1111-4111-8111-111111111111"));
    assert_eq!(alpha.resource, Some(0x1_0000_0000));
    assert_eq!(alpha.data_start, Some(0x1_00a0_0000));
    assert_eq!(
        alpha.devnum,
        Some(DevNum {
            major: 259,
            minor: 3
        })
    );
    assert!(alpha.dax && alpha.active && !alpha.legacy);
    // sector: btt's uuid and sector size, no DAX, no fixed physical address for block 0.
    let delta = by_dev(&all, "namespace4.0");
    assert_eq!(delta.mode, Mode::Sector);
    assert_eq!(delta.uuid, uuid("9db93f67-bcaa-43ae-a383-0904d36272ef"));
    assert_eq!(delta.blockdev.as_deref(), Some("pmem4s"));
    assert_eq!(delta.sector_size, Some(4096));
    assert_eq!(delta.data_start, None);
    assert!(!delta.dax);
    // devdax: a character device, no block device.
    let gamma = by_dev(&all, "namespace3.0");
    assert_eq!(
        (gamma.chardev.as_deref(), gamma.blockdev.as_deref()),
        (Some("dax3.0"), None)
    );
    assert_eq!(gamma.data_start, Some(0x1_20a0_0000));
    // legacy: no uuid, identity by address.
    let legacy = by_dev(&all, "namespace0.0");
    assert!(legacy.legacy && legacy.uuid.is_none() && legacy.raw_uuid.is_none());
    assert_eq!(legacy.resource, Some(0x2800_0000));
    assert_eq!(legacy.provider.as_deref(), Some("e820"));
    // seeds: listed, inactive, nothing to match on.
    let seed = by_dev(&all, "namespace3.1");
    assert!(!seed.active && seed.uuid.is_none() && seed.resource.is_none() && seed.size == 0);
}

/// The second real capture: the topologies the first one lacks, on a real kernel.
#[test]
fn capture_b_topologies() {
    let dir = fixture("nd-sysfs-qemu-b");
    let all = scan(&dir.join("sys")).unwrap();
    for ns in &all {
        println!("{}", describe(ns));
    }
    let (listed, bad) = compare(&all, &Oracle::load(&dir));
    assert_eq!(listed, 12);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    // Two fsdax namespaces in one region: pmem0 and pmem0.1.
    let b = by_dev(&all, "namespace0.1");
    assert_eq!(
        (b.blockdev.as_deref(), b.name.as_deref()),
        (Some("pmem0.1"), Some("multi-b"))
    );
    assert_eq!(b.raw_uuid, uuid("aaaaaaaa-0000-4000-8000-000000000002"));
    assert!(b.dax && b.active);
    // Labelled raw: own uuid as ndctl's "uuid", block device under the namespace, no DAX.
    let raw = by_dev(&all, "namespace2.0");
    assert_eq!(
        (raw.mode, raw.blockdev.as_deref()),
        (Mode::Raw, Some("pmem2"))
    );
    assert_eq!(
        (raw.uuid, raw.raw_uuid),
        (uuid("bbbbbbbb-0000-4000-8000-000000000001"), None)
    );
    assert!(raw.active && !raw.dax && !raw.legacy);
    // devdax in the same region as raw, char device dax2.1.
    let dd = by_dev(&all, "namespace2.1");
    assert_eq!(
        (dd.mode, dd.chardev.as_deref()),
        (Mode::Devdax, Some("dax2.1"))
    );
    // `ndctl disable-namespace` on an fsdax namespace: the kernel drops the pfn claim, so it
    // reads as raw, keeps its own uuid and name, and is inactive with no block device.
    let off = by_dev(&all, "namespace2.2");
    assert_eq!(
        (off.mode, off.active, off.blockdev.as_deref()),
        (Mode::Raw, false, None)
    );
    assert_eq!(
        (off.uuid, off.name.as_deref()),
        (
            uuid("bbbbbbbb-0000-4000-8000-000000000003"),
            Some("offline")
        )
    );
    // Sector mode with 512-byte sectors.
    let s = by_dev(&all, "namespace1.0");
    assert_eq!(
        (s.mode, s.sector_size, s.blockdev.as_deref()),
        (Mode::Sector, Some(512), Some("pmem1s"))
    );
    // Two legacy regions, numbered after the NFIT ones in this boot, told apart by address.
    let legacy: Vec<_> = all
        .iter()
        .filter(|n| n.legacy)
        .map(|n| (n.dev.as_str(), n.resource))
        .collect();
    assert_eq!(
        legacy,
        [
            ("namespace3.0", Some(0x2800_0000)),
            ("namespace4.0", Some(0x3400_0000))
        ]
    );
}

// --- synthetic topologies -------------------------------------------------------------------

#[test]
fn two_fsdax_namespaces_in_one_region() {
    let all = scan(&fixture("nd-synth-region-multi/sys")).unwrap();
    assert_eq!(devs(&all), ["namespace2.0", "namespace2.1", "namespace2.2"]);
    let a = by_dev(&all, "namespace2.0");
    let b = by_dev(&all, "namespace2.1");
    assert_eq!(
        (a.blockdev.as_deref(), b.blockdev.as_deref()),
        (Some("pmem2"), Some("pmem2.1"))
    );
    assert_eq!(
        a.devnum,
        Some(DevNum {
            major: 259,
            minor: 0
        })
    );
    assert_eq!(
        b.devnum,
        Some(DevNum {
            major: 259,
            minor: 1
        })
    );
    assert_eq!(a.uuid, uuid("a1a1a1a1-0000-4000-8000-000000000021"));
    assert_eq!(b.uuid, uuid("a1a1a1a1-0000-4000-8000-000000000022"));
    assert_eq!(b.raw_uuid, uuid("22222222-2222-4222-8222-222222222223"));
    assert_eq!(
        (a.name.as_deref(), b.name.as_deref()),
        (Some("beta"), Some("beta2"))
    );
    assert_eq!((a.size, b.size), (526_385_152, 262_144_000));
    assert_eq!(
        (a.resource, b.resource),
        (Some(0x1_4000_0000), Some(0x1_6000_0000))
    );
    assert_eq!(
        (a.data_start, b.data_start),
        (Some(0x1_40a0_0000), Some(0x1_6060_0000))
    );
    for ns in [a, b] {
        assert!(ns.active && ns.dax && !ns.legacy, "{}", describe(ns));
        assert_eq!(
            (ns.mode, ns.region.as_str(), ns.align),
            (Mode::Fsdax, "region2", Some(2 << 20))
        );
        assert_eq!(ns.provider.as_deref(), Some("ACPI.NFIT"));
    }
    let seed = by_dev(&all, "namespace2.2");
    assert!(!seed.active && seed.blockdev.is_none() && seed.uuid.is_none());
    assert_eq!(
        (seed.mode, seed.size, seed.sector_size),
        (Mode::Raw, 0, Some(512))
    );
}

#[test]
fn raw_and_devdax_sorted_numerically() {
    let all = scan(&fixture("nd-synth-raw-devdax/sys")).unwrap();
    assert_eq!(
        devs(&all),
        [
            "namespace9.0",
            "namespace9.1",
            "namespace10.0",
            "namespace10.1"
        ]
    );

    let raw = by_dev(&all, "namespace9.0");
    assert_eq!(raw.mode, Mode::Raw);
    assert_eq!(raw.uuid, uuid("99999999-9999-4999-8999-999999999990"));
    assert_eq!(
        raw.raw_uuid, None,
        "an unclaimed namespace's uuid is ndctl's \"uuid\""
    );
    assert_eq!(raw.blockdev.as_deref(), Some("pmem9"));
    assert_eq!(
        raw.devnum,
        Some(DevNum {
            major: 259,
            minor: 4
        })
    );
    assert!(raw.active && !raw.dax && !raw.legacy);
    assert_eq!(
        (raw.size, raw.resource, raw.data_start),
        (268_435_456, Some(0x1_0000_0000), Some(0x1_0000_0000))
    );
    assert_eq!((raw.align, raw.sector_size), (None, Some(512)));

    let dd = by_dev(&all, "namespace10.0");
    assert_eq!(dd.mode, Mode::Devdax);
    assert_eq!(dd.region, "region10");
    assert_eq!(
        dd.chardev.as_deref(),
        Some("dax10.0"),
        "dax_region/ is not a device"
    );
    assert_eq!(
        (dd.blockdev.as_deref(), dd.devnum, dd.dax),
        (None, None, false)
    );
    assert_eq!(dd.uuid, uuid("c3c3c3c3-0000-4000-8000-000000000100"));
    assert_eq!(dd.raw_uuid, uuid("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"));
    assert_eq!(
        (dd.size, dd.data_start, dd.align),
        (526_385_152, Some(0x2_00a0_0000), Some(2 << 20))
    );
    assert_eq!((dd.sector_size, dd.name.as_deref()), (None, Some("ramish")));
    assert!(dd.active);

    for seed in ["namespace9.1", "namespace10.1"] {
        assert!(!by_dev(&all, seed).active);
    }
}

#[test]
fn two_legacy_regions_told_apart_by_address() {
    let all = scan(&fixture("nd-synth-legacy-two/sys")).unwrap();
    assert_eq!(devs(&all), ["namespace0.0", "namespace1.0"]);
    let want = [
        (
            "namespace0.0",
            "region0",
            "pmem0",
            0,
            0x2800_0000,
            134_217_728,
        ),
        (
            "namespace1.0",
            "region1",
            "pmem1",
            1,
            0x4000_0000,
            268_435_456,
        ),
    ];
    for (dev, region, blockdev, minor, resource, size) in want {
        let ns = by_dev(&all, dev);
        assert!(ns.legacy && ns.active && ns.dax, "{}", describe(ns));
        assert_eq!(ns.mode, Mode::Fsdax);
        assert_eq!(ns.region, region);
        assert_eq!(ns.blockdev.as_deref(), Some(blockdev));
        assert_eq!(ns.devnum, Some(DevNum { major: 259, minor }));
        assert_eq!(
            (ns.resource, ns.data_start, ns.size),
            (Some(resource), Some(resource), size)
        );
        assert_eq!(
            (ns.uuid, ns.raw_uuid, ns.name.as_deref()),
            (None, None, None)
        );
        assert_eq!((ns.sector_size, ns.align), (Some(512), None));
        assert_eq!(ns.provider.as_deref(), Some("e820"));
    }
}

#[test]
fn no_nd_bus_means_no_namespaces() {
    let tmp = Scratch::new("scan-no-nd");
    fs::create_dir_all(tmp.0.join("bus/pci/devices")).unwrap();
    assert_eq!(scan(&tmp.0).unwrap(), Vec::<Namespace>::new());
    assert!(wait_probe_within(
        &tmp.0,
        pmemtab::timeouts::Wait::Probe.limit()
    ));
}

#[test]
fn a_directory_that_is_no_sysfs_is_an_error() {
    let tmp = Scratch::new("scan-not-sysfs");
    for nowhere in [tmp.0.join("does-not-exist"), tmp.0.clone()] {
        let e = scan(&nowhere).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} is not a sysfs tree (it has no bus/ directory)",
                nowhere.display()
            )
        );
    }
}

// --- corrupted trees ------------------------------------------------------------------------

const QEMU_NFIT: &str = "devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0012:00/ndbus1";
const QEMU_E820: &str = "devices/platform/e820_pmem/ndbus0";

/// A scratch copy of the real capture to corrupt one file at a time.
fn capture_copy(tag: &str) -> Scratch {
    Scratch::copy_of(&format!("scan-{tag}"), &fixture("nd-sysfs-qemu-a/sys"))
}

/// Writes `content` into `file` (relative to the tree's root), scans, restores the file, and
/// returns the error, which must name `file` in one line.
fn scan_with(tree: &Scratch, file: &str, content: &[u8]) -> Error {
    let path = tree.0.join(file);
    let original = fs::read(&path).unwrap();
    fs::write(&path, content).unwrap();
    let result = scan(&tree.0);
    fs::write(&path, original).unwrap();
    let err = match result {
        Ok(all) => panic!(
            "{file} = {:?}: scanned without error: {all:?}",
            String::from_utf8_lossy(content)
        ),
        Err(e) => e,
    };
    let msg = err.to_string();
    // The message names the device and attribute (the path may go through bus/nd/devices).
    let tail: Vec<&str> = file.rsplit('/').take(2).collect();
    assert!(
        msg.contains(&format!("{}/{}", tail[1], tail[0])),
        "error for {file} does not name it: {msg}"
    );
    assert!(!msg.contains('\n'), "error is not one line: {msg:?}");
    err
}

#[test]
fn garbage_in_attributes_is_an_error_naming_the_file() {
    let cases: [(&str, &[u8], &str); 14] = [
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/size"),
            b"12abc\n",
            "decimal",
        ),
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/size"),
            b"\n",
            "decimal",
        ),
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/size"),
            b"-536870912\n",
            "decimal",
        ),
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/size"),
            b"99999999999999999999999\n",
            "decimal",
        ),
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/uuid"),
            b"11111111-1111-4111-8111\n",
            "uuid",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/uuid"),
            b"\xff\xfe not utf-8 \x00\n",
            "uuid",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/block/pmem1/dev"),
            b"259-3\n",
            "MAJ:MIN",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/block/pmem1/dev"),
            b"259:\n",
            "MAJ:MIN",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/block/pmem1/size"),
            b"lots\n",
            "decimal",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/block/pmem1/queue/dax"),
            b"2\n",
            "0 or 1",
        ),
        (
            &format!("{QEMU_NFIT}/region1/pfn1.1/resource"),
            b"0xzz\n",
            "hexadecimal",
        ),
        (
            &format!("{QEMU_NFIT}/region4/btt4.1/sector_size"),
            b"512 [40x96]\n",
            "brackets",
        ),
        (
            &format!("{QEMU_NFIT}/region1/namespace1.0/mode"),
            b"fsdax\n",
            "memory, dax",
        ),
        (
            &format!("{QEMU_E820}/region0/namespace0.0/numa_node"),
            b"zero\n",
            "node",
        ),
    ];
    let tree = capture_copy("garbage");
    for (file, content, expected) in cases {
        let err = scan_with(&tree, file, content);
        assert!(matches!(err, Error::Format { .. }), "{file}: {err}");
        assert!(err.to_string().contains(expected), "{file}: {err}");
    }
}

#[test]
fn a_page_of_junk_gives_a_short_message() {
    let junk: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let tree = capture_copy("junk");
    let err = scan_with(
        &tree,
        &format!("{QEMU_NFIT}/region2/pfn2.1/block/pmem2/dev"),
        &junk,
    );
    assert!(err.to_string().len() < 400, "{}", err.to_string().len());
}

#[test]
fn a_holder_that_is_a_path_is_refused() {
    let tree = capture_copy("holder");
    let err = scan_with(
        &tree,
        &format!("{QEMU_NFIT}/region1/namespace1.0/holder"),
        b"../../../etc\n",
    );
    assert!(err.to_string().contains("device name"), "{err}");
}

#[test]
fn missing_required_attribute_is_a_read_error_naming_it() {
    let tmp = capture_copy("missing");
    for file in [
        format!("{QEMU_NFIT}/region1/namespace1.0/mode"),
        format!("{QEMU_NFIT}/region2/namespace2.1/size"),
        format!("{QEMU_NFIT}/region4/btt4.1/block/pmem4s/dev"),
    ] {
        let path = tmp.0.join(&file);
        let aside = path.with_extension("aside");
        fs::rename(&path, &aside).unwrap();
        let result = scan(&tmp.0);
        fs::rename(&aside, &path).unwrap();
        let err = result.expect_err(&file);
        assert!(matches!(err, Error::Read { .. }), "{err}");
        let name = Path::new(&file).file_name().unwrap().to_str().unwrap();
        assert!(err.to_string().contains(&format!("/{name}:")), "{err}");
    }
}

#[test]
fn missing_optional_attributes_are_none() {
    let tmp = capture_copy("optional");
    let ns = tmp.0.join(format!("{QEMU_NFIT}/region1/namespace1.0"));
    for attr in [
        "alt_name",
        "numa_node",
        "target_node",
        "resource",
        "sector_size",
    ] {
        fs::remove_file(ns.join(attr)).unwrap();
    }
    fs::remove_file(tmp.0.join(format!("{QEMU_NFIT}/region1/pfn1.1/align"))).unwrap();
    // Without the namespace's node attributes, its region's stand in (older kernels).
    fs::write(
        tmp.0.join(format!("{QEMU_NFIT}/region1/target_node")),
        "3\n",
    )
    .unwrap();
    let all = scan(&tmp.0).unwrap();
    let alpha = by_dev(&all, "namespace1.0");
    assert_eq!(
        (alpha.name.as_deref(), alpha.numa_node, alpha.target_node),
        (None, Some(0), Some(3))
    );
    for attr in ["numa_node", "target_node"] {
        fs::remove_file(tmp.0.join(format!("{QEMU_NFIT}/region1/{attr}"))).unwrap();
    }
    let all = scan(&tmp.0).unwrap();
    let alpha = by_dev(&all, "namespace1.0");
    assert_eq!((alpha.numa_node, alpha.target_node), (None, None));
    assert_eq!((alpha.resource, alpha.align), (None, None));
    assert_eq!(alpha.sector_size, Some(512), "the kernel's default");
    assert_eq!(alpha.uuid, uuid("27715d95-1bb8-478d-a466-d6e0a569746d"));
}

#[test]
fn numa_minus_one_means_none() {
    let tmp = Scratch::copy_of("scan-numa", &fixture("nd-synth-legacy-two/sys"));
    fs::write(
        tmp.0
            .join(format!("{QEMU_E820}/region1/namespace1.0/numa_node")),
        "-1\n",
    )
    .unwrap();
    let all = scan(&tmp.0).unwrap();
    assert_eq!(by_dev(&all, "namespace1.0").numa_node, None);
    assert_eq!(by_dev(&all, "namespace0.0").numa_node, Some(0));
}

// --- wait_probe -----------------------------------------------------------------------------

#[test]
fn wait_probe_reads_the_buses_and_returns() {
    let start = Instant::now();
    assert!(pmemtab::ns::wait_probe_within(
        &fixture("nd-sysfs-qemu-a/sys"),
        Duration::from_secs(5)
    ));
    assert!(start.elapsed() < Duration::from_secs(5));
}

/// A wait_probe that never answers (a FIFO with no writer blocks like a stuck kernel) must
/// not hang the caller.
#[test]
fn wait_probe_is_bounded() {
    let tmp = Scratch::copy_of("scan-fifo", &fixture("nd-synth-legacy-two/sys"));
    let fifo = tmp.0.join(format!("{QEMU_E820}/wait_probe"));
    fs::remove_file(&fifo).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(status.success());
    let start = Instant::now();
    assert!(!pmemtab::ns::wait_probe_within(
        &tmp.0,
        Duration::from_millis(300)
    ));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    // Release the reader left behind, then the tree scans as usual.
    let _ = fs::OpenOptions::new().write(true).open(&fifo);
    assert_eq!(scan(&tmp.0).unwrap().len(), 2);
}

/// A disk whose queue is not registered yet (nd_pmem still probing in an initrd) is not there
/// yet: the namespace reads as fsdax without a block device, which the planner waits for.
#[test]
fn a_disk_still_being_added_is_not_listed_yet() {
    let tmp = capture_copy("appearing");
    let queue = tmp
        .0
        .join(format!("{QEMU_NFIT}/region1/pfn1.1/block/pmem1/queue"));
    fs::remove_dir_all(&queue).unwrap();
    let all = scan(&tmp.0).unwrap();
    let alpha = by_dev(&all, "namespace1.0");
    assert_eq!(alpha.mode, Mode::Fsdax);
    assert!(alpha.active);
    assert_eq!((alpha.blockdev.as_deref(), alpha.devnum), (None, None));
    let entry = pmemtab::tab::parse("a single name=alpha\n").entries;
    let refusal = pmemtab::plan::plan(&entry[0], &all).unwrap_err();
    assert!(refusal.is_pending(), "{refusal}");
    assert_eq!(
        refusal.reasons[0].to_string(),
        "member name=alpha (namespace1.0) is in fsdax mode but its block device has not appeared; check `dmesg` for the nd_pmem driver"
    );
}

// --- NUMA nodes -----------------------------------------------------------------------------

#[test]
fn two_node_fixture_has_each_namespace_on_its_node() {
    let all = scan(&fixture("nd-synth-two-node/sys")).unwrap();
    let nodes: Vec<(&str, Option<i32>, Option<i32>)> = all
        .iter()
        .filter(|n| n.active)
        .map(|n| (n.dev.as_str(), n.numa_node, n.target_node))
        .collect();
    assert_eq!(
        nodes,
        [
            ("namespace0.0", Some(0), Some(0)),
            ("namespace0.1", Some(0), Some(0)),
            ("namespace1.0", Some(1), Some(1)),
            ("namespace1.1", Some(1), Some(1)),
            ("namespace2.0", Some(1), Some(2)),
        ]
    );
}
