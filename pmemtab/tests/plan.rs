//! Planning: exact table geometry and every refusal, on hand-built namespaces (the scanner's
//! own tests cover reading them from sysfs).

// Helpers outside #[test] functions set up fixtures: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pmemtab::devnum::DevNum;
use pmemtab::dmtable;
use pmemtab::ns::{Mode, Namespace};
use pmemtab::plan::{dm_uuid, plan, plan_all, Device, Reason};
use pmemtab::tab::{parse, Entry, Member};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
const TIB: u64 = 1 << 40;

fn uuid(n: u8) -> uuid::Uuid {
    uuid::Uuid::from_bytes([n; 16])
}

fn fsdax(region: u32, minor: u32, size: u64) -> Namespace {
    Namespace {
        dev: format!("namespace{region}.0"),
        region: format!("region{region}"),
        provider: Some("ACPI.NFIT".into()),
        mode: Mode::Fsdax,
        legacy: false,
        active: true,
        uuid: Some(uuid(region as u8)),
        raw_uuid: Some(uuid(0x80 + region as u8)),
        name: Some(format!("ns{region}")),
        blockdev: Some(format!("pmem{region}")),
        devnum: Some(DevNum { major: 259, minor }),
        chardev: None,
        size,
        resource: Some(0x1_0000_0000 + u64::from(region) * 0x2000_0000),
        data_start: Some(0x1_0000_0000 + u64::from(region) * 0x2000_0000 + 0xa0_0000),
        dax: true,
        numa_node: Some(0),
        target_node: Some(0),
        align: Some(2 * MIB),
        sector_size: Some(512),
    }
}

fn entry(line: &str) -> Entry {
    let p = parse(line);
    assert!(!p.has_errors(), "{:?}", p.diagnostics);
    p.entries.into_iter().next().unwrap()
}

fn u(n: u8) -> String {
    uuid(n).to_string()
}

#[test]
fn striped_uses_the_smallest_member_rounded_to_the_chunk() {
    // 502 MiB and 503 MiB + 4 KiB: each contributes 502 MiB (251 chunks of 2 MiB).
    let ns = vec![fsdax(1, 3, 502 * MIB), fsdax(2, 2, 503 * MIB + 4096)];
    let p = plan(
        &entry(&format!("fast striped uuid={},uuid={}", u(1), u(2))),
        &ns,
    )
    .unwrap();
    assert_eq!(
        dmtable::print(p.targets()),
        "0 2056192 striped 2 4096 259:3 0 259:2 0\n"
    );
    let Device::Dm { uuid, size, .. } = &p.device else {
        panic!()
    };
    assert_eq!(uuid, "PMEMTAB-fast");
    assert_eq!(size.0, 2 * 502 * MIB / 512);
    assert!(p.warnings.is_empty());
    // Member order is stripe order: reversed members, reversed stripes. With 4 MiB chunks
    // 502 MiB holds 125 whole chunks: 500 MiB per member.
    let p = plan(
        &entry(&format!("fast striped:4M uuid={},uuid={}", u(2), u(1))),
        &ns,
    )
    .unwrap();
    assert_eq!(
        dmtable::print(p.targets()),
        "0 2048000 striped 2 8192 259:2 0 259:3 0\n"
    );
}

#[test]
fn linear_concatenates_whole_2mib_units_in_order() {
    let ns = vec![fsdax(1, 3, 502 * MIB + 1234 * 512), fsdax(2, 2, 100 * MIB)];
    let p = plan(
        &entry(&format!("cat linear uuid={},uuid={}", u(2), u(1))),
        &ns,
    )
    .unwrap();
    assert_eq!(
        dmtable::print(p.targets()),
        "0 204800 linear 259:2 0\n204800 1028096 linear 259:3 0\n"
    );
}

#[test]
fn multi_tib_members() {
    let ns = vec![
        fsdax(1, 3, 3 * TIB + 5 * MIB),
        fsdax(2, 2, 6 * TIB),
        fsdax(3, 1, 6 * TIB),
    ];
    let p = plan(
        &entry(&format!(
            "big striped uuid={},uuid={},uuid={}",
            u(1),
            u(2),
            u(3)
        )),
        &ns,
    )
    .unwrap();
    let per = (3 * TIB + 4 * MIB) / 512;
    assert_eq!(
        dmtable::print(p.targets()),
        format!("0 {} striped 3 4096 259:3 0 259:2 0 259:1 0\n", 3 * per)
    );
    let p = plan(
        &entry(&format!("big linear uuid={},uuid={}", u(2), u(3))),
        &ns,
    )
    .unwrap();
    assert_eq!(
        dmtable::print(p.targets()),
        format!(
            "0 {0} linear 259:2 0\n{0} {0} linear 259:1 0\n",
            6 * TIB / 512
        )
    );
}

#[test]
fn single_uses_the_block_device() {
    let ns = vec![fsdax(1, 3, GIB)];
    let p = plan(&entry("one single name=ns1 /mnt ext4"), &ns).unwrap();
    let Device::Single {
        blockdev, devnum, ..
    } = &p.device
    else {
        panic!("{:?}", p.device)
    };
    assert_eq!(
        (blockdev.as_str(), devnum.to_string().as_str()),
        ("pmem1", "259:3")
    );
    assert!(p.targets().is_empty());
}

#[test]
fn members_match_uuid_raw_uuid_name_addr_and_path() {
    let mut legacy = fsdax(0, 0, 128 * MIB);
    legacy.legacy = true;
    legacy.uuid = None;
    legacy.raw_uuid = None;
    legacy.name = None;
    legacy.resource = Some(0x2800_0000);
    let ns = vec![legacy, fsdax(1, 3, GIB), fsdax(2, 2, GIB)];
    let raw = uuid(0x82).to_string();
    let p = plan(
        &entry(&format!(
            "m linear addr=28000000,uuid={raw},name=ns1,/dev/pmem2"
        )),
        &ns,
    );
    // raw_uuid of region2 and /dev/pmem2 are the same namespace: refused as used twice.
    assert_eq!(
        p.unwrap_err().reasons,
        vec![Reason::UsedTwice {
            member: Member::DevPath("/dev/pmem2".into()),
            dev: "namespace2.0".into(),
            first: Member::Uuid(uuid(0x82))
        }]
    );
    let p = plan(
        &entry(&format!("m linear addr=0x28000000,uuid={raw},name=ns1")),
        &ns,
    )
    .unwrap();
    let devs: Vec<&str> = p.members.iter().map(|r| r.ns.dev.as_str()).collect();
    assert_eq!(devs, ["namespace0.0", "namespace2.0", "namespace1.0"]);
}

#[test]
fn refusals_name_the_line_entry_and_member() {
    let mut devdax = fsdax(3, 9, GIB);
    devdax.mode = Mode::Devdax;
    devdax.blockdev = None;
    devdax.devnum = None;
    devdax.chardev = Some("dax3.0".into());
    let mut sector = fsdax(4, 1, GIB);
    sector.mode = Mode::Sector;
    sector.dax = false;
    sector.blockdev = Some("pmem4s".into());
    let mut nodax = fsdax(5, 5, GIB);
    nodax.dax = false;
    let mut twin = fsdax(6, 6, GIB);
    twin.name = Some("ns1".into());
    let mut idle = fsdax(7, 7, 0);
    idle.active = false;
    let tiny = fsdax(8, 8, MIB);
    let ns = vec![fsdax(1, 3, GIB), devdax, sector, nodax, twin, idle, tiny];
    let cases = [
        (format!("a linear uuid={}", u(9)), format!("line 1: a: member uuid={}: no enabled namespace matches; check that its NVDIMM is present and the namespace enabled (`ndctl list -N`)", u(9))),
        (format!("a linear uuid={}", u(7)), format!("line 1: a: member uuid={}: no enabled namespace matches; check that its NVDIMM is present and the namespace enabled (`ndctl list -N`)", u(7))),
        ("a linear name=ns1".into(), "line 1: a: member name=ns1: matches 2 namespaces (namespace1.0, namespace6.0); name it by uuid= instead".into()),
        (format!("a linear uuid={}", u(3)), format!("line 1: a: member uuid={} (namespace3.0) is in devdax mode, this layout needs fsdax; reconfigure it (`ndctl create-namespace -f -e namespace3.0 --mode=fsdax`, which destroys its data) or name another namespace", u(3))),
        (format!("a single uuid={}", u(4)), format!("line 1: a: member uuid={} (namespace4.0) is in sector mode, this layout needs fsdax; reconfigure it (`ndctl create-namespace -f -e namespace4.0 --mode=fsdax`, which destroys its data) or name another namespace", u(4))),
        (format!("a single uuid={}", u(5)), format!("line 1: a: member uuid={} (namespace5.0, pmem5) cannot do DAX (queue/dax is 0); use an fsdax namespace", u(5))),
        (format!("a linear uuid={}", u(8)), format!("line 1: a: member uuid={} (namespace8.0) has 1.00 MiB, less than one 2.00 MiB unit of this layout; name a larger namespace", u(8))),
        (format!("a striped:4M uuid={},uuid={}", u(1), u(8)), format!("line 1: a: member uuid={} (namespace8.0) has 1.00 MiB, less than one 4.00 MiB unit of this layout; name a larger namespace", u(8))),
    ];
    for (line, want) in cases {
        assert_eq!(
            plan(&entry(&line), &ns).unwrap_err().to_string(),
            want,
            "for {line}"
        );
    }
}

#[test]
fn a_namespace_belongs_to_one_entry() {
    let ns = vec![fsdax(1, 3, GIB), fsdax(2, 2, GIB)];
    // Same namespace by uuid and by raw_uuid: the parser cannot see it, the planner does.
    let text = format!(
        "a single uuid={}\nb linear uuid={},uuid={}\n",
        u(1),
        u(2),
        u(0x81)
    );
    let entries = parse(&text).entries;
    let plans = plan_all(&entries, &ns);
    assert!(plans[0].is_ok());
    assert_eq!(
        plans[1].as_ref().unwrap_err().to_string(),
        format!("line 2: b: member uuid={} (namespace1.0) is already used by 'a' on line 1; a namespace may belong to one entry only", u(0x81))
    );
}

#[test]
fn unaligned_start_warns() {
    let mut ns = fsdax(1, 3, GIB);
    ns.data_start = Some(0x1_0000_1000);
    let p = plan(&entry(&format!("a single uuid={}", u(1))), &[ns]).unwrap();
    assert_eq!(p.warnings, vec!["member uuid=01010101-0101-0101-0101-010101010101 (namespace1.0) starts at 0x100001000, not 2 MiB aligned: DAX falls back to 4 KiB page faults"]);
}

#[test]
fn dm_uuid_fits_the_kernel_limit() {
    assert_eq!(dm_uuid("fast"), "PMEMTAB-fast");
    let long = "x".repeat(127);
    let a = dm_uuid(&long);
    assert_eq!(a.len(), 128);
    assert!(a.starts_with("PMEMTAB-xxx"));
    let b = dm_uuid(&format!("{}y", "x".repeat(126)));
    assert_ne!(a, b, "names differing only at the end keep distinct uuids");
    assert_eq!(
        dm_uuid(&"x".repeat(120)),
        format!("PMEMTAB-{}", "x".repeat(120))
    );
}

#[test]
fn an_unbuildable_entry_still_owns_its_present_members() {
    // 'big' lacks a member (its NVDIMM failed); 'db' names big's other member by raw uuid.
    let ns = vec![fsdax(1, 3, GIB)];
    let text = format!(
        "big striped uuid={},uuid={}\ndb single uuid={} /db ext4 mkfs\n",
        u(9),
        u(1),
        u(0x81)
    );
    let entries = parse(&text).entries;
    let plans = plan_all(&entries, &ns);
    assert!(matches!(
        plans[0].as_ref().unwrap_err().reasons[..],
        [Reason::Missing { .. }]
    ));
    assert_eq!(
        plans[1].as_ref().unwrap_err().to_string(),
        format!("line 2: db: member uuid={} (namespace1.0) is already used by 'big' on line 1; a namespace may belong to one entry only", u(0x81))
    );
}

/// Every bad member of an entry is reported, each pointing at its member in the line, as the
/// parser's diagnostics do; members used by an earlier entry are among them.
#[test]
fn every_bad_member_is_reported_at_its_column() {
    let mut nodax = fsdax(5, 5, GIB);
    nodax.dax = false;
    let ns = vec![fsdax(1, 3, GIB), fsdax(2, 2, GIB), nodax];
    let text = format!(
        "a single uuid={}\nb   linear   uuid={},uuid={},uuid={},uuid={}  /b\n",
        u(1),
        u(9),
        u(2),
        u(5),
        u(0x81)
    );
    let entries = parse(&text).entries;
    let plans = plan_all(&entries, &ns);
    let refusal = plans[1].as_ref().unwrap_err();
    let diags = refusal.diagnostics(&entries[1]);
    let got: Vec<(usize, usize, usize, &str)> = diags
        .iter()
        .map(|d| (d.line, d.column, d.width, d.message.as_str()))
        .collect();
    let m9 = format!("b: member uuid={}: no enabled namespace matches", u(9));
    let m5 = format!(
        "b: member uuid={} (namespace5.0, pmem5) cannot do DAX (queue/dax is 0)",
        u(5)
    );
    let m81 = format!(
        "b: member uuid={} (namespace1.0) is already used by 'a' on line 1",
        u(0x81)
    );
    assert_eq!(
        got,
        vec![
            (2, 14, 41, m9.as_str()),
            (2, 98, 41, m5.as_str()),
            (2, 140, 41, m81.as_str()),
        ]
    );
    assert!(
        !refusal.is_pending(),
        "a member that cannot do DAX will not appear"
    );
    let shown = diags[1].render("/etc/pmemtab");
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 4, "{shown}");
    assert_eq!(lines[3], " = use an fsdax namespace");
    assert_eq!(
        lines[2].find('^'),
        lines[1].find(&format!("uuid={}", u(5))),
        "{shown}"
    );
}

/// A line of many members shows the part around each fault, underlined where it is, and the
/// message keeps the real column; the work stays linear in the members.
#[test]
fn a_long_line_shows_the_part_around_each_fault() {
    let n = 2000;
    let members: Vec<String> = (0..n)
        .map(|i| format!("uuid={}", uuid::Uuid::from_u128(i + 1)))
        .collect();
    let text = format!("big linear {}\n", members.join(","));
    let entries = parse(&text).entries;
    let plans = plan_all(&entries, &[]);
    let diags = plans[0].as_ref().unwrap_err().diagnostics(&entries[0]);
    assert_eq!(diags.len(), n as usize);
    for (i, k) in [(0usize, 0usize), (1, 1), (2, 2), (1500, 1500), (1999, 1999)] {
        let d = &diags[i];
        // The real column of member k: "big linear " is 11 characters, each member 41 + ','.
        assert_eq!(d.column, 12 + 42 * k, "member {k}");
        support::assert_shows_around(d, &members[k]);
    }
}

/// Which block devices are members of a linear or striped entry (their start holds its
/// filesystem's superblock, so udev must not give them its links): by the same claims as
/// plan_all, even while the entry cannot be built; a single entry's device is its own.
#[test]
fn members_of_dm_entries() {
    let ns = vec![fsdax(1, 1, GIB), fsdax(2, 2, GIB), fsdax(3, 3, GIB)];
    let tab = "s striped:2M name=ns1,name=ns9 /mnt/s ext4 -\nl linear name=ns2 - -\none single name=ns3 /mnt/o ext4 -\n";
    let entries = parse(tab).entries;
    let of = |dev: &str| pmemtab::plan::dm_member_of(&entries, &ns, dev).map(|e| e.name.as_str());
    // s cannot be built (ns9 is missing), but ns1 is still its member.
    assert_eq!(of("pmem1"), Some("s"));
    assert_eq!(of("pmem2"), Some("l"));
    assert_eq!(of("pmem3"), None);
    assert_eq!(of("pmem7"), None);
}
