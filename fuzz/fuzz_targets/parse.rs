//! Any input: parse must not panic, every diagnostic must render, and every entry must plan
//! (or be refused, every refusal rendering) against a small machine without panicking. The
//! same bytes are also the other inputs pmemtab reads as bytes (issue 28): the kernel command
//! line (pmemtab's words, root=, rootflags=, memmap=), mountinfo, text shown escaped, and a
//! device-mapper table as `import --table` reads it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pmemtab::devnum::DevNum;
use pmemtab::ns::{Mode, Namespace};

fn machine() -> Vec<Namespace> {
    let ns = |region: u8, mode: Mode, size: u64| Namespace {
        dev: format!("namespace{region}.0"),
        region: format!("region{region}"),
        provider: None,
        mode,
        legacy: region == 0,
        active: true,
        uuid: (region != 0).then(|| uuid::Uuid::from_bytes([region; 16])),
        raw_uuid: (region != 0).then(|| uuid::Uuid::from_bytes([region | 0x80; 16])),
        name: Some(format!("n{}", region % 2)),
        blockdev: (mode != Mode::Devdax).then(|| format!("pmem{region}")),
        devnum: (mode != Mode::Devdax).then_some(DevNum { major: 259, minor: u32::from(region) }),
        chardev: (mode == Mode::Devdax).then(|| format!("dax{region}.0")),
        size,
        resource: Some(0x2800_0000 * u64::from(region + 1)),
        data_start: Some(0x2800_0000 * u64::from(region + 1) + 4096 * u64::from(region)),
        dax: mode == Mode::Fsdax,
        numa_node: Some(0),
        target_node: Some(0),
        align: Some(2 << 20),
        sector_size: Some(512),
    };
    vec![
        ns(0, Mode::Fsdax, 128 << 20),
        ns(1, Mode::Fsdax, 502 << 20),
        ns(2, Mode::Fsdax, u64::MAX - 5),
        ns(3, Mode::Devdax, 1 << 30),
        ns(4, Mode::Sector, 1 << 30),
        ns(5, Mode::Fsdax, 1 << 20),
    ]
}

fuzz_target!(|data: &[u8]| {
    // Raw bytes, as read from disk: lines that are not UTF-8 are diagnostics too.
    let parsed = pmemtab::tab::parse_bytes(data);
    for d in &parsed.diagnostics {
        let _ = (d.render("/etc/pmemtab"), d.one_line("/etc/pmemtab"));
    }
    let namespaces = machine();
    let plans = pmemtab::plan::plan_all(&parsed.entries, &namespaces);
    for (entry, result) in parsed.entries.iter().zip(plans) {
        match result {
            Ok(plan) => {
                let _ = pmemtab::dmtable::print(plan.targets());
            }
            Err(refusal) => {
                let _ = refusal.to_string();
                for d in refusal.diagnostics(entry) {
                    let _ = d.render("/etc/pmemtab");
                }
            }
        }
    }
    let cmdline = pmemtab::cmdline::parse("root=/dev/mapper/n0 mount.usr=/dev/mapper/n1", true);
    let _ = pmemtab::cmdline::boot_devices(&parsed.entries, &cmdline);
    for e in &parsed.entries {
        let t = e.timeouts();
        let _ = (e.mount_options(), e.layout().to_string(), t.start().undo().left());
    }
    // The input as /proc/cmdline: every word that is not ours costs nothing, whatever bytes.
    for in_initrd in [false, true] {
        let c = pmemtab::cmdline::parse(data, in_initrd);
        for d in pmemtab::cmdline::boot_devices(&parsed.entries, &c).problems {
            let _ = d.one_line("/etc/pmemtab");
        }
    }
    let foreign = pmemtab::memmap::arg::foreign(data, &[]);
    let _ = pmemtab::memmap::arg::command_line_len(data, &foreign.memmap_items.join(","));
    // As /proc/self/mountinfo, and as text to show.
    for m in pmemtab::mountinfo::parse(data) {
        let _ = (m.dax_mode(), pmemtab::text::escape_path(&m.mount_point));
    }
    let _ = (
        pmemtab::text::escape_bytes(data),
        pmemtab::text::decode_octal_bytes(data),
    );
    // As `dmsetup table` text (`import --table`): every device imported or refused, and its
    // table printed reads back as the same typed table.
    if let Ok(devices) = pmemtab::import::parse_table(&String::from_utf8_lossy(data)) {
        for (name, targets) in &devices {
            let name = name.as_deref().unwrap_or("x");
            let _ = pmemtab::import::import(name, None, targets, &namespaces, None);
            let printed = pmemtab::dmtable::print(targets);
            assert_eq!(pmemtab::dmtable::parse(&printed).as_ref(), Ok(targets), "{printed}");
        }
    }
});
