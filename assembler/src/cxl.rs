//! The only code that writes CXL sysfs: a region created in cxl-cli's order
//! (`cxl/region.c` `create_region`) from a plan of `pmemtab::cxl::plan`, undone in reverse
//! when a step fails (`destroy_region`'s order), bound to `cxl_region`, and torn down again by
//! `down` when pmemtab made it. What pmemtab made is recorded in `<run>/pmemtab/cxl/NAME`
//! (region name and serials), as it vanishes at reboot like the region itself; a region
//! without a record (firmware's, or made by hand) is never torn down.

use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::wait::{self, Deadline};
use pmemtab::cxl::model::{Cxl, Mode, Region};
use pmemtab::cxl::plan::Create;
use pmemtab::kmem::{AutoOnline, Zone};
use pmemtab::plan::KmemDev;
use pmemtab::sysfs;
use pmemtab::timeouts::{Budget, Wait};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn bus(ctx: &Ctx) -> PathBuf {
    ctx.sysfs.join("bus/cxl/devices")
}

fn driver(ctx: &Ctx) -> PathBuf {
    ctx.sysfs.join("bus/cxl/drivers/cxl_region")
}

/// One sysfs write, as one write(2) of the whole value (the kernel parses each write).
fn write(path: &Path, value: &str) -> Result<(), Failure> {
    // O_TRUNC as a shell's `>` (sysfs ignores it; a fixture file then holds the last value).
    let result = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .and_then(|mut f| f.write_all(value.as_bytes()));
    result.map_err(|e| {
        Failure::system(format!(
            "writing {:?} to {}: {e}",
            value.trim_end(),
            path.display()
        ))
    })
}

fn read(path: &Path) -> Result<String, Failure> {
    sysfs::read_line(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| Failure::system(format!("reading {}: {e}", path.display())))
}

/// What a failed creation had done so far, to take back in reverse.
struct Undo<'a> {
    ctx: &'a Ctx,
    root_decoder: PathBuf,
    region: String,
    /// Endpoint decoders given capacity, in order.
    sized: Vec<PathBuf>,
    /// Positions whose target was set.
    targets: Vec<usize>,
    committed: bool,
    bound: bool,
}

impl Undo<'_> {
    /// Takes back every step, in reverse; says what it did, or where it stopped.
    fn run(&self) -> String {
        if let Some(why) = memory_online(self.ctx, &self.region) {
            return format!(
                "; {} is left as it is, not undone: {why}; offline it, then remove the region with `cxl destroy-region -f {}`",
                self.region, self.region
            );
        }
        let region = bus(self.ctx).join(&self.region);
        let mut steps: Vec<(PathBuf, String)> = Vec::new();
        if self.bound {
            steps.push((driver(self.ctx).join("unbind"), self.region.clone()));
        }
        if self.committed {
            steps.push((region.join("commit"), "0".into()));
        }
        for i in self.targets.iter().rev() {
            steps.push((region.join(format!("target{i}")), "\n".into()));
        }
        for d in self.sized.iter().rev() {
            steps.push((d.join("dpa_size"), "0".into()));
        }
        steps.push((self.root_decoder.join("delete_region"), self.region.clone()));
        for (path, value) in steps {
            if let Err(f) = write(&path, &value) {
                return format!(
                    "; undoing failed ({}): {} is left half made, remove it with `cxl destroy-region -f {}`",
                    f.msg, self.region, self.region
                );
            }
        }
        format!("; {} was taken back and deleted", self.region)
    }
}

/// Creates the planned region and binds it; on failure nothing of it is left (or the message
/// says what is). Returns the region's name. A ram region's memory is hot-added when (or
/// after) it binds: run this inside [`ram`], which holds the auto-online policy.
pub fn create(ctx: &Ctx, plan: &Create) -> Result<String, Failure> {
    let bus = bus(ctx);
    let rd = bus.join(&plan.root_decoder);
    let claim = rd.join(if plan.mode == Mode::Pmem {
        "create_pmem_region"
    } else {
        "create_ram_region"
    });
    // The kernel offers the next free name; writing it back claims it.
    let name = read(&claim)?;
    if !name
        .strip_prefix("region")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Failure::system(format!(
            "{} offers {name:?}, not a region name",
            claim.display()
        )));
    }
    write(&claim, &name)?;
    let mut undo = Undo {
        ctx,
        root_decoder: rd,
        region: name.clone(),
        sized: Vec::new(),
        targets: Vec::new(),
        committed: false,
        bound: false,
    };
    match steps(ctx, plan, &bus, &mut undo) {
        Ok(()) => Ok(name),
        Err(f) => {
            let undone = undo.run();
            Err(f.and(&undone))
        }
    }
}

fn steps(ctx: &Ctx, plan: &Create, bus: &Path, undo: &mut Undo<'_>) -> Result<(), Failure> {
    let region = bus.join(&undo.region);
    let ways = plan.targets.len();
    write(
        &region.join("interleave_granularity"),
        &plan.granularity.to_string(),
    )?;
    write(&region.join("interleave_ways"), &ways.to_string())?;
    if plan.mode == Mode::Pmem {
        // Any uuid: the namespace labels' interleave-set cookie comes from the devices'
        // serials and DPA, not from it.
        // With its newline: the kernel's uuid_store takes exactly 37 bytes (EINVAL for the
        // 36 characters alone), as cxl-cli's sysfs writer sends them.
        let uuid = read(&ctx.proc.join("sys/kernel/random/uuid"))?;
        write(&region.join("uuid"), &format!("{uuid}\n"))?;
    }
    write(&region.join("size"), &format!("{:#x}", plan.size))?;
    for (i, t) in plan.targets.iter().enumerate() {
        let d = bus.join(&t.decoder);
        if t.set_mode {
            write(&d.join("mode"), plan.mode.as_str())?;
        }
        write(&d.join("dpa_size"), &format!("{:#x}", t.dpa_size))?;
        undo.sized.push(d);
        write(&region.join(format!("target{i}")), &t.decoder)?;
        undo.targets.push(i);
    }
    write(&region.join("commit"), "1")?;
    undo.committed = true;
    undo.bound = bind(ctx, &undo.region)?;
    Ok(())
}

/// A ram region made or bound by `make` (its name, and whether this run created it) and its
/// memory made system RAM in `zone` by `online`, with the kernel's auto-online policy held at
/// `offline` (when it would online the memory in another zone) from before `make` until
/// `online` returned: the kernel hot-adds the memory when the region binds (6.12) or later,
/// from a probe of its own (7.2), so the policy stays held until the region's dax device is
/// bound and every block of it is there ([`hot_added`], within `by.build`). Restored on every
/// path. When onlining fails, a region this run created is taken back ([`take_back`]).
/// `adds` false: `make` binds nothing (the region is bound), so nothing is held.
pub fn ram<T>(
    ctx: &Ctx,
    name: &str,
    (zone, adds): (Zone, bool),
    by: &Budget,
    make: impl FnOnce() -> Result<(String, bool), Failure>,
    online: impl FnOnce(&str, &KmemDev) -> Result<T, Failure>,
) -> (Result<T, Failure>, Option<AutoOnline>) {
    let run = || {
        let (region, created) = make()?;
        let result = hot_added(ctx, &region, by.build).and_then(|dev| online(&region, &dev));
        match result {
            Ok(t) => Ok(t),
            Err(f) if created => Err(take_back(ctx, name, &region, by.undo(), f)),
            Err(f) => Err(f),
        }
    };
    if adds {
        crate::kmem::with_policy_held(ctx, zone, name, run)
    } else {
        (run(), None)
    }
}

/// The dax device of a bound ram region once the kernel is done adding its memory (bound to a
/// driver, and with kmem every block present), by `build` ([`Wait::Chardev`] at most); after
/// that, the device as it is (kmem binds it when no driver did).
pub fn hot_added(ctx: &Ctx, region: &str, build: Deadline) -> Result<KmemDev, Failure> {
    wait::poll(build.cap(Wait::Chardev), || {
        dax_of(ctx, region).filter(|d| crate::kmem::settled(ctx, &d.dax))
    })
    .or_else(|| dax_of(ctx, region))
    .ok_or_else(|| {
        Failure::system(format!(
            "{region} is bound but no dax device of it appeared on a NUMA node within {}s (is dax_cxl available?)",
            Wait::Chardev.limit().as_secs()
        ))
    })
}

/// Takes back a ram region `up` created for entry `name` after `failed`: its memory offlined
/// first (by `by`), then the region torn down and its record removed. Memory that stays online
/// keeps the region as it is (unbinding it under online memory crashes the kernel): the
/// error says so and is a busy device's (exit status 3); the record stays for `down`.
pub fn take_back(ctx: &Ctx, name: &str, region: &str, by: Deadline, failed: Failure) -> Failure {
    let left = |why: &str| {
        Failure {
        msg: format!(
            "{}; {region} is left as it is, not torn down: {why}; stop what uses that memory, then `pmem-assemble down {name}`",
            failed.msg
        ),
        exit: crate::exit::Exit::System,
    }
    };
    if let Some(dev) = dax_of(ctx, region) {
        if let Err(f) = crate::kmem::down(ctx, &dev, None, Duration::ZERO, by) {
            return left(&f.msg);
        }
    }
    let torn = pmemtab::cxl::scan::scan(&ctx.sysfs)
        .map_err(|e| Failure::system(e.to_string()))
        .and_then(|bus| destroy(ctx, &bus, region));
    match torn {
        Ok(()) => {
            let _ = forget(&ctx.run, name);
            failed.and(&format!("; {region} was torn down again"))
        }
        Err(e) if memory_online(ctx, region).is_some() => left(&e.msg),
        Err(e) => failed.and(&format!("; tearing {region} down failed: {}", e.msg)),
    }
}

/// The dax devices under a region (a ram region's, under its `dax_regionN`), sorted.
fn dax_devices(ctx: &Ctx, region: &str) -> Vec<String> {
    let Ok(real) = fs::canonicalize(bus(ctx).join(region)) else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(ctx.sysfs.join("bus/dax/devices")) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| fs::canonicalize(e.path()).is_ok_and(|p| p.starts_with(&real)))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    found.sort();
    found
}

/// Why a region must not be unbound or decommitted now: memory blocks of its dax devices that
/// are online (or unreadable); `None` when all are offline or it has none.
pub fn memory_online(ctx: &Ctx, region: &str) -> Option<String> {
    let mut why = Vec::new();
    for dax in dax_devices(ctx, region) {
        match crate::kmem::online_blocks(ctx, &dax) {
            Ok(b) if b.is_empty() => {}
            Ok(b) => {
                let names: Vec<String> = b.iter().map(|n| format!("memory{n}")).collect();
                why.push(format!("{} of {dax} online", names.join(",")));
            }
            Err(f) => why.push(format!("{dax}'s memory blocks unreadable ({})", f.msg)),
        }
    }
    (!why.is_empty()).then(|| why.join("; "))
}

/// The dax device a bound ram region brought (the one under its `dax_regionN`), with the node
/// its memory joins and its size, once it is there.
pub fn dax_of(ctx: &Ctx, region: &str) -> Option<KmemDev> {
    let dax = dax_devices(ctx, region).into_iter().next()?;
    let dir = ctx.sysfs.join("bus/dax/devices").join(&dax);
    let node = read(&dir.join("target_node")).ok()?.parse().ok()?;
    let size = sysfs::parse_dec(&read(&dir.join("size")).ok()?)?;
    Some(KmemDev { dax, node, size })
}

/// Binds a committed region to cxl_region (its nd region or dax region then appears), unless
/// it is bound already; true when this call bound it. The bind write returns once the
/// region's probe ran; a ram region's dax device and its memory may come later
/// ([`hot_added`]).
pub fn bind(ctx: &Ctx, region: &str) -> Result<bool, Failure> {
    let dir = bus(ctx).join(region);
    if dir.join("driver").exists() {
        return Ok(false);
    }
    write(&driver(ctx).join("bind"), region)?;
    if !dir.join("driver").exists() {
        return Err(Failure::system(format!(
            "{region} is committed but cxl_region did not take it (see dmesg)"
        )));
    }
    Ok(true)
}

/// Tears a region down in cxl-cli's `destroy-region` order: unbind, reset the decode, then per
/// position clear the target and release the decoder's capacity, then delete it. Never while
/// memory of it is online (the kernel would oops at the next fork): then nothing is written.
pub fn destroy(ctx: &Ctx, cxl: &Cxl, region: &str) -> Result<(), Failure> {
    let Some(r) = cxl.region(region) else {
        return Ok(());
    };
    if let Some(why) = memory_online(ctx, region) {
        return Err(Failure::system(format!(
            "{region} is left as it is, not torn down: {why}; offline that memory first"
        )));
    }
    let bus = bus(ctx);
    let dir = bus.join(region);
    if r.bound {
        write(&driver(ctx).join("unbind"), region)?;
    }
    if r.committed {
        write(&dir.join("commit"), "0")?;
    }
    for (i, t) in r.targets.iter().enumerate() {
        let Some(t) = t else { continue };
        write(&dir.join(format!("target{i}")), "\n")?;
        write(&bus.join(t).join("dpa_size"), "0")?;
    }
    write(&bus.join(&r.root_decoder).join("delete_region"), region)
}

/// Why a region's pmem cannot be taken away now: a block device of one of its namespaces
/// mounted or held (by a device-mapper device); `None` when nothing uses it. Unbinding the
/// region would pull the device out from under its users.
pub fn in_use(ctx: &Ctx, region: &Region) -> Option<String> {
    // Its nd region sits under the nvdimm bridge, not under the CXL region: the one at the
    // same physical address.
    let start = region.resource?;
    let nd_dir = ctx.sysfs.join("bus/nd/devices");
    let nd: Vec<String> = fs::read_dir(&nd_dir)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.starts_with("region"))
        .filter(|n| {
            sysfs::read_line(&nd_dir.join(n).join("resource"))
                .ok()
                .and_then(|r| sysfs::parse_hex(&r))
                == Some(start)
        })
        .collect();
    if nd.is_empty() {
        return None;
    }
    let namespaces = pmemtab::ns::scan(&ctx.sysfs).ok()?;
    let mounts = crate::mount::mountinfo(&ctx.proc).unwrap_or_default();
    for ns in namespaces.iter().filter(|n| nd.contains(&n.region)) {
        let (Some(blockdev), Some(devnum)) = (&ns.blockdev, ns.devnum) else {
            continue;
        };
        if let Some(m) = crate::mount::mounts_of(&mounts, devnum).first() {
            return Some(format!(
                "{blockdev} ({}) is mounted on {}",
                ns.dev,
                m.mount_point.display()
            ));
        }
        let holders = ctx.sysfs.join("class/block").join(blockdev).join("holders");
        if let Some(h) = fs::read_dir(holders)
            .ok()
            .and_then(|mut d| d.next())
            .and_then(Result::ok)
        {
            return Some(format!(
                "{blockdev} ({}) is held by {}",
                ns.dev,
                h.file_name().to_string_lossy()
            ));
        }
    }
    None
}

/// The entries with a record: what `down --all` tears down.
pub fn recorded(run: &Path) -> Vec<String> {
    let Ok(entries) = fs::read_dir(run.join(pmemtab::paths::CXL_RECORD_DIR)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| !n.ends_with(".tmp"))
        .collect();
    names.sort();
    names
}

/// `<run>/pmemtab/cxl/<name>`.
pub fn record_path(run: &Path, name: &str) -> PathBuf {
    run.join(pmemtab::paths::CXL_RECORD_DIR).join(name)
}

/// What `up` made for an entry: the region and its serials in position order.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub region: String,
    pub serials: Vec<u64>,
}

impl Record {
    fn text(&self) -> String {
        let s: Vec<String> = self.serials.iter().map(|s| format!("{s:#x}")).collect();
        format!("{} {}\n", self.region, s.join(","))
    }

    fn parse(text: &str) -> Option<Record> {
        let (region, serials) = text.trim().split_once(' ')?;
        let serials = serials
            .split(',')
            .map(sysfs::parse_hex)
            .collect::<Option<Vec<u64>>>()?;
        Some(Record {
            region: region.to_string(),
            serials,
        })
    }
}

/// Records that `up` made `record` for entry `name` (written aside and renamed, so a reader
/// sees all of it or nothing).
pub fn save(run: &Path, name: &str, record: &Record) -> io::Result<()> {
    let path = record_path(run, name);
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, record.text())?;
    fs::rename(&tmp, &path)
}

/// The record of entry `name`, if `up` made its region in this boot.
pub fn load(run: &Path, name: &str) -> io::Result<Option<Record>> {
    match fs::read(record_path(run, name)) {
        Ok(b) => Ok(Record::parse(&String::from_utf8_lossy(&b))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub fn forget(run: &Path, name: &str) -> io::Result<()> {
    match fs::remove_file(record_path(run, name)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmemtab::cxl::plan::{plan, RegionPlan};

    /// A copy of the synthetic CXL tree, with what the kernel does on each write simulated as
    /// far as the next step needs it: the claimed name becomes a region directory.
    struct Scratch {
        // Held for its Drop: the tree goes away when the test ends.
        _root: testsupport::Scratch,
        ctx: Ctx,
    }

    impl Scratch {
        fn new(tag: &str) -> Scratch {
            let root = testsupport::Scratch::new(&format!("cxl-{tag}"));
            let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/fixtures/cxl-synth-one-bridge/sys");
            testsupport::copy_tree(&fixture, &root.join("sys"));
            let proc = root.join("proc");
            fs::create_dir_all(proc.join("sys/kernel/random")).unwrap();
            fs::write(
                proc.join("sys/kernel/random/uuid"),
                "6a3c1f2e-8a54-4d1b-9b7e-0f1e2d3c4b5a\n",
            )
            .unwrap();
            let ctx = Ctx {
                pmemtab: root.join("pmemtab"),
                sysfs: root.join("sys"),
                dev: root.join("dev"),
                run: root.join("run"),
                proc,
            };
            Scratch { _root: root, ctx }
        }

        /// The region directory the kernel would make on the claim, with its attributes.
        fn region_dir(&self, name: &str) -> PathBuf {
            let real = self
                .ctx
                .sysfs
                .join("devices/platform/ACPI0017:00/root0/decoder0.0")
                .join(name);
            testsupport::cxl_region_dir(&real);
            let link = self.ctx.sysfs.join("bus/cxl/devices").join(name);
            let _ = std::os::unix::fs::symlink(
                format!("../../../devices/platform/ACPI0017:00/root0/decoder0.0/{name}"),
                link,
            );
            real
        }
    }

    fn entry(line: &str) -> pmemtab::tab::Entry {
        pmemtab::tab::parse(line)
            .entries
            .into_iter()
            .next()
            .unwrap()
    }

    fn trimmed(p: &Path) -> String {
        fs::read_to_string(p).unwrap().trim_end().to_string()
    }

    #[test]
    fn creates_in_cxl_cli_order_then_undoes_a_failed_bind() {
        let s = Scratch::new("create");
        let region = s.region_dir("region0");
        let cxl = pmemtab::cxl::scan::scan(&s.ctx.sysfs).unwrap();
        let e = entry("cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - size=512M\n");
        let Ok(RegionPlan::Create(c)) = plan(&e, &cxl) else {
            panic!()
        };
        // The fixture has no kernel to bind the region: the bind "succeeds" without a driver,
        // and every step is taken back.
        let f = create(&s.ctx, &c).unwrap_err();
        assert_eq!(
            f.msg,
            "region0 is committed but cxl_region did not take it (see dmesg); region0 was taken back and deleted"
        );
        let rd = s
            .ctx
            .sysfs
            .join("devices/platform/ACPI0017:00/root0/decoder0.0");
        // What was written, last value each: the claim, the geometry, the targets, then
        // their undoing.
        assert_eq!(trimmed(&rd.join("create_pmem_region")), "region0");
        assert_eq!(trimmed(&region.join("interleave_granularity")), "256");
        assert_eq!(trimmed(&region.join("interleave_ways")), "2");
        // Byte for byte: 6.12's uuid_store refuses anything but the 36 characters + newline.
        assert_eq!(
            fs::read_to_string(region.join("uuid")).unwrap(),
            "6a3c1f2e-8a54-4d1b-9b7e-0f1e2d3c4b5a\n"
        );
        assert_eq!(trimmed(&region.join("size")), "0x20000000");
        let ep = s.ctx.sysfs.join("bus/cxl/devices");
        assert_eq!(trimmed(&ep.join("decoder3.0/mode")), "pmem");
        assert_eq!(trimmed(&ep.join("decoder4.0/mode")), "pmem");
        assert_eq!(trimmed(&ep.join("decoder3.0/dpa_size")), "0");
        assert_eq!(trimmed(&region.join("target0")), "");
        assert_eq!(trimmed(&region.join("target1")), "");
        assert_eq!(trimmed(&region.join("commit")), "0");
        assert_eq!(
            trimmed(&s.ctx.sysfs.join("bus/cxl/drivers/cxl_region/bind")),
            "region0"
        );
        assert_eq!(
            trimmed(&s.ctx.sysfs.join("bus/cxl/drivers/cxl_region/unbind")),
            ""
        );
        assert_eq!(trimmed(&rd.join("delete_region")), "region0");
    }

    #[test]
    fn a_failed_step_is_undone_as_far_as_it_went() {
        let s = Scratch::new("undo");
        let region = s.region_dir("region0");
        // The kernel refuses the second target (here: no attribute to write).
        fs::remove_file(region.join("target1")).unwrap();
        let cxl = pmemtab::cxl::scan::scan(&s.ctx.sysfs).unwrap();
        let e = entry("cxlpm cxl-pmem serial=0x2002,serial=0x2003\n");
        let Ok(RegionPlan::Create(c)) = plan(&e, &cxl) else {
            panic!()
        };
        let f = create(&s.ctx, &c).unwrap_err();
        assert!(f.msg.starts_with("writing \"decoder4.0\" to "), "{}", f.msg);
        assert!(
            f.msg.ends_with("; region0 was taken back and deleted"),
            "{}",
            f.msg
        );
        let ep = s.ctx.sysfs.join("bus/cxl/devices");
        assert_eq!(trimmed(&ep.join("decoder3.0/dpa_size")), "0");
        assert_eq!(trimmed(&ep.join("decoder4.0/dpa_size")), "0");
        assert_eq!(trimmed(&region.join("target0")), "");
        // Never committed, so never reset.
        assert_eq!(trimmed(&region.join("commit")), "");
    }

    const BS: u64 = 128 << 20;

    /// The memory side of the tree: 128 MiB blocks, the kernel's policy `online` (Debian's),
    /// the dax drivers; region0 claimed, committed and bound.
    fn ram_tree(s: &Scratch) -> PathBuf {
        let region = s.region_dir("region0");
        fs::write(region.join("commit"), "1\n").unwrap();
        let drv = s.ctx.sysfs.join("bus/cxl/drivers/cxl_region");
        let _ = std::os::unix::fs::symlink(&drv, region.join("driver"));
        let mem = s.ctx.sysfs.join("devices/system/memory");
        fs::create_dir_all(&mem).unwrap();
        fs::write(mem.join("block_size_bytes"), format!("{BS:x}\n")).unwrap();
        fs::write(mem.join("auto_online_blocks"), "online\n").unwrap();
        for d in ["kmem", "device_dax"] {
            fs::create_dir_all(s.ctx.sysfs.join("bus/dax/drivers").join(d)).unwrap();
        }
        fs::create_dir_all(s.ctx.sysfs.join("bus/dax/devices")).unwrap();
        region
    }

    /// What the kernel does when a ram region binds: dax_cxl's dax device, kmem's hot-add of
    /// its 4 blocks (onlined in ZONE_NORMAL at once when the policy is `online`), kmem bound
    /// last. Returns the policy it saw.
    fn kernel_hot_adds(sysfs: &Path, region: &Path) -> String {
        let mem = sysfs.join("devices/system/memory");
        let policy = trimmed(&mem.join("auto_online_blocks"));
        let dax = region.join("dax_region0/dax0.0");
        fs::create_dir_all(&dax).unwrap();
        fs::write(dax.join("resource"), format!("{:#x}\n", 32 * BS)).unwrap();
        fs::write(dax.join("size"), format!("{}\n", 4 * BS)).unwrap();
        fs::write(dax.join("target_node"), "1\n").unwrap();
        let _ = std::os::unix::fs::symlink(&dax, sysfs.join("bus/dax/devices/dax0.0"));
        for n in 32..36 {
            let b = mem.join(format!("memory{n}"));
            fs::create_dir_all(&b).unwrap();
            let (state, zones) = if policy == "offline" {
                ("offline", "Movable Normal")
            } else {
                ("online", "Normal")
            };
            fs::write(b.join("state"), format!("{state}\n")).unwrap();
            fs::write(b.join("valid_zones"), format!("{zones}\n")).unwrap();
        }
        std::os::unix::fs::symlink(sysfs.join("bus/dax/drivers/kmem"), dax.join("driver")).unwrap();
        policy
    }

    fn budget() -> Budget {
        entry("expand system-ram serial=0x1001 - - zone=movable\n")
            .timeouts()
            .start()
    }

    /// `online` for these tests: what pmem-assemble's onlining leaves (every block online in
    /// ZONE_MOVABLE), and the policy while it ran.
    fn online_movable(sysfs: &Path, dev: &KmemDev) -> Result<String, Failure> {
        let mem = sysfs.join("devices/system/memory");
        assert_eq!(dev.dax, "dax0.0");
        for n in 32..36 {
            let b = mem.join(format!("memory{n}"));
            if !b.exists() {
                return Err(Failure::system(format!("memory{n} is not there yet")));
            }
            fs::write(b.join("state"), "online\n").unwrap();
            fs::write(b.join("valid_zones"), "Movable\n").unwrap();
        }
        Ok(trimmed(&mem.join("auto_online_blocks")))
    }

    /// The policy stays `offline` until the memory is online in the line's zone, whether the
    /// kernel hot-adds it while the region binds (6.12) or after the bind returned (7.2).
    #[test]
    fn the_policy_is_held_until_the_memory_is_online_in_both_orders() {
        for later in [false, true] {
            let s = Scratch::new(if later { "ram-async" } else { "ram-sync" });
            let region = ram_tree(&s);
            let sysfs = s.ctx.sysfs.clone();
            let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
            let kernel = {
                let (sysfs, region, seen) = (sysfs.clone(), region.clone(), seen.clone());
                move || *seen.lock().unwrap() = Some(kernel_hot_adds(&sysfs, &region))
            };
            let mut probe = None;
            let (result, held) = ram(
                &s.ctx,
                "expand",
                (Zone::Movable, true),
                &budget(),
                || {
                    if later {
                        // The bind returns; the dax device and its memory come 300 ms later.
                        probe = Some(std::thread::spawn(move || {
                            std::thread::sleep(Duration::from_millis(300));
                            kernel()
                        }));
                    } else {
                        kernel();
                    }
                    Ok(("region0".to_string(), true))
                },
                |region, dev| {
                    assert_eq!((region, dev.node), ("region0", 1));
                    online_movable(&sysfs, dev)
                },
            );
            if let Some(p) = probe {
                p.join().unwrap();
            }
            let policy_while_onlining = result.unwrap();
            assert_eq!(
                seen.lock().unwrap().as_deref(),
                Some("offline"),
                "later: {later}"
            );
            assert_eq!(policy_while_onlining, "offline", "later: {later}");
            assert_eq!(held, Some(AutoOnline::Online));
            let mem = sysfs.join("devices/system/memory");
            assert_eq!(
                trimmed(&mem.join("auto_online_blocks")),
                "online",
                "restored"
            );
            for n in 32..36 {
                assert_eq!(
                    trimmed(&mem.join(format!("memory{n}/valid_zones"))),
                    "Movable"
                );
            }
        }
    }

    /// Onlining failed and a block cannot be offlined (here the child that offlines it is
    /// not pmem-assemble and fails): the region up made is left as it is, never unbound or
    /// decommitted under online memory; the record stays for `down`; the policy is restored.
    #[test]
    fn a_region_with_memory_that_stays_online_is_not_torn_down() {
        let s = Scratch::new("ram-busy");
        let region = ram_tree(&s);
        let sysfs = s.ctx.sysfs.clone();
        save(
            &s.ctx.run,
            "expand",
            &Record {
                region: "region0".into(),
                serials: vec![0x1001],
            },
        )
        .unwrap();
        let (result, _) = ram(
            &s.ctx,
            "expand",
            (Zone::Movable, true),
            &budget(),
            || {
                kernel_hot_adds(&sysfs, &region);
                Ok(("region0".to_string(), true))
            },
            |_, dev| {
                online_movable(&sysfs, dev)?;
                Err::<(), _>(Failure::refused("publishing failed".into()))
            },
        );
        let f = result.unwrap_err();
        assert_eq!(f.exit, crate::exit::Exit::System, "{}", f.msg);
        assert!(
            f.msg.starts_with("publishing failed; region0 is left as it is, not torn down: dax0.0: memory32 (node 1) cannot be offlined"),
            "{}",
            f.msg
        );
        assert!(
            f.msg.ends_with("then `pmem-assemble down expand`"),
            "{}",
            f.msg
        );
        assert_eq!(trimmed(&region.join("commit")), "1");
        assert_eq!(
            trimmed(&sysfs.join("bus/cxl/drivers/cxl_region/unbind")),
            ""
        );
        assert!(load(&s.ctx.run, "expand").unwrap().is_some());
        assert_eq!(
            trimmed(&sysfs.join("devices/system/memory/auto_online_blocks")),
            "online"
        );
        // `down`'s teardown itself refuses too, naming the blocks, with nothing written.
        let cxl = pmemtab::cxl::scan::scan(&sysfs).unwrap();
        let f = destroy(&s.ctx, &cxl, "region0").unwrap_err();
        assert_eq!(f.exit, crate::exit::Exit::System);
        assert_eq!(
            f.msg,
            "region0 is left as it is, not torn down: memory32,memory33,memory34,memory35 of dax0.0 online; offline that memory first"
        );
        assert_eq!(
            trimmed(&sysfs.join("bus/cxl/drivers/cxl_region/unbind")),
            ""
        );
        assert_eq!(trimmed(&region.join("commit")), "1");
        // Offline, it goes.
        for n in 32..36 {
            fs::write(
                sysfs.join(format!("devices/system/memory/memory{n}/state")),
                "offline\n",
            )
            .unwrap();
        }
        destroy(&s.ctx, &cxl, "region0").unwrap();
        assert_eq!(
            trimmed(&sysfs.join("bus/cxl/drivers/cxl_region/unbind")),
            "region0"
        );
    }

    #[test]
    fn records_round_trip() {
        let s = Scratch::new("record");
        assert_eq!(load(&s.ctx.run, "cxlpm").unwrap(), None);
        let r = Record {
            region: "region3".into(),
            serials: vec![0x2002, 0x2003],
        };
        save(&s.ctx.run, "cxlpm", &r).unwrap();
        assert_eq!(
            fs::read_to_string(record_path(&s.ctx.run, "cxlpm")).unwrap(),
            "region3 0x2002,0x2003\n"
        );
        assert_eq!(load(&s.ctx.run, "cxlpm").unwrap(), Some(r));
        forget(&s.ctx.run, "cxlpm").unwrap();
        forget(&s.ctx.run, "cxlpm").unwrap();
        assert_eq!(load(&s.ctx.run, "cxlpm").unwrap(), None);
    }
}
