//! KMEM DAX on the running kernel: hands a devdax device to the kmem driver and onlines its
//! memory blocks, or offlines them and gives the device back to device_dax. The same sysfs
//! steps as `daxctl reconfigure-device` (libdaxctl): `driver/remove_id` + `driver/unbind`,
//! then `new_id` + `bind` on the other driver, and `memoryN/state` for each block. Every
//! decision (which blocks, which step, how much the node must grow) is pmemtab::kmem's.

use crate::ctx::Ctx;
use crate::exit::Failure;
use crate::wait::{self, Deadline};
use pmemtab::kmem::{self, AutoOnline, BlockState, Step, Zone};
use pmemtab::plan::KmemDev;
use pmemtab::size::human_bytes;
use pmemtab::sysfs::{parse_dec, parse_hex, read as read_attr};
use pmemtab::timeouts::Wait;
use std::fs;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The argument pmem-assemble runs itself with to offline one block in a child process, so
/// that a block the kernel cannot empty (it retries until the writer gets a signal) is given
/// up by killing the child at the deadline, without signal handlers in this process.
pub const OFFLINE_CHILD_ARG: &str = "--internal-offline-memory-block";

const KMEM: &str = "kmem";
const DEVICE_DAX: &str = "device_dax";

/// What `up` found or did for one dax device.
#[derive(Debug)]
pub struct Upped {
    /// This run bound it to kmem (else it was in system-ram mode already).
    pub fresh: bool,
    /// Blocks this run onlined (or moved to the right zone).
    pub onlined: u64,
    /// Of those, blocks the kernel's auto-online policy had put in the other zone.
    pub rezoned: u64,
    pub blocks: u64,
    pub block_size: u64,
    /// Bytes of the device that are in no whole block, so not used.
    pub left_out: u64,
    /// How much the node's MemTotal grew during this run.
    pub grew: u64,
    /// What the kernel's auto-online policy is.
    pub policy: Option<AutoOnline>,
    /// The policy held at `offline` while kmem added the memory (and restored after).
    pub held: Option<AutoOnline>,
}

/// What `down` did for one dax device.
#[derive(Debug, PartialEq, Eq)]
pub enum Downed {
    /// Offlined and given back to device_dax.
    Released { blocks: u64 },
    /// It was in devdax mode already.
    NotActive,
}

#[cfg(feature = "host")]
/// The live state of one dax device, for `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Live {
    pub driver: Option<String>,
    pub node: i32,
    pub blocks: u64,
    pub online: u64,
    pub block_size: u64,
    /// The zone every online block is in, if they agree.
    pub zone: Option<Zone>,
    pub node_total: Option<u64>,
}

#[cfg(feature = "host")]
impl Live {
    pub fn is_system_ram(&self) -> bool {
        self.driver.as_deref() == Some(KMEM)
    }
}

struct Paths<'a> {
    sysfs: &'a Path,
}

impl Paths<'_> {
    fn dax(&self, dax: &str) -> PathBuf {
        self.sysfs.join("bus/dax/devices").join(dax)
    }
    fn driver(&self, name: &str) -> PathBuf {
        self.sysfs.join("bus/dax/drivers").join(name)
    }
    fn memory(&self) -> PathBuf {
        self.sysfs.join("devices/system/memory")
    }
    fn block(&self, n: u64) -> PathBuf {
        self.memory().join(format!("memory{n}"))
    }
}

fn read(path: &Path) -> Result<String, Failure> {
    read_attr(path).map_err(|e| Failure::system(format!("reading {}: {e}", path.display())))
}

fn write_attr(path: &Path, value: &str) -> io::Result<()> {
    // O_TRUNC as a shell's `>` (sysfs ignores it; a fixture file then holds the last value).
    let mut f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)?;
    f.write_all(value.as_bytes())
}

fn driver_of(p: &Paths<'_>, dax: &str) -> Result<Option<String>, Failure> {
    let dir = p.dax(dax);
    if !dir.exists() {
        return Err(Failure::system(format!(
            "{dax} is not on the dax bus ({} is missing)",
            dir.display()
        )));
    }
    Ok(fs::read_link(dir.join("driver"))
        .ok()
        .and_then(|l| l.file_name().and_then(|n| n.to_str()).map(str::to_owned)))
}

/// A numeric attribute, read with pmemtab::sysfs's parser for its form (`resource` and
/// `block_size_bytes` are hex, `size` decimal).
fn num(path: &Path, parse: fn(&str) -> Option<u64>) -> Result<u64, Failure> {
    let t = read(path)?;
    parse(&t).ok_or_else(|| {
        Failure::system(format!(
            "{}: unexpected value '{}'",
            path.display(),
            t.trim()
        ))
    })
}

/// The memory-block size, as pmemtab-memmap reads it too.
fn block_size(p: &Paths<'_>) -> Result<u64, Failure> {
    match pmemtab::memmap::firmware::read_block_size(p.sysfs) {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(Failure::system(format!(
            "{} is missing: this kernel cannot hot-plug memory (CONFIG_MEMORY_HOTPLUG)",
            p.memory().join("block_size_bytes").display()
        ))),
        Err(e) => Err(Failure::system(e.to_string())),
    }
}

/// The blocks of a dax device and the bytes left out of them.
fn blocks(p: &Paths<'_>, dax: &str) -> Result<(Range<u64>, u64, u64), Failure> {
    let dir = p.dax(dax);
    let start = num(&dir.join("resource"), parse_hex)?;
    let size = num(&dir.join("size"), parse_dec)?;
    let bs = block_size(p)?;
    let (range, left) = kmem::blocks_of(start, size, bs);
    if range.is_empty() {
        return Err(Failure::refused(format!(
            "{dax} holds {}, less than one {} memory block: kmem can use none of it",
            human_bytes(size),
            human_bytes(bs)
        )));
    }
    Ok((range, left, bs))
}

fn block_state(p: &Paths<'_>, n: u64) -> Result<BlockState, Failure> {
    let dir = p.block(n);
    let state = read(&dir.join("state"))?;
    let zones = read_attr(&dir.join("valid_zones")).unwrap_or_default();
    Ok(BlockState::parse(&state, &zones))
}

fn auto_online(p: &Paths<'_>) -> Option<AutoOnline> {
    read_attr(&p.memory().join("auto_online_blocks"))
        .ok()
        .and_then(|t| AutoOnline::parse(&t))
}

/// Runs `add` (which hot-adds memory: kmem binding a dax device, or a CXL ram region bound
/// with kmem as its dax device's default) with the kernel's auto-online policy held at
/// `offline` when it would online the memory in another zone than `zone`, and restored right
/// after, whatever `add` returned; the policy it held, if it did. `what` names the memory in
/// the warning when the policy cannot be restored.
pub fn with_policy_held<T>(
    ctx: &Ctx,
    zone: Zone,
    what: &str,
    add: impl FnOnce() -> T,
) -> (T, Option<AutoOnline>) {
    let p = Paths { sysfs: &ctx.sysfs };
    let policy = auto_online(&p);
    let held = policy.filter(|_| kmem::hold_policy(policy, zone));
    let policy_path = p.memory().join("auto_online_blocks");
    let held = held.filter(|_| write_attr(&policy_path, "offline").is_ok());
    let result = add();
    if let Some(was) = held {
        if let Err(e) = write_attr(&policy_path, was.as_str()) {
            crate::exit::warning(format_args!(
                "{what}: could not restore auto_online_blocks={} ({e}); it is offline now",
                was.as_str()
            ));
        }
    }
    (result, held)
}

/// Whether the kernel is done with `dax` after its region bound: a driver took it and, when
/// that is kmem, every memory block of it is there. A ram region's dax device and kmem's
/// hot-add may come after the bind write returned (7.2 probes them asynchronously; 6.12
/// before the write returns), so the auto-online policy stays held until this holds.
pub fn settled(ctx: &Ctx, dax: &str) -> bool {
    let p = Paths { sysfs: &ctx.sysfs };
    match driver_of(&p, dax) {
        Ok(Some(d)) if d == KMEM => blocks(&p, dax)
            .is_ok_and(|(range, _, _)| range.into_iter().all(|n| p.block(n).exists())),
        Ok(Some(_)) => true,
        _ => false,
    }
}

/// The memory blocks of `dax` that are not offline (online, going online or offline, or
/// unreadable): while there is one, the memory is the kernel's and the region under it must
/// not be unbound or decommitted (the kernel oopses at the next fork).
pub fn online_blocks(ctx: &Ctx, dax: &str) -> Result<Vec<u64>, Failure> {
    let p = Paths { sysfs: &ctx.sysfs };
    let range = match blocks(&p, dax) {
        Ok((range, _, _)) => range,
        // Less than one block: kmem could add none of it.
        Err(f) if f.exit == crate::exit::Exit::Refused => return Ok(Vec::new()),
        Err(f) => return Err(f),
    };
    Ok(range
        .filter(|&n| p.block(n).exists())
        .filter(|&n| !matches!(block_state(&p, n), Ok(BlockState::Offline)))
        .collect())
}

fn node_total(sysfs: &Path, node: i32) -> Option<u64> {
    let path = sysfs.join(format!("devices/system/node/node{node}/meminfo"));
    kmem::node_mem_total(&read_attr(&path).ok()?)
}

/// Processes that have `/dev/<dax>` open or mapped ("pid 42 (app)"): unbinding device_dax
/// would pull the memory from under them.
fn users(ctx: &Ctx, dax: &str) -> Vec<String> {
    let dev = format!("/dev/{dax}");
    let Ok(procs) = fs::read_dir(&ctx.proc) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for p in procs.flatten() {
        let Some(pid) = p
            .file_name()
            .to_str()
            .filter(|n| n.parse::<u32>().is_ok())
            .map(str::to_owned)
        else {
            continue;
        };
        let dir = p.path();
        let open = fs::read_dir(dir.join("fd"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|t| t == Path::new(&dev)));
        let open = open || maps_file(&dir.join("maps"), &dev);
        if open {
            let comm = fs::read(dir.join("comm")).unwrap_or_default();
            found.push(format!(
                "pid {pid} ({})",
                pmemtab::text::escape_bytes(comm.strip_suffix(b"\n").unwrap_or(&comm))
            ));
        }
    }
    found
}

/// Whether a `/proc/PID/maps` lists `file` as a mapping's path. Read as bytes: another
/// mapping's path need not be UTF-8.
fn maps_file(maps: &Path, file: &str) -> bool {
    let tail = format!(" {file}");
    fs::read(maps).is_ok_and(|m| {
        m.split(|&b| b == b'\n')
            .any(|l| l.ends_with(tail.as_bytes()))
    })
}

/// Unbinds `dax` from `driver` the way libdaxctl does (remove_id, then unbind).
fn unbind(p: &Paths<'_>, dax: &str, driver: &str) -> Result<(), Failure> {
    let d = p.driver(driver);
    // remove_id fails harmlessly when the id was never added.
    let _ = write_attr(&d.join("remove_id"), dax);
    write_attr(&d.join("unbind"), dax)
        .map_err(|e| Failure::system(format!("{dax}: unbinding it from {driver}: {e}")))?;
    match driver_of(p, dax)? {
        Some(now) if now == driver => Err(Failure::system(format!(
            "{dax}: still bound to {driver} after unbind; see dmesg"
        ))),
        _ => Ok(()),
    }
}

/// Binds `dax` to `driver` (loading its module first if needed, until `by`), as libdaxctl
/// does: new_id, then bind when new_id did not attach it.
fn bind(p: &Paths<'_>, dax: &str, driver: &str, by: Deadline) -> Result<(), Failure> {
    let d = p.driver(driver);
    if !d.exists() {
        crate::assemble::modprobe(driver, by);
    }
    if !d.exists() {
        return Err(Failure::system(format!(
            "{dax}: the {driver} driver is not available (modprobe {driver} failed); the kernel needs {}",
            if driver == KMEM { "CONFIG_DEV_DAX_KMEM" } else { "CONFIG_DEV_DAX" }
        )));
    }
    let _ = write_attr(&d.join("new_id"), dax);
    let mut last = None;
    if driver_of(p, dax)?.as_deref() != Some(driver) {
        last = write_attr(&d.join("bind"), dax).err();
    }
    match driver_of(p, dax)? {
        Some(now) if now == driver => Ok(()),
        _ => Err(Failure::system(format!(
            "{dax}: the {driver} driver did not take it{}; see dmesg",
            last.map(|e| format!(" ({e})")).unwrap_or_default()
        ))),
    }
}

fn online(p: &Paths<'_>, dax: &str, n: u64, zone: Zone) -> Result<(), Failure> {
    write_attr(&p.block(n).join("state"), zone.online_state()).map_err(|e| {
        let zones = read_attr(&p.block(n).join("valid_zones")).unwrap_or_default();
        Failure::system(format!(
            "{dax}: memory{n} cannot go online in zone {zone} ({e}; the kernel offers: {})",
            zones.trim()
        ))
    })
}

/// Offlines one block in a child process, killed at `by`: the kernel keeps migrating pages
/// out of a block until it is empty or the writer gets a signal.
fn offline(p: &Paths<'_>, n: u64, by: Deadline) -> Result<(), Unmoved> {
    let log = KernelLog::open();
    offline_child_run(p, n, by).map_err(|why| Unmoved {
        why,
        logged: log.and_then(|l| l.why_unmovable()),
    })
}

/// Why a block stayed online, and what the kernel logged about it meanwhile.
#[derive(Debug)]
struct Unmoved {
    why: OfflineError,
    logged: Option<String>,
}

impl std::fmt::Display for Unmoved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.logged {
            Some(k) => write!(f, "{} (the kernel logged: {k})", self.why),
            None => write!(f, "{}", self.why),
        }
    }
}

/// Why the child that offlines one block did not succeed.
#[derive(Debug, thiserror::Error)]
enum OfflineError {
    #[error("cannot find pmem-assemble itself: {0}")]
    NoSelf(io::Error),
    #[error("the kernel says its memory is in use (EBUSY): it holds pages that cannot be moved")]
    Busy,
    #[error("no other node has room for its memory (ENOMEM)")]
    NoRoom,
    #[error("the kernel refused ({0})")]
    Kernel(io::Error),
    #[error("the offlining was killed")]
    Killed,
    #[error("its memory could not be moved elsewhere within {secs}s (pages in use, or no room on other nodes)")]
    Timeout { secs: u64 },
    #[error(transparent)]
    Run(wait::RunError),
}

/// The kernel log from now on (`/dev/kmsg` after a seek to its end), to tell why memory
/// could not be offlined: the kernel dumps the first page it could not move ("page dumped
/// because: unmovable page").
struct KernelLog(fs::File);

impl KernelLog {
    fn open() -> Option<KernelLog> {
        use std::io::Seek;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
            .open("/dev/kmsg")
            .ok()?;
        f.seek(io::SeekFrom::End(0)).ok()?;
        Some(KernelLog(f))
    }

    /// The last "page dumped because: ..." reason logged since [`KernelLog::open`].
    fn why_unmovable(mut self) -> Option<String> {
        use std::io::Read;
        let mut found = None;
        let mut buf = [0u8; 8192];
        // One record per read; a bound, in case the log is flooded meanwhile.
        for _ in 0..4096 {
            let Ok(n) = self.0.read(&mut buf) else { break };
            if n == 0 {
                break;
            }
            let rec = String::from_utf8_lossy(&buf[..n]);
            let msg = rec.split_once(';').map_or(&*rec, |(_, m)| m);
            if let Some(r) = msg
                .lines()
                .next()
                .and_then(|l| l.split_once("page dumped because: "))
            {
                found = Some(r.1.trim().to_string());
            }
        }
        found
    }
}

fn offline_child_run(p: &Paths<'_>, n: u64, by: Deadline) -> Result<(), OfflineError> {
    let state = p.block(n).join("state");
    let exe = std::env::current_exe().map_err(OfflineError::NoSelf)?;
    let mut cmd = Command::new(exe);
    cmd.arg(OFFLINE_CHILD_ARG).arg(&state);
    match wait::run(&mut cmd, by) {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(match s.code() {
            Some(16) => OfflineError::Busy,
            Some(12) => OfflineError::NoRoom,
            Some(c) => OfflineError::Kernel(io::Error::from_raw_os_error(c)),
            None => OfflineError::Killed,
        }),
        Err(wait::RunError::Timeout { secs, .. }) => Err(OfflineError::Timeout { secs }),
        Err(e) => Err(OfflineError::Run(e)),
    }
}

/// The child's side of [`offline`]: exit 0, or the errno of the write.
pub fn offline_child(state: &Path) -> i32 {
    match write_attr(state, "offline") {
        Ok(()) => 0,
        Err(e) => e.raw_os_error().unwrap_or(1).clamp(1, 255),
    }
}

/// Brings one dax device up as system RAM in `zone`, by `build` (moving blocks the kernel
/// onlined in another zone: [`Wait::KmemOffline`] at most); safe to run again. A device this
/// run bound to kmem is given back to device_dax when onlining fails, by `undo()` (taken when
/// the undo starts).
pub fn up(
    ctx: &Ctx,
    dev: &KmemDev,
    zone: Zone,
    build: Deadline,
    undo: &dyn Fn() -> Deadline,
) -> Result<Upped, Failure> {
    let p = Paths { sysfs: &ctx.sysfs };
    let dax = dev.dax.as_str();
    let before = node_total(&ctx.sysfs, dev.node).unwrap_or(0);
    let mut held_policy = None;
    let fresh = match driver_of(&p, dax)?.as_deref() {
        Some(KMEM) => false,
        Some(DEVICE_DAX) | None => {
            let holders = users(ctx, dax);
            if !holders.is_empty() {
                return Err(Failure::refused(format!(
                    "/dev/{dax} is in use by {}: stop it before its memory becomes system RAM",
                    holders.join(", ")
                )));
            }
            // Checked before the device is touched: a device too small is left as it is.
            blocks(&p, dax)?;
            if driver_of(&p, dax)?.is_some() {
                unbind(&p, dax, DEVICE_DAX)?;
            }
            // The kernel would online the memory in another zone the moment kmem adds it:
            // hold its policy at offline for that moment (restored right after), so the
            // blocks are onlined here, in the entry's zone.
            let (bound, held) = with_policy_held(ctx, zone, dax, || bind(&p, dax, KMEM, build));
            held_policy = held;
            if let Err(f) = bound {
                let back = bind(&p, dax, DEVICE_DAX, undo())
                    .err()
                    .map(|b| format!("; giving it back to device_dax failed too: {}", b.msg))
                    .unwrap_or_default();
                return Err(f.and(&back));
            }
            true
        }
        Some(other) => {
            return Err(Failure::refused(format!(
                "{dax} is bound to the {other} driver, neither device_dax nor kmem: left alone"
            )))
        }
    };
    let rezone_by = build.cap(Wait::KmemOffline);
    let result = online_all(&p, ctx, dev, zone, fresh, before, rezone_by).map(|u| Upped {
        held: held_policy,
        ..u
    });
    if result.is_err() && fresh {
        // Nothing half-built: what this run added is taken back when it can be.
        if let Err(back) = down(ctx, dev, None, Duration::ZERO, undo()) {
            return result
                .map_err(|f| f.and(&format!("; taking it back failed too: {}", back.msg)));
        }
    }
    result
}

fn online_all(
    p: &Paths<'_>,
    ctx: &Ctx,
    dev: &KmemDev,
    zone: Zone,
    fresh: bool,
    before: u64,
    rezone_by: Deadline,
) -> Result<Upped, Failure> {
    let dax = dev.dax.as_str();
    let (range, left_out, bs) = blocks(p, dax)?;
    let policy = auto_online(p);
    // One deadline for every block the kernel put in the other zone, as `down` has.
    let mut onlined = 0;
    let mut rezoned = 0;
    for n in range.clone() {
        if !p.block(n).exists() {
            return Err(Failure::system(format!(
                "{dax}: memory{n} did not appear after kmem took it; see dmesg"
            )));
        }
        match kmem::step(&block_state(p, n)?, zone, fresh) {
            Step::Keep => {}
            Step::Online => {
                online(p, dax, n, zone)?;
                onlined += 1;
            }
            Step::Rezone { from } => {
                offline(p, n, rezone_by).map_err(|why| {
                    Failure::system(format!(
                        "{dax}: the kernel's auto-online policy (auto_online_blocks={}) put memory{n} in zone {from}, and it cannot be moved to {zone}: {why}; boot with memhp_default_state=offline so pmem-assemble onlines it, or write zone={from}",
                        policy.map_or("?", AutoOnline::as_str)
                    ))
                })?;
                online(p, dax, n, zone)?;
                onlined += 1;
                rezoned += 1;
            }
            Step::Refuse(why) => {
                return Err(Failure::refused(format!(
                "{dax}: memory{n}: {why}; run `pmem-assemble down` for this entry first, then up"
            )))
            }
        }
    }
    // Verified after the fact, as daxctl does: another agent may have raced us.
    for n in range.clone() {
        match block_state(p, n)? {
            BlockState::Online(Some(z)) if z == zone => {}
            other => {
                return Err(Failure::system(format!(
                    "{dax}: memory{n} is {other:?} after onlining, not online in zone {zone}"
                )))
            }
        }
    }
    let blocks = range.end - range.start;
    let after = node_total(&ctx.sysfs, dev.node).unwrap_or(0);
    let grew = after.saturating_sub(before);
    if fresh && !kmem::grew_enough(grew, blocks, bs) {
        return Err(Failure::system(format!(
            "{dax}: node {} grew by {} after onlining {blocks} blocks of {}; the memory is not all in use (see dmesg)",
            dev.node,
            human_bytes(grew),
            human_bytes(bs)
        )));
    }
    Ok(Upped {
        fresh,
        onlined,
        rezoned,
        blocks,
        block_size: bs,
        left_out,
        grew,
        policy,
        held: None,
    })
}

/// Offlines every block of a dax device in system-ram mode and gives it back to device_dax,
/// all by `by`. When a block cannot be offlined within `offline_limit` (`down --timeout`;
/// [`Wait::KmemOffline`] when `None`), each given `floor` at the least (`pmem-assemble down`'s
/// [`pmemtab::timeouts::KMEM_BLOCK_FLOOR`], none in `up`),
/// the ones already offlined are onlined again in their zone and the device stays as it was.
pub fn down(
    ctx: &Ctx,
    dev: &KmemDev,
    offline_limit: Option<Duration>,
    floor: Duration,
    by: Deadline,
) -> Result<Downed, Failure> {
    let p = Paths { sysfs: &ctx.sysfs };
    let dax = dev.dax.as_str();
    match driver_of(&p, dax)?.as_deref() {
        Some(KMEM) => {}
        Some(DEVICE_DAX) => return Ok(Downed::NotActive),
        None => {
            bind(&p, dax, DEVICE_DAX, by)?;
            return Ok(Downed::Released { blocks: 0 });
        }
        Some(other) => {
            return Err(Failure::refused(format!(
                "{dax} is bound to the {other} driver, not kmem: left alone"
            )))
        }
    }
    let (range, _, _) = blocks(&p, dax)?;
    let offline_by = offline_limit.map_or_else(|| by.cap(Wait::KmemOffline), |l| by.within(l));
    let mut taken: Vec<(u64, Zone)> = Vec::new();
    for n in range.clone() {
        let zone = match block_state(&p, n)? {
            BlockState::Offline => continue,
            BlockState::Online(z) => z.unwrap_or_default(),
            BlockState::Other(s) => {
                return Err(restore(&p, dax, &taken, format!("memory{n} is {s}")));
            }
        };
        if let Err(why) = offline(&p, n, offline_by.at_least(floor)) {
            return Err(restore(
                &p,
                dax,
                &taken,
                format!("memory{n} (node {}) cannot be offlined: {why}", dev.node),
            ));
        }
        taken.push((n, zone));
    }
    unbind(&p, dax, KMEM)?;
    bind(&p, dax, DEVICE_DAX, by)?;
    let chardev = ctx.dev.join(dax);
    // devtmpfs makes the node at once; the wait covers a slow udev.
    if wait::poll(by.cap(Wait::Chardev), || chardev.exists().then_some(())).is_none() {
        return Err(Failure::system(format!(
            "{dax}: back in devdax mode, but {} did not appear within {}s",
            chardev.display(),
            Wait::Chardev.limit().as_secs()
        )));
    }
    Ok(Downed::Released {
        blocks: range.end - range.start,
    })
}

/// Onlines again what a failed `down` offlined, and says what state it left.
fn restore(p: &Paths<'_>, dax: &str, taken: &[(u64, Zone)], why: String) -> Failure {
    let mut lost = Vec::new();
    for (n, z) in taken {
        if online(p, dax, *n, *z).is_err() {
            lost.push(format!("memory{n}"));
        }
    }
    let state = if lost.is_empty() {
        "it stays in system-ram mode with all its memory online".to_string()
    } else {
        format!(
            "{} could not be onlined again and stay offline",
            lost.join(", ")
        )
    };
    Failure::system(format!("{dax}: {why}; {state}; stop what uses the memory (numastat -p shows who has memory on the node) and try again"))
}

#[cfg(feature = "host")]
/// The CPU nodes nearest to `node` by the kernel's distance table
/// (`devices/system/node/{online,has_cpu,nodeN/distance}`); empty when sysfs has no table.
pub fn nearest_cpu_nodes(sysfs: &Path, node: i32) -> Vec<i32> {
    let dir = sysfs.join("devices/system/node");
    let list = |f: &str| {
        read_attr(&dir.join(f))
            .ok()
            .and_then(|t| pmemtab::numa::parse_node_list(&t))
            .unwrap_or_default()
    };
    let Ok(row) = read_attr(&dir.join(format!("node{node}/distance"))) else {
        return Vec::new();
    };
    pmemtab::numa::nearest_cpu_nodes(&row, &list("online"), &list("has_cpu"))
}

#[cfg(feature = "host")]
/// The state of a dax device for `status`; none when it is not on the dax bus.
pub fn live(ctx: &Ctx, dev: &KmemDev) -> Option<Live> {
    let p = Paths { sysfs: &ctx.sysfs };
    let driver = driver_of(&p, &dev.dax).ok()?;
    let (range, _, bs) = blocks(&p, &dev.dax).ok()?;
    let mut online = 0;
    let mut zones = Vec::new();
    let present: Vec<u64> = range.clone().filter(|n| p.block(*n).exists()).collect();
    for n in &present {
        if let Ok(BlockState::Online(z)) = block_state(&p, *n) {
            online += 1;
            zones.push(z);
        }
    }
    let zone = match zones.split_first() {
        Some((first, rest)) if rest.iter().all(|z| z == first) => *first,
        _ => None,
    };
    Some(Live {
        driver,
        node: dev.node,
        blocks: range.end - range.start,
        online,
        block_size: bs,
        zone,
        node_total: node_total(&ctx.sysfs, dev.node),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use std::os::unix::fs::symlink;
    use testsupport::Scratch;

    const BS: u64 = 128 << 20;

    fn second() -> Deadline {
        Deadline::after(Duration::from_secs(1))
    }

    /// A sysfs tree with dax0.0 (4 blocks' worth at block 32, bound to `driver`) and its
    /// memory blocks in `states` ("online:Movable", "offline:", ...); /proc with `holder`
    /// (a pid holding `/dev/dax0.0` open) when given.
    fn tree(s: &Scratch, driver: Option<&str>, states: &[&str], holder: Option<u32>) -> Ctx {
        let root = s.path();
        let sys = root.join("sys");
        let dax = sys.join("bus/dax/devices/dax0.0");
        fs::create_dir_all(&dax).unwrap();
        fs::write(dax.join("resource"), format!("{:#x}\n", 32 * BS)).unwrap();
        fs::write(dax.join("size"), format!("{}\n", 4 * BS + (2 << 20))).unwrap();
        for d in ["kmem", "device_dax"] {
            fs::create_dir_all(sys.join("bus/dax/drivers").join(d)).unwrap();
        }
        if let Some(d) = driver {
            symlink(sys.join("bus/dax/drivers").join(d), dax.join("driver")).unwrap();
        }
        let mem = sys.join("devices/system/memory");
        fs::create_dir_all(&mem).unwrap();
        fs::write(mem.join("block_size_bytes"), format!("{BS:x}\n")).unwrap();
        fs::write(mem.join("auto_online_blocks"), "offline\n").unwrap();
        for (i, st) in states.iter().enumerate() {
            let b = mem.join(format!("memory{}", 32 + i));
            fs::create_dir_all(&b).unwrap();
            let (state, zone) = st.split_once(':').unwrap();
            fs::write(b.join("state"), format!("{state}\n")).unwrap();
            fs::write(b.join("valid_zones"), format!("{zone}\n")).unwrap();
        }
        let node = sys.join("devices/system/node/node1");
        fs::create_dir_all(&node).unwrap();
        fs::write(node.join("meminfo"), "Node 1 MemTotal:  524288 kB\n").unwrap();
        let proc = root.join("proc");
        fs::create_dir_all(&proc).unwrap();
        if let Some(pid) = holder {
            let fd = proc.join(format!("{pid}/fd"));
            fs::create_dir_all(&fd).unwrap();
            symlink("/dev/dax0.0", fd.join("3")).unwrap();
            fs::write(proc.join(format!("{pid}/comm")), "app\n").unwrap();
        }
        Ctx {
            pmemtab: root.join("pmemtab"),
            sysfs: sys,
            dev: root.join("dev"),
            run: root.join("run"),
            proc,
        }
    }

    fn dev() -> KmemDev {
        KmemDev {
            dax: "dax0.0".into(),
            node: 1,
            size: 4 * BS,
        }
    }

    const ONLINE4: [&str; 4] = ["online:Movable"; 4];

    #[test]
    fn an_entry_already_up_is_left_as_it_is() {
        let s = Scratch::new("kmem-up-again");
        let ctx = tree(&s, Some("kmem"), &ONLINE4, None);
        let u = up(&ctx, &dev(), Zone::Movable, second(), &second).unwrap();
        assert!(!u.fresh);
        assert_eq!((u.onlined, u.blocks, u.left_out), (0, 4, 2 << 20));
        #[cfg(feature = "host")]
        {
            let l = live(&ctx, &dev()).unwrap();
            assert!(l.is_system_ram());
            assert_eq!((l.online, l.blocks, l.zone), (4, 4, Some(Zone::Movable)));
            assert_eq!(l.node_total, Some(512 << 20));
        }
    }

    #[test]
    fn memory_in_the_other_zone_is_not_moved_behind_its_users() {
        let s = Scratch::new("kmem-other-zone");
        let ctx = tree(&s, Some("kmem"), &ONLINE4, None);
        let f = up(&ctx, &dev(), Zone::Normal, second(), &second).unwrap_err();
        assert_eq!(f.exit, Exit::Refused);
        assert!(
            f.msg
                .contains("memory32: it is online in zone movable, the entry asks for normal"),
            "{}",
            f.msg
        );
        let state =
            fs::read_to_string(ctx.sysfs.join("devices/system/memory/memory32/state")).unwrap();
        assert_eq!(state, "online\n", "nothing written");
    }

    #[test]
    fn a_held_dax_device_is_refused_before_anything_changes() {
        let s = Scratch::new("kmem-held");
        let ctx = tree(&s, Some("device_dax"), &[], Some(4242));
        let f = up(&ctx, &dev(), Zone::Movable, second(), &second).unwrap_err();
        assert_eq!(f.exit, Exit::Refused);
        assert!(
            f.msg.contains("/dev/dax0.0 is in use by pid 4242 (app)"),
            "{}",
            f.msg
        );
        let unbind = ctx.sysfs.join("bus/dax/drivers/device_dax/unbind");
        assert!(!unbind.exists(), "device_dax untouched");
    }

    /// A process that only maps /dev/dax0.0 (no open fd) is a user too, also when another of
    /// its mappings has a path that is not UTF-8 (issue 28: the whole maps file was skipped).
    #[test]
    fn a_mapping_is_seen_whatever_bytes_the_other_mappings_hold() {
        let s = Scratch::new("kmem-mapped");
        let ctx = tree(&s, Some("device_dax"), &[], None);
        let pid = ctx.proc.join("777");
        fs::create_dir_all(pid.join("fd")).unwrap();
        fs::write(pid.join("comm"), "db\x1b[2J\n").unwrap();
        let mut maps = b"7f00000-7f10000 r--p 00000000 08:01 1234 /home/u/Ger\xe4t.so\n".to_vec();
        maps.extend_from_slice(
            b"7f20000000-7f60000000 rw-s 00000000 00:06 99 /dev/dax0.0\n7fff0000-7fff1000 rw-p 00000000 00:00 0 [stack]\n",
        );
        fs::write(pid.join("maps"), maps).unwrap();
        let f = up(&ctx, &dev(), Zone::Movable, second(), &second).unwrap_err();
        assert_eq!(f.exit, Exit::Refused);
        assert!(
            f.msg
                .contains("/dev/dax0.0 is in use by pid 777 (db\\x1b[2J)"),
            "{}",
            f.msg
        );
        assert!(!ctx.sysfs.join("bus/dax/drivers/device_dax/unbind").exists());
    }

    #[test]
    fn a_device_smaller_than_a_block_is_refused_untouched() {
        let s = Scratch::new("kmem-small");
        let ctx = tree(&s, Some("device_dax"), &[], None);
        let dax = ctx.sysfs.join("bus/dax/devices/dax0.0");
        fs::write(dax.join("size"), format!("{}\n", 100 << 20)).unwrap();
        let f = up(&ctx, &dev(), Zone::Movable, second(), &second).unwrap_err();
        assert_eq!(f.exit, Exit::Refused);
        assert!(
            f.msg.contains("less than one 128.00 MiB memory block"),
            "{}",
            f.msg
        );
        assert!(!ctx.sysfs.join("bus/dax/drivers/device_dax/unbind").exists());
    }

    #[test]
    fn another_driver_is_left_alone() {
        let s = Scratch::new("kmem-other-driver");
        let ctx = tree(&s, Some("other"), &[], None);
        fs::create_dir_all(ctx.sysfs.join("bus/dax/drivers/other")).unwrap();
        let f = up(&ctx, &dev(), Zone::Movable, second(), &second).unwrap_err();
        assert!(f.msg.contains("bound to the other driver"), "{}", f.msg);
        assert_eq!(
            down(&ctx, &dev(), None, Duration::ZERO, second())
                .unwrap_err()
                .exit,
            Exit::Refused
        );
    }

    #[test]
    fn down_of_a_devdax_device_is_not_active() {
        let s = Scratch::new("kmem-down-devdax");
        let ctx = tree(&s, Some("device_dax"), &[], None);
        assert_eq!(
            down(&ctx, &dev(), None, Duration::ZERO, second()).unwrap(),
            Downed::NotActive
        );
    }

    #[test]
    fn offline_child_reports_the_errno() {
        let s = Scratch::new("kmem-child");
        let f = s.path().join("state");
        fs::write(&f, "online\n").unwrap();
        assert_eq!(offline_child(&f), 0);
        assert_eq!(fs::read_to_string(&f).unwrap(), "offline");
        assert_eq!(offline_child(&s.path().join("missing/state")), 2);
    }
}
