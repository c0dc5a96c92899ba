//! `up`: wait for the members, plan, and build each entry's device (safe to run again).

use super::common::{initrd_entries, load_tab, refusal, scan_by, scan_now, select, unplanned};
use crate::assemble::{self, Up};
use crate::ctx::Ctx;
use crate::dm::control::{Control, Transport};
use crate::error::{self, Error};
use crate::exit::{self, Failure};
use crate::links::{self, Linked};
use crate::wait;
use crate::{kmem, lock, mkfs};
use argh::FromArgs;
use pmemtab::cxl::plan::{self as cxlplan, RegionPlan};
use pmemtab::plan::{self, plan_all, Device, KmemDev, Plan, Reason};
use pmemtab::size::human_bytes;
use pmemtab::tab::{Entry, Layout};
use pmemtab::timeouts::{Budget, Timeouts};
use std::path::Path;
use std::time::Duration;

/// Create the devices of the named entries (or all auto entries): resolve members, plan, and
/// build the device-mapper device; safe to run again.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "up")]
pub struct Args {
    /// every entry without noauto
    #[argh(switch)]
    pub all: bool,
    /// the entries an initrd sets up: x-initrd.attach, / and /usr, and what root= and
    /// mount.usr= name in /proc/cmdline (for initrds without systemd)
    #[argh(switch)]
    pub initrd: bool,
    /// seconds to wait for the device: its members, drivers and build (default: the entry's x-systemd.device-timeout=, else 30)
    #[argh(option, from_str_fn(super::common::seconds))]
    pub timeout: Option<std::time::Duration>,
    /// entry names
    #[argh(positional)]
    pub names: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    if usize::from(args.all) + usize::from(args.initrd) + usize::from(!args.names.is_empty()) != 1 {
        return Err(Error::Usage(
            "up: name the entries to build, or use --all or --initrd (only one)",
        ));
    }
    let parsed = load_tab(ctx, &args.names)?;
    // Each entry with whether to wait for its members (in the initrd, not for `nofail` ones).
    let chosen: Vec<(&Entry, bool)> = if args.initrd {
        initrd_entries(ctx, &parsed.entries)
    } else {
        select(ctx, &parsed.entries, &args.names, args.all)?
            .into_iter()
            .filter(|e| !args.all || !e.options.noauto)
            .map(|e| (e, true))
            .collect()
    };
    // CXL regions first: the namespaces other entries name may be theirs. File order
    // otherwise (a partition: a stable sort's code is larger).
    let (mut chosen, rest): (Vec<_>, Vec<_>) = chosen.into_iter().partition(|(e, _)| e.is_cxl());
    chosen.extend(rest);
    // Each entry's failure is said as it happens, and up goes on with the next.
    error::each(chosen, |(entry, waits)| {
        // Every wait below ends by a deadline of these phases (pmemtab::timeouts): up ends
        // within the service's TimeoutStartSec=, and the device exists within the entry's
        // x-systemd.device-timeout= or not at all. A nofail entry in the initrd gets one look.
        let timeout = if waits {
            args.timeout
        } else {
            Some(Duration::ZERO)
        };
        let limits = Timeouts::of(entry, timeout);
        let by = limits.start();
        let what = format!("up {}", entry.name);
        let _held = lock::acquire(&ctx.run, &entry.name, &what, by.device)
            .map_err(|e| Error::system(ctx.at(entry.line, &entry.name), e))?;
        if entry.is_cxl() {
            return up_cxl(ctx, entry, &by, limits.device, waits);
        }
        match wait_for_plan(ctx, &parsed.entries, entry, &by, limits.device, waits)? {
            Some(plan) => build(ctx, entry, &plan, &by),
            None => Ok(()),
        }
    })
}

/// A CXL line: waits for its memory devices (loading the CXL drivers at the first miss),
/// then recognises its region, or creates it (recording that pmemtab made it), or refuses
/// before anything is written.
fn up_cxl(
    ctx: &Ctx,
    entry: &Entry,
    by: &Budget,
    timeout: Duration,
    waits: bool,
) -> Result<(), Error> {
    let at = ctx.at(entry.line, &entry.name);
    let mode = cxlplan::mode_of(entry);
    let mut loaded = false;
    let mut pending = None;
    let outcome = wait::poll(by.device.within(timeout), || {
        let bus = match pmemtab::cxl::scan::scan(&ctx.sysfs) {
            Ok(b) => b,
            Err(e) => return Some(Err(Failure::system(e.to_string()))),
        };
        match cxlplan::plan(entry, &bus) {
            Err(r) if r.is_pending() => {
                pending = Some(r);
                if !std::mem::replace(&mut loaded, true) {
                    for m in pmemtab::cxl::modules(&mode) {
                        assemble::modprobe(m, by.device);
                    }
                }
                None
            }
            Err(r) => Some(Err(Failure::refused(format!("refused: {r}")))),
            Ok(p) => Some(Ok(p)),
        }
    });
    let Some(result) = outcome else {
        let why = pending.map(|r| r.to_string()).unwrap_or_default();
        if !waits {
            outln!(
                "{at}: {why}; '{}' is nofail, so the initrd does not wait for it (the booted system sets it up when it appears)",
                entry.name
            );
            return Ok(());
        }
        return Err(Error::system(
            at,
            format_args!("{why} (waited {}s)", timeout.as_secs()),
        ));
    };
    let serials: Vec<String> = cxlplan::serials(entry)
        .iter()
        .map(|s| format!("{s:#x}"))
        .collect();
    // A ram region's memory: the zone it goes to.
    let zone = entry.zone();
    let plan = result.map_err(|f| f.at(&at))?;
    // What the region brings when it binds (cxl_pmem's nd region, dax_cxl's dax device and
    // kmem) loaded before: the devices may have been there at the first look, with udev still
    // loading the rest. A ram region's memory needs kmem even when the region is bound.
    if zone.is_some() || !matches!(plan, RegionPlan::Recognised { bind: false, .. }) {
        for m in pmemtab::cxl::modules(&mode) {
            assemble::modprobe(m, by.build);
        }
    }
    // Whether making the region binds it (the kernel then hot-adds a ram region's memory).
    let adds = !matches!(plan, RegionPlan::Recognised { bind: false, .. });
    // What the region is: recognised (bound if needed) or created, said and recorded.
    let make = || -> Result<(String, bool), Failure> {
        match plan {
            RegionPlan::Recognised { region, bind } => {
                if bind {
                    crate::cxl::bind(ctx, &region)?;
                    outln!(
                        "{}: {region} over serial {} exists as declared; bound it to cxl_region",
                        entry.name,
                        serials.join(",")
                    );
                } else {
                    outln!(
                        "{}: {region} over serial {} exists as declared; nothing written",
                        entry.name,
                        serials.join(",")
                    );
                }
                Ok((region, false))
            }
            RegionPlan::Create(c) => {
                let region = crate::cxl::create(ctx, &c)?;
                let targets: Vec<String> = c
                    .targets
                    .iter()
                    .map(|t| format!("{:#x} ({} {})", t.serial, t.memdev, t.decoder))
                    .collect();
                outln!(
                    "{}: created {} region {region} under {}: {}, granularity {}, serial {}",
                    entry.name,
                    c.mode.as_str(),
                    c.root_decoder,
                    human_bytes(c.size),
                    c.granularity,
                    targets.join(", ")
                );
                let record = crate::cxl::Record {
                    region: region.clone(),
                    serials: c.targets.iter().map(|t| t.serial).collect(),
                };
                if let Err(e) = crate::cxl::save(&ctx.run, &entry.name, &record) {
                    exit::warning(format_args!(
                        "{at}: the region is up, but recording it in {} failed ({e}): `down` will leave it alone",
                        crate::cxl::record_path(&ctx.run, &entry.name).display()
                    ));
                }
                Ok((region, true))
            }
        }
    };
    let Some(zone) = zone else {
        return make().map(|_| ()).map_err(|f| f.at(at));
    };
    // The policy is held from before the bind until the memory is online in the line's zone
    // (the kernel may hot-add it after the bind returned); a region this run made is taken
    // back when onlining fails, never with its memory online.
    let (result, held) =
        crate::cxl::ram(ctx, &entry.name, (zone, adds), by, make, |region, dev| {
            online_ram(ctx, entry, region, dev, zone, by)
        });
    if let Some(p) = held {
        exit::warning(format_args!(
            "{at}: the kernel's auto-online policy (auto_online_blocks={}) would have onlined the region's memory in a zone of its own; held it at offline until the memory was onlined here, then restored it",
            p.as_str()
        ));
    }
    result.map_err(|f| f.at(at))
}

/// A ram region's dax device onlined as system RAM in `zone`, its node published for
/// applications, as for a system-ram line over devdax namespaces.
fn online_ram(
    ctx: &Ctx,
    entry: &Entry,
    region: &str,
    dev: &pmemtab::plan::KmemDev,
    zone: pmemtab::kmem::Zone,
    by: &Budget,
) -> Result<(), Failure> {
    if dev.node < 0 {
        return Err(Failure::refused(format!(
            "{} of {region} is on no NUMA node (target_node -1), and kmem onlines memory only into a node",
            dev.dax
        )));
    }
    let undo_by = std::cell::OnceCell::new();
    let undo = || *undo_by.get_or_init(|| by.undo());
    let u = kmem::up(ctx, dev, zone, by.build, &undo)?;
    outln!(
        "{}: {region} ({}) is system RAM on node {}: {} blocks of {} in zone {zone} ({} onlined now)",
        entry.name,
        dev.dax,
        dev.node,
        u.blocks,
        human_bytes(u.block_size),
        u.onlined
    );
    if let Err(e) = crate::publish::kmem_nodes(&ctx.run, &entry.name, Some(&[dev.node])) {
        exit::warning(format_args!(
            "{}: memory is online, but publishing its node in {} failed: {e}",
            ctx.at(entry.line, &entry.name),
            pmemtab::paths::kmem_env(&ctx.run, &entry.name).display()
        ));
    }
    Ok(())
}

/// Plans the entry, polling sysfs until its members appear or `timeout` passes (0: one look),
/// within the device phase. The first miss loads the pmem drivers (they may simply not be
/// loaded yet in an initramfs). `waits` false: members not there yet are a note, not an
/// error (a `nofail` entry in the initrd, which the booted system's unit waits for): `None`.
fn wait_for_plan(
    ctx: &Ctx,
    all: &[Entry],
    entry: &Entry,
    by: &Budget,
    timeout: Duration,
    waits: bool,
) -> Result<Option<Plan>, Error> {
    let mut modules_loaded = false;
    let mut pending = Vec::new();
    // Wait for the buses to settle on the first round, and again after loading the drivers:
    // the namespaces they bring are probed then.
    let mut settle = true;
    let outcome = wait::poll(by.device.within(timeout), || {
        let scanned = if std::mem::replace(&mut settle, false) {
            scan_by(ctx, by.device)
        } else {
            scan_now(ctx)
        };
        let namespaces = match scanned {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        // Planned with every entry, so a namespace claimed by an earlier line is refused.
        let index = all
            .iter()
            .position(|e| e.name == entry.name && e.line == entry.line)?;
        let result = plan_all(all, &namespaces).into_iter().nth(index)?;
        match result {
            // Not there yet, or still appearing (a slow NVDIMM, nd_pmem still probing):
            // look again until the timeout.
            Err(r) if r.is_pending() => {
                pending = plan::pending(entry, &namespaces);
                if !modules_loaded {
                    modules_loaded = true;
                    // Every module is tried (no short cut): each may bring members.
                    settle = false;
                    for m in pmemtab::ns::member_modules(entry.layout()) {
                        settle |= assemble::modprobe(m, by.device);
                    }
                }
                None
            }
            Err(r) => Some(Err(refusal(ctx, entry, &r))),
            Ok(plan) => Some(Ok(plan)),
        }
    });
    let Some(result) = outcome else {
        let missing: Vec<String> = pending
            .iter()
            .map(|r| match r {
                Reason::NotReady { member, dev } => {
                    format!("{member} ({dev}, enabled but without its block device)")
                }
                Reason::NoDaxDevice { member, dev } => {
                    format!("{member} ({dev}, enabled but without its dax device)")
                }
                other => other.member().map(ToString::to_string).unwrap_or_default(),
            })
            .collect();
        let what = if missing.len() == 1 {
            "member"
        } else {
            "members"
        };
        if !waits {
            outln!(
                "{}: {what} {} not there yet; '{}' is nofail, so the initrd does not wait for it (the booted system sets it up when it appears)",
                ctx.at(entry.line, &entry.name),
                missing.join(", "),
                entry.name
            );
            return Ok(None);
        }
        return Err(Error::system(
            ctx.at(entry.line, &entry.name),
            format_args!(
                "{what} {} did not appear within {}s; check that the NVDIMM is present and the namespace enabled (`ndctl list -N`)",
                missing.join(", "),
                timeout.as_secs()
            ),
        ));
    };
    let plan = result?;
    for w in &plan.warnings {
        exit::warning(format_args!("{}: {w}", ctx.at(entry.line, &entry.name)));
    }
    Ok(Some(plan))
}

fn build(ctx: &Ctx, entry: &Entry, plan: &Plan, by: &Budget) -> Result<(), Error> {
    let at = ctx.at(entry.line, &entry.name);
    if let Device::Kmem { devs } = &plan.device {
        return build_kmem(ctx, entry, plan, devs, &at, by);
    }
    // The filesystem to make, if asked: an entry holds mkfs only with a filesystem type.
    let fstype = entry.fs().filter(|f| f.mkfs).map(|f| f.fstype);
    // Run on the assembled device before anything is written to it: the stripe it was
    // formatted for must be this one, and mkfs only where it cannot destroy a filesystem.
    let prepare = |device: &Path| -> Result<(), Failure> {
        // A device that cannot be read holds nothing to protect: mkfs or mount say why.
        if let Ok(Some(why)) = mkfs::geometry_conflict(device, entry.layout(), plan.members.len()) {
            return Err(Failure::refused(format!(
                "refused: {why}; the chunk size or the members changed since it was made, and using it so would scramble it: restore the entry as it was"
            )));
        }
        let Some(fstype) = fstype else { return Ok(()) };
        let size = match &plan.device {
            Device::Dm { size, .. } | Device::Single { size, .. } => size.bytes(),
            Device::Kmem { .. } => 0,
        };
        let members: Vec<mkfs::MemberDev> = plan
            .members
            .iter()
            .filter_map(|r| {
                Some(mkfs::MemberDev {
                    label: format!("{} ({})", r.member, r.ns.dev),
                    path: links::absolute(&ctx.dev.join(r.ns.blockdev.as_deref()?)),
                })
            })
            .collect();
        let made = mkfs::ensure_fs(device, &members, fstype, entry.layout(), size, by.build)
            .map_err(|e| {
                if e.is_refusal() {
                    Failure::refused(e.to_string())
                } else {
                    Failure::system(e.to_string())
                }
            })?;
        match made {
            mkfs::Made::Created => {
                outln!("{}: made {fstype} on {}", entry.name, device.display())
            }
            mkfs::Made::Existing(sig) => outln!(
                "{}: {} already holds {sig}, mkfs skipped",
                entry.name,
                device.display()
            ),
        }
        Ok(())
    };
    match entry.layout() {
        Layout::Single => build_single(ctx, entry, plan, &at, prepare),
        _ => {
            let mut ctl =
                assemble::open_control(ctx, by.device).map_err(|e| Error::assemble(&at, e))?;
            build_dm(&mut ctl, ctx, entry, plan, &at, by, prepare)
        }
    }
}

/// A `system-ram` entry: each dax device onlined as memory. When one fails, the ones this run
/// brought up are taken back, so the entry is all up or as it was.
fn build_kmem(
    ctx: &Ctx,
    entry: &Entry,
    plan: &Plan,
    devs: &[KmemDev],
    at: &str,
    by: &Budget,
) -> Result<(), Error> {
    // A Kmem plan is a system-ram entry's, which has a zone.
    let zone = entry.zone().unwrap_or_default();
    let mut fresh: Vec<&KmemDev> = Vec::new();
    // One undo phase for everything taken back, from the first failure on.
    let undo_by = std::cell::OnceCell::new();
    let undo = || *undo_by.get_or_init(|| by.undo());
    for (dev, r) in devs.iter().zip(&plan.members) {
        let member = format!("{} ({}, {})", r.member, r.ns.dev, dev.dax);
        match kmem::up(ctx, dev, zone, by.build, &undo) {
            Ok(u) => {
                let bytes = human_bytes(u.blocks * u.block_size);
                let unused = if u.left_out > 0 {
                    format!(
                        "; {} in no whole memory block, unused",
                        human_bytes(u.left_out)
                    )
                } else {
                    String::new()
                };
                if u.fresh {
                    fresh.push(dev);
                    outln!(
                        "{}: {member} onlined as system RAM on node {}: {} blocks of {} in zone {zone} ({bytes}, node grew by {}{unused})",
                        entry.name,
                        dev.node,
                        u.blocks,
                        human_bytes(u.block_size),
                        human_bytes(u.grew)
                    );
                } else if u.onlined > 0 {
                    outln!(
                        "{}: {member} was system RAM; onlined {} of its {} blocks in zone {zone}",
                        entry.name,
                        u.onlined,
                        u.blocks
                    );
                } else {
                    outln!(
                        "{}: {member} already system RAM on node {}, {} blocks online in zone {zone} ({bytes})",
                        entry.name,
                        dev.node,
                        u.blocks
                    );
                }
                if let Some(p) = u.held {
                    exit::warning(format_args!(
                        "{at}: the kernel's auto-online policy (auto_online_blocks={}) would have onlined {}'s memory in a zone of its own; held it at offline while kmem took the device, then restored it",
                        p.as_str(),
                        dev.dax
                    ));
                }
                if u.rezoned > 0 {
                    exit::warning(format_args!(
                        "{at}: the kernel's auto-online policy (auto_online_blocks={}) put {} new blocks of {} in the other zone; moved them to {zone}. Boot with memhp_default_state=offline to have them onlined there directly",
                        u.policy.map_or("?", |p| p.as_str()),
                        u.rezoned,
                        dev.dax
                    ));
                }
            }
            Err(f) => {
                let mut undone = String::new();
                for d in fresh.iter().rev() {
                    match kmem::down(ctx, d, None, Duration::ZERO, undo()) {
                        Ok(_) => undone.push_str(&format!("; {} given back to device_dax", d.dax)),
                        Err(e) => {
                            undone.push_str(&format!("; taking {} back failed: {}", d.dax, e.msg))
                        }
                    }
                }
                return Err(f.and(&undone).at(format!("{at}: member {member}")));
            }
        }
    }
    // For applications (memkind, numactl --membind): which nodes this entry's memory is.
    let nodes: Vec<i32> = devs.iter().map(|d| d.node).collect();
    match crate::publish::kmem_nodes(&ctx.run, &entry.name, Some(&nodes)) {
        Ok(_) => outln!(
            "{}: published {}={} in {}",
            entry.name,
            pmemtab::numa::KMEM_VAR,
            pmemtab::numa::node_list(nodes.iter().copied()),
            pmemtab::paths::kmem_env(&ctx.run, &entry.name).display()
        ),
        // The memory is up and usable; only the note for applications is missing.
        Err(e) => exit::warning(format_args!(
            "{at}: memory is online, but publishing its nodes in {} failed: {e}",
            pmemtab::paths::kmem_env(&ctx.run, &entry.name).display()
        )),
    }
    Ok(())
}

/// A `single` entry: the namespace's own block device, then (after mkfs, so that a failed
/// `up` publishes nothing) the `<run>/pmemtab/by-name/<name>` link the generator's mount
/// unit mounts.
fn build_single(
    ctx: &Ctx,
    entry: &Entry,
    plan: &Plan,
    at: &str,
    prepare: impl FnOnce(&Path) -> Result<(), Failure>,
) -> Result<(), Error> {
    let Device::Single { blockdev, .. } = &plan.device else {
        return Err(unplanned(ctx, entry, "namespace block device", "build"));
    };
    let ns = plan
        .members
        .first()
        .map_or("its namespace", |r| r.ns.dev.as_str());
    let path = links::absolute(&ctx.dev.join(blockdev));
    if !assemble::is_block(&path) {
        return Err(Error::system(
            at,
            format_args!(
                "{} of {ns} is missing; is devtmpfs mounted on {}?",
                path.display(),
                ctx.dev.display()
            ),
        ));
    }
    outln!("{}: {} ready (single, {ns})", entry.name, path.display());
    prepare(&path).map_err(|f| f.at(at))?;
    let link = pmemtab::paths::by_name_link(&ctx.run, &entry.name);
    match links::ensure(&ctx.run, &entry.name, &path) {
        Ok(Linked::Created) => outln!(
            "{}: linked {} -> {}",
            entry.name,
            link.display(),
            path.display()
        ),
        Ok(Linked::Replaced { was }) => outln!(
            "{}: linked {} -> {} (was -> {})",
            entry.name,
            link.display(),
            path.display(),
            was.display()
        ),
        Ok(Linked::Unchanged) => {}
        Err(e) => return Err(Error::system(at, e)),
    }
    Ok(())
}

/// A device-mapper entry: build it (or accept it as it is), then check and mkfs it; a device
/// this run created is removed again when that fails.
fn build_dm<T: Transport>(
    ctl: &mut Control<T>,
    ctx: &Ctx,
    entry: &Entry,
    plan: &Plan,
    at: &str,
    by: &Budget,
    prepare: impl FnOnce(&Path) -> Result<(), Failure>,
) -> Result<(), Error> {
    let up = assemble::up_dm(ctl, ctx, plan, by.device).map_err(|e| Error::assemble(at, e))?;
    let node = match &up {
        Up::Created { devnum, node } => {
            outln!("{}: created {} ({devnum})", entry.name, node.display());
            node
        }
        Up::Unchanged {
            node,
            resumed: false,
            ..
        } => {
            outln!("{}: already active with the planned table", entry.name);
            node
        }
        Up::Unchanged {
            node,
            resumed: true,
            ..
        } => {
            outln!(
                "{}: was suspended with the planned table; resumed",
                entry.name
            );
            node
        }
    };
    if let Err(f) = prepare(node) {
        let undone = assemble::undo(ctl, ctx, &entry.name, &up, by.undo());
        return Err(f.and(&undone).at(at));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::tests::{plan_for, scratch_ctx};
    use crate::dm::control::fake::FakeKernel;
    use crate::exit::Exit;

    fn failing(_: &Path) -> Result<(), Failure> {
        Err(Failure::system("mkfs.ext4 was not found".into()))
    }

    // A single line is planned as its namespace's block device; another plan is said, never
    // a silent 1, and nothing is built or linked.
    #[test]
    fn a_single_entry_planned_otherwise_is_said() {
        let r = scratch_ctx("up-single-unplanned", "1\n");
        let plan = plan_for("fast0", 2 << 20);
        let mut entry = crate::cmd::common::tests::entry("fast0", Layout::Single, "alpha");
        entry.line = 3;
        let e = build_single(&r, &entry, &plan, "tab:3: fast0", |_| Ok(())).unwrap_err();
        assert_eq!(e.exit(), Exit::Refused);
        let msg = e.to_string();
        assert!(
            msg.ends_with(":3: fast0: the single entry is planned as no namespace block device, so there is nothing to build; this is a bug in pmem-assemble: please report it with the output of `pmem-assemble check fast0`"),
            "{msg}"
        );
        assert!(!pmemtab::paths::by_name_link(&r.run, "fast0").exists());
    }

    #[test]
    fn failed_mkfs_removes_only_a_device_this_run_created() {
        let r = scratch_ctx("up-mkfs", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let plan = plan_for("fast0", 2 << 20);
        let members = plan.members.iter().map(|r| r.member.clone()).collect();
        let entry = Entry {
            line: 3,
            name: pmemtab::tab::name::Name::new("fast0").unwrap(),
            kind: pmemtab::tab::EntryKind::new(plan.layout, members, None).unwrap(),
            options: Default::default(),
            source: Default::default(),
        };
        let by = Timeouts::of(&entry, None).start();
        // Created by this run, then mkfs fails: gone again, node and all.
        let e = build_dm(&mut ctl, &r, &entry, &plan, "tab:3: fast0", &by, failing);
        assert_eq!(e.map_err(|e| e.exit()), Err(Exit::System));
        assert!(ctl.transport().devs.is_empty(), "nothing half-built left");
        assert!(!crate::nodes::mapper_path(&r.dev, "fast0").exists());
        // Active before this run: a failing mkfs leaves it as it was.
        let ok = build_dm(&mut ctl, &r, &entry, &plan, "tab:3: fast0", &by, |_| Ok(()));
        assert!(ok.is_ok(), "{ok:?}");
        let e = build_dm(&mut ctl, &r, &entry, &plan, "tab:3: fast0", &by, failing);
        assert_eq!(e.map_err(|e| e.exit()), Err(Exit::System));
        assert!(ctl.info("fast0").unwrap().is_some_and(|i| i.active));
    }
}
