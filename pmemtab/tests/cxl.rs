//! The CXL scanner on the synthetic one-bridge tree (tests/fixtures/make-cxl-synth.sh), and
//! the region plan against it: created in cxl-cli's way, recognised when it exists as the
//! line says, refused before anything is written when devices, positions or geometry differ.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use pmemtab::cxl::model::{Cxl, Mode};
use pmemtab::cxl::plan::{plan, Create, Refusal, RegionPlan, Target};
use pmemtab::cxl::scan::scan;
use pmemtab::tab::{parse, Entry};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use testsupport::Scratch;

const M256: u64 = 256 << 20;

fn entry(line: &str) -> Entry {
    let p = parse(line);
    assert!(!p.has_errors(), "{:#?}", p.diagnostics);
    p.entries.into_iter().next().unwrap()
}

fn fixture() -> PathBuf {
    support::fixture("cxl-synth-one-bridge").join("sys")
}

/// A scratch copy of the fixture's sysfs, to change.
fn scratch() -> Scratch {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    Scratch::copy_of(&format!("cxl-{n}"), &fixture())
}

fn w(path: &Path, value: &str) {
    fs::write(path, format!("{value}\n")).unwrap();
}

fn decoder(sys: &Path, ep: usize, n: usize) -> PathBuf {
    sys.join(format!(
        "devices/platform/ACPI0017:00/root0/port1/endpoint{ep}/decoder{ep}.{n}"
    ))
}

/// A committed pmem region `region0` of `size` over the endpoint decoders given, in
/// position order, as the kernel shows one (firmware's, or made earlier).
fn add_region(sys: &Path, targets: &[(usize, usize)], size: u64, granularity: u64) {
    let dir = sys.join("devices/platform/ACPI0017:00/root0/decoder0.0/region0");
    fs::create_dir_all(&dir).unwrap();
    std::os::unix::fs::symlink(
        "../../../devices/platform/ACPI0017:00/root0/decoder0.0/region0",
        sys.join("bus/cxl/devices/region0"),
    )
    .unwrap();
    w(&dir.join("uuid"), "0b7a5e38-5d0e-4f4c-9b4e-3a1f3a0d2c11");
    w(&dir.join("size"), &format!("{size:#x}"));
    w(&dir.join("resource"), "0x290000000");
    w(&dir.join("mode"), "pmem");
    w(&dir.join("interleave_ways"), &targets.len().to_string());
    w(
        &dir.join("interleave_granularity"),
        &granularity.to_string(),
    );
    w(&dir.join("commit"), "1");
    for (i, &(ep, n)) in targets.iter().enumerate() {
        w(&dir.join(format!("target{i}")), &format!("decoder{ep}.{n}"));
        let d = decoder(sys, ep, n);
        w(&d.join("mode"), "pmem");
        w(
            &d.join("dpa_size"),
            &format!("{:#x}", size / targets.len() as u64),
        );
        w(&d.join("region"), "region0");
    }
}

#[test]
fn scans_devices_decoders_and_windows() {
    let cxl = scan(&fixture()).unwrap();
    let serials: Vec<(String, u64, u64, u64)> = cxl
        .memdevs
        .iter()
        .map(|m| (m.name.clone(), m.serial, m.ram_bytes, m.pmem_bytes))
        .collect();
    assert_eq!(
        serials,
        vec![
            ("mem0".into(), 0x1001, M256, 0),
            ("mem1".into(), 0x2002, 0, M256),
            ("mem2".into(), 0x2003, 0, M256),
        ]
    );
    let m1 = &cxl.memdevs[1];
    assert_eq!(m1.endpoint.as_deref(), Some("endpoint3"));
    assert_eq!(m1.host.as_deref(), Some("0000:0e:00.0"));
    let names: Vec<&str> = m1.decoders.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["decoder3.0", "decoder3.1"]);
    assert!(m1.decoders.iter().all(|d| d.is_free()));
    assert_eq!(m1.decoders[0].mode, Mode::Other("none".into()));
    let [rd] = cxl.root_decoders.as_slice() else {
        panic!("{:#?}", cxl.root_decoders)
    };
    assert_eq!(rd.name, "decoder0.0");
    assert!(rd.cap_pmem && rd.cap_ram);
    assert_eq!((rd.ways, rd.granularity, rd.free), (1, 256, 4 << 30));
    assert_eq!(rd.qos_class, Some(42));
    // The window targets the host bridge every device is reached through.
    assert_eq!(rd.targets.len(), 1);
    assert!(cxl
        .memdevs
        .iter()
        .all(|m| m.host_bridge.as_ref() == rd.targets.first()));
    assert!(cxl.regions.is_empty());
}

#[test]
fn no_cxl_bus_is_no_device_and_no_sysfs_is_an_error() {
    let empty = support::fixture("empty-sysfs").join("sys");
    assert_eq!(scan(&empty).unwrap(), Cxl::default());
    assert!(scan(Path::new("/nonexistent-sysfs")).is_err());
}

#[test]
fn a_region_is_planned_as_cxl_create_region_makes_it() {
    let cxl = scan(&fixture()).unwrap();
    let e = entry("cxlpm cxl-pmem serial=0x2003,serial=0x2002\n");
    let want = RegionPlan::Create(Create {
        root_decoder: "decoder0.0".into(),
        mode: Mode::Pmem,
        // Everything both devices have, 256 MiB each; the window's granularity.
        size: 2 * M256,
        granularity: 256,
        targets: vec![
            Target {
                serial: 0x2003,
                memdev: "mem2".into(),
                decoder: "decoder4.0".into(),
                set_mode: true,
                dpa_size: M256,
            },
            Target {
                serial: 0x2002,
                memdev: "mem1".into(),
                decoder: "decoder3.0".into(),
                set_mode: true,
                dpa_size: M256,
            },
        ],
    });
    assert_eq!(plan(&e, &cxl), Ok(want));
    // A volatile region by serial takes the ram capacity.
    let r = entry("expand system-ram serial=0x1001 - - granularity=4K\n");
    let Ok(RegionPlan::Create(c)) = plan(&r, &cxl) else {
        panic!("{:?}", plan(&r, &cxl))
    };
    assert_eq!((c.mode, c.size, c.granularity), (Mode::Ram, M256, 4096));
    assert_eq!(c.targets[0].decoder, "decoder2.0");
}

#[test]
fn what_cannot_be_created_is_refused() {
    let cxl = scan(&fixture()).unwrap();
    let too_big = entry("p cxl-pmem serial=0x2002 - - size=512M\n");
    assert_eq!(
        plan(&too_big, &cxl),
        Err(Refusal::Refused(
            "size=512M needs 512M of pmem capacity on each device; serial 0x2002 have 256M free each at most".into()
        ))
    );
    // The volatile device has no persistent capacity.
    let no_pmem = entry("p cxl-pmem serial=0x1001\n");
    assert_eq!(
        plan(&no_pmem, &cxl),
        Err(Refusal::Refused(
            "serial=0x1001 (mem0) has no free pmem capacity in whole 256 MiB (0 pmem, 0 in use)"
                .into()
        ))
    );
    let missing = entry("p cxl-pmem serial=0x2002,serial=0x9999\n");
    let r = plan(&missing, &cxl).unwrap_err();
    assert_eq!(
        r,
        Refusal::Missing {
            serials: vec![0x9999]
        }
    );
    assert!(r.is_pending());
    assert!(r
        .to_string()
        .starts_with("CXL memory device serial=0x9999 not found on the CXL bus"));
}

#[test]
fn an_existing_region_is_recognised_only_as_the_line_says() {
    let sys = scratch();
    add_region(&sys, &[(3, 0), (4, 0)], 2 * M256, 256);
    let cxl = scan(&sys).unwrap();
    let [r] = cxl.regions.as_slice() else {
        panic!("{:#?}", cxl.regions)
    };
    assert_eq!(r.root_decoder, "decoder0.0");
    assert_eq!(
        r.targets,
        [Some("decoder3.0".into()), Some("decoder4.0".into())]
    );
    assert!(r.committed && !r.bound);
    assert_eq!(cxl.root_decoders[0].free, (4 << 30) - 2 * M256);

    let same = entry("cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - size=512M,granularity=256\n");
    assert_eq!(
        plan(&same, &cxl),
        Ok(RegionPlan::Recognised {
            region: "region0".into(),
            bind: true
        })
    );
    // The same devices in the other order: the namespace labels' cookie would not match.
    let swapped = entry("cxlpm cxl-pmem serial=0x2003,serial=0x2002\n");
    assert_eq!(
        plan(&swapped, &cxl),
        Err(Refusal::Refused(
            "pmem region0 exists on serial 0x2003,0x2002 and differs from the line: its devices in position order are serial 0x2002,0x2003, the line's 0x2003,0x2002; nothing was written. Restore the line as the region is (see `cxl list -R -T`), or destroy the region if its data is not needed".into()
        ))
    );
    let other_size = entry("cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - granularity=512\n");
    let Err(Refusal::Refused(why)) = plan(&other_size, &cxl) else {
        panic!()
    };
    assert!(
        why.contains("its granularity is 256, the line's 512"),
        "{why}"
    );
    // One of the two devices only.
    let one = entry("cxlpm cxl-pmem serial=0x2002\n");
    let Err(Refusal::Refused(why)) = plan(&one, &cxl) else {
        panic!()
    };
    assert!(
        why.contains("serial 0x2002,0x2003, the line's 0x2002"),
        "{why}"
    );
}

#[test]
fn capacity_held_by_no_region_is_never_guessed_at() {
    let sys = scratch();
    let d = decoder(&sys, 3, 0);
    w(&d.join("mode"), "pmem");
    w(&d.join("dpa_size"), "0x10000000");
    let cxl = scan(&sys).unwrap();
    let e = entry("cxlpm cxl-pmem serial=0x2002\n");
    let Err(Refusal::Refused(why)) = plan(&e, &cxl) else {
        panic!("{:?}", plan(&e, &cxl))
    };
    assert!(
        why.starts_with("serial=0x2002 (mem1): endpoint decoder decoder3.0 holds 256M of pmem capacity in no region"),
        "{why}"
    );
}

#[test]
fn an_existing_region_imports_as_the_line_that_recognises_it() {
    use pmemtab::cxl::import::{import, Outcome};
    let sys = scratch();
    add_region(&sys, &[(4, 0), (3, 0)], 2 * M256, 256);
    let cxl = scan(&sys).unwrap();
    assert_eq!(
        import(&cxl, &[]),
        vec![(
            "region0".to_string(),
            Outcome::Line(
                "cxl-2003-2002 cxl-pmem serial=0x2003,serial=0x2002 - - size=512M,granularity=256"
                    .into()
            )
        )]
    );
    let declared = entry("mine cxl-pmem serial=0x2003,serial=0x2002\n");
    assert_eq!(
        import(&cxl, &[declared])[0].1,
        Outcome::Declared {
            entry: "mine".into(),
            line: 1
        }
    );
    // A region made halfway is nothing to declare.
    w(
        &sys.join("devices/platform/ACPI0017:00/root0/decoder0.0/region0/commit"),
        "0",
    );
    let cxl = scan(&sys).unwrap();
    assert_eq!(
        import(&cxl, &[])[0].1,
        Outcome::Refused("not committed (made halfway): nothing to declare".into())
    );
}

/// Every object of `cxl list` (any depth) that has `key`.
fn objects_with<'a>(j: &'a support::json::Json, key: &str, out: &mut Vec<&'a support::json::Json>) {
    use support::json::Json;
    match j {
        Json::Obj(fields) => {
            if j.get(key).is_some() {
                out.push(j);
            }
            for (_, v) in fields {
                objects_with(v, key, out);
            }
        }
        Json::Arr(items) => {
            for v in items {
                objects_with(v, key, out);
            }
        }
        _ => {}
    }
}

/// The scanner against `cxl list -vvv` of the same machine (cxl-cli from Debian 13, in the
/// lab's guest), on the four real captures of Debian's 6.12: each memdev's serial, host and
/// capacities, each endpoint decoder's mode, capacity and region, each region's geometry and
/// targets by position.
#[test]
fn scan_matches_cxl_list_on_the_real_captures() {
    let mut compared = 0;
    for case in [
        "cxl-sysfs-qemu-a/before",
        "cxl-sysfs-qemu-a/after",
        "cxl-sysfs-qemu-b/before",
        "cxl-sysfs-qemu-b/after",
    ] {
        let dir = support::fixture(case);
        let cxl = scan(&dir.join("sys")).unwrap();
        let text = fs::read_to_string(dir.join("cxl-list.json")).unwrap();
        let oracle = support::json::Json::parse(&text).unwrap();
        let mut memdevs = Vec::new();
        objects_with(&oracle, "serial", &mut memdevs);
        assert_eq!(memdevs.len(), cxl.memdevs.len(), "{case}");
        for o in memdevs {
            let name = o.str("memdev").unwrap();
            let m = cxl.memdevs.iter().find(|m| m.name == name).unwrap();
            assert_eq!(Some(m.serial), o.u64("serial"), "{case} {name}");
            assert_eq!(m.host.as_deref(), o.str("host"), "{case} {name}");
            assert_eq!(m.ram_bytes, o.u64("ram_size").unwrap_or(0), "{case} {name}");
            assert_eq!(
                m.pmem_bytes,
                o.u64("pmem_size").unwrap_or(0),
                "{case} {name}"
            );
            assert!(
                m.endpoint.is_some() && m.host_bridge.is_some(),
                "{case} {name}"
            );
            compared += 1;
        }
        let mut decoders = Vec::new();
        objects_with(&oracle, "interleave_ways", &mut decoders);
        for o in decoders {
            // Regions have ways too; mappings name a decoder but are not one.
            let Some(name) = o.str("decoder") else {
                continue;
            };
            let Some(d) = cxl
                .memdevs
                .iter()
                .flat_map(|m| &m.decoders)
                .find(|d| d.name == name)
            else {
                continue; // a root or switch decoder
            };
            // cxl list leaves out what a disabled decoder has not.
            assert_eq!(d.dpa_size, o.u64("dpa_size").unwrap_or(0), "{case} {name}");
            if let Some(mode) = o.str("mode") {
                assert_eq!(d.mode.as_str(), mode, "{case} {name}");
            }
            assert_eq!(d.region.as_deref(), o.str("region"), "{case} {name}");
            compared += 1;
        }
        let mut regions = Vec::new();
        objects_with(&oracle, "mappings", &mut regions);
        assert_eq!(regions.len(), cxl.regions.len(), "{case}");
        for o in regions {
            let name = o.str("region").unwrap();
            let r = cxl.region(name).unwrap();
            assert_eq!(Some(r.size), o.u64("size"), "{case} {name}");
            assert_eq!(r.resource, o.u64("resource"), "{case} {name}");
            assert_eq!(Some(r.ways), o.u64("interleave_ways"), "{case} {name}");
            assert_eq!(Some(r.granularity), o.u64("interleave_granularity"));
            assert_eq!(
                r.mode.as_ref().map(Mode::as_str),
                o.str("type"),
                "{case} {name}"
            );
            assert_eq!(r.committed, o.str("decode_state") == Some("commit"));
            for m in o.arr("mappings") {
                let at = m.u64("position").unwrap() as usize;
                assert_eq!(r.targets[at].as_deref(), m.str("decoder"), "{case} {name}");
                let owner = cxl.owner_of(m.str("decoder").unwrap()).unwrap();
                assert_eq!(Some(owner.name.as_str()), m.str("memdev"));
            }
            compared += 1;
        }
        // The one window reaches the one host bridge every device is under.
        let rd = &cxl.root_decoders[0];
        assert!(cxl.memdevs.iter().all(|m| m
            .host_bridge
            .as_ref()
            .is_some_and(|b| rd.targets.contains(b))));
    }
    assert!(compared > 30, "{compared}");
}

/// The scenarios on the real captures: the region made in boot a (cp0 0x2001 at
/// position 0, cp1 0x2002 at 1) is recognised by its line there and in boot b, where the
/// devices came up as other memX; before it exists, the line plans what cxl create-region
/// made; the other order is refused.
#[test]
fn the_lab_s_region_by_serial_across_boots() {
    let line = entry("cxlpm cxl-pmem serial=0x2001,serial=0x2002 - - size=512M,granularity=256\n");
    let ram = entry("expand system-ram serial=0x1001\n");
    for boot in ["a", "b"] {
        let before = scan(&support::fixture(&format!(
            "cxl-sysfs-qemu-{boot}/before/sys"
        )))
        .unwrap();
        let Ok(RegionPlan::Create(c)) = plan(&line, &before) else {
            panic!("{boot}: {:?}", plan(&line, &before))
        };
        let serials: Vec<u64> = c.targets.iter().map(|t| t.serial).collect();
        assert_eq!(serials, [0x2001, 0x2002]);
        assert_eq!(
            (c.size, c.granularity, c.root_decoder.as_str()),
            (2 * M256, 256, "decoder0.0")
        );
        let after = scan(&support::fixture(&format!(
            "cxl-sysfs-qemu-{boot}/after/sys"
        )))
        .unwrap();
        assert_eq!(
            plan(&line, &after),
            Ok(RegionPlan::Recognised {
                region: "region0".into(),
                bind: false
            }),
            "{boot}"
        );
        assert_eq!(
            plan(&ram, &after),
            Ok(RegionPlan::Recognised {
                region: "region1".into(),
                bind: false
            }),
            "{boot}"
        );
        let swapped = entry("cxlpm cxl-pmem serial=0x2002,serial=0x2001\n");
        assert!(
            matches!(plan(&swapped, &after), Err(Refusal::Refused(ref why)) if why.contains("its devices in position order are serial 0x2001,0x2002, the line's 0x2002,0x2001")),
            "{boot}"
        );
    }
}
