//! `down`: remove devices this tool created, and only those, and the links of `single` entries.

use crate::assemble::{self, Down};
use crate::ctx::Ctx;
use crate::error::{self, Error};
use crate::exit;
use crate::links::{self, Unlinked};
use crate::wait::Deadline;
use crate::{kmem, lock, nodes};
use argh::FromArgs;
use pmemtab::plan::Device;
use pmemtab::tab::name::Name;
use pmemtab::tab::{Entry, Layout};
use pmemtab::text::escape_control;
use pmemtab::timeouts::{total, Wait, DM_UNDO, KMEM_BLOCK_FLOOR, OPEN_CONTROL_LIMIT};

/// Remove the devices of the named entries (or every device pmemtab created) and the links
/// of single entries; a device in use is retried for a bounded time, then left in place with
/// an error naming its holder.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "down")]
pub struct Args {
    /// every device whose dm uuid carries the pmemtab prefix, and every by-name link
    #[argh(switch)]
    pub all: bool,
    /// seconds a system-ram entry's memory may take to go offline (default 30)
    #[argh(option, from_str_fn(super::common::seconds))]
    pub timeout: Option<std::time::Duration>,
    /// entry names
    #[argh(positional)]
    pub names: Vec<String>,
}

/// Works from what the kernel holds, not from pmemtab: an entry deleted from the file can
/// still be taken down, and only devices with the pmemtab dm uuid prefix are touched.
pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    if args.all != args.names.is_empty() {
        return Err(Error::Usage(
            "down: name the devices to remove, or use --all (not both)",
        ));
    }
    // Without dm_mod loaded no device-mapper device can exist: nothing to open, and no module
    // to load just to find that out (a `single` entry's ExecStop= must work without dm).
    let mut ctl = if nodes::dm_loaded(&ctx.sysfs) {
        match assemble::open_control(ctx, Deadline::after(OPEN_CONTROL_LIMIT)) {
            Ok(c) => Some(c),
            Err(e) => return Err(Error::assemble("down", e)),
        }
    } else {
        None
    };
    let names = if args.all {
        let mut names = links::names(&ctx.run);
        if let Some(ctl) = ctl.as_mut() {
            match assemble::ours(ctl) {
                Ok(infos) => names.extend(infos.into_iter().map(|i| i.name)),
                Err(e) => return Err(Error::system("down", e)),
            }
        }
        names.sort();
        names.dedup();
        // CXL regions last: what stands on their namespaces goes first.
        names.retain(|n| crate::cxl::load(&ctx.run, n).ok().flatten().is_none());
        names.extend(crate::cxl::recorded(&ctx.run));
        names
    } else {
        args.names
    };
    // Messages name the pmemtab line when the device is (still) declared there.
    let entries = super::common::load(&ctx.pmemtab)
        .map(|p| p.entries)
        .unwrap_or_default();
    // Names come from the command line: control characters are shown escaped.
    let at = |name: &str| match entries.iter().find(|e| e.name == name) {
        Some(e) => ctx.at(e.line, name),
        None => escape_control(name),
    };
    // Each device's failure is said as it happens, and down goes on with the next.
    error::each(names, |name| {
        let shown = escape_control(&name);
        let _held = lock::acquire(
            &ctx.run,
            &name,
            &format!("down {name}"),
            Deadline::after(Wait::Lock.limit()),
        )
        .map_err(|e| Error::system(at(&name), e))?;
        // A CXL region pmemtab made (recorded), or a cxl-pmem entry.
        let record = crate::cxl::load(&ctx.run, &name);
        let cxl_line = entries.iter().any(|e| e.name == name && e.is_cxl());
        if cxl_line || !matches!(record, Ok(None)) {
            let limit = args.timeout.unwrap_or(Wait::KmemOffline.limit());
            return down_cxl(ctx, &name, record, &at(&name), limit);
        }
        // A system-ram entry: its dax devices are found through pmemtab, there is no dm device.
        if let Some(e) = entries
            .iter()
            .find(|e| e.name == name && e.layout() == Layout::SystemRam)
        {
            let limit = args.timeout.unwrap_or(Wait::KmemOffline.limit());
            return down_kmem(ctx, e, &at(&name), limit);
        }
        let dm = match ctl.as_mut() {
            Some(ctl) => assemble::down_dm(ctl, ctx, &name, Deadline::after(total(DM_UNDO, 1))),
            None => Ok(Down::NotActive),
        };
        // A device that cannot be removed is said at once: its link is still taken down.
        let mut failed = None;
        let mut done = false;
        match dm {
            Ok(Down::Removed) => {
                outln!("{shown}: removed");
                done = true;
            }
            Ok(Down::NotActive) => {}
            Err(e) => {
                failed = Some(Error::assemble(at(&name), e));
                done = true;
            }
        }
        // A name no entry can have (the kernel may have said so above) has no link either.
        let link = pmemtab::paths::by_name_link(&ctx.run, &name);
        let unlinked =
            Name::new(&name).map_or(Ok(Unlinked::Absent), |n| links::remove(&ctx.run, &n));
        match unlinked {
            Ok(Unlinked::Removed) => {
                outln!("{shown}: removed {}", link.display());
                done = true;
            }
            Ok(Unlinked::Absent) => {}
            Ok(Unlinked::NotSymlink) => {
                exit::warning(format_args!(
                    "{}: {} is not a symbolic link; left in place",
                    at(&name),
                    link.display()
                ));
                done = true;
            }
            Err(e) => {
                let e = Error::system(at(&name), e);
                // The device's failure too: said first (the link's status, System, is the
                // worse).
                if let Some(first) = failed.take() {
                    first.report();
                }
                failed = Some(e);
                done = true;
            }
        }
        if !done {
            outln!("{shown}: not active");
        }
        failed.map_or(Ok(()), Err)
    })
}

/// Gives a system-ram entry's dax devices back to device_dax, last member first. A device
/// whose memory cannot be offlined is left as it was (all online), and the rest with it.
fn down_kmem(ctx: &Ctx, entry: &Entry, at: &str, limit: std::time::Duration) -> Result<(), Error> {
    let namespaces = super::common::scan(ctx)?;
    let plan = pmemtab::plan::plan(entry, &namespaces)
        .map_err(|r| super::common::refusal(ctx, entry, &r))?;
    let Device::Kmem { devs } = &plan.device else {
        return Err(super::common::unplanned(
            ctx,
            entry,
            "set of dax devices",
            "take offline",
        ));
    };
    let mut released = 0;
    for dev in devs.iter().rev() {
        // The offlining, then device_dax loaded and bound, then its character device.
        let by = Deadline::after(limit.saturating_add(Wait::sum(&[Wait::Modprobe, Wait::Chardev])));
        match kmem::down(ctx, dev, Some(limit), KMEM_BLOCK_FLOOR, by) {
            Ok(kmem::Downed::Released { blocks }) => {
                released += 1;
                outln!(
                    "{}: {} offlined ({blocks} memory blocks) and back in devdax mode as /dev/{}",
                    entry.name,
                    dev.dax,
                    dev.dax
                );
            }
            Ok(kmem::Downed::NotActive) => {}
            Err(f) => return Err(f.at(at)),
        }
    }
    if released == 0 {
        outln!("{}: not active", entry.name);
    }
    // Every member is back in devdax mode: no node of this entry is memory any more.
    if let Err(e) = crate::publish::kmem_nodes(&ctx.run, &entry.name, None) {
        exit::warning(format_args!(
            "{at}: removing {} failed: {e}",
            pmemtab::paths::kmem_env(&ctx.run, &entry.name).display()
        ));
    }
    Ok(())
}

/// Tears down the CXL region `up` made for `name` (its record says which), unless its pmem
/// is in use or the region is no longer the one recorded; a region pmemtab did not make
/// (firmware's, or made by hand) is left alone.
fn down_cxl(
    ctx: &Ctx,
    name: &str,
    record: std::io::Result<Option<crate::cxl::Record>>,
    at: &str,
    limit: std::time::Duration,
) -> Result<(), Error> {
    let shown = escape_control(name);
    let record = match record {
        Ok(Some(r)) => r,
        Ok(None) => {
            outln!("{shown}: no region made by pmemtab in this boot (a region the firmware or someone else made is left alone)");
            return Ok(());
        }
        Err(e) => {
            return Err(Error::system(
                at,
                format_args!(
                    "reading {}: {e}",
                    crate::cxl::record_path(&ctx.run, name).display()
                ),
            ))
        }
    };
    let bus = pmemtab::cxl::scan::scan(&ctx.sysfs).map_err(|e| Error::system(at, e))?;
    let forget = || {
        if let Err(e) = crate::cxl::forget(&ctx.run, name) {
            exit::warning(format_args!(
                "{at}: removing {} failed: {e}",
                crate::cxl::record_path(&ctx.run, name).display()
            ));
        }
    };
    let Some(region) = bus.region(&record.region) else {
        forget();
        outln!("{shown}: not active ({} is gone)", record.region);
        return Ok(());
    };
    let serials: Vec<Option<u64>> = region
        .targets
        .iter()
        .map(|t| t.as_deref().and_then(|t| bus.owner_of(t)).map(|m| m.serial))
        .collect();
    let list = |s: &[u64]| {
        s.iter()
            .map(|s| format!("{s:#x}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    if serials
        .iter()
        .copied()
        .ne(record.serials.iter().map(|&s| Some(s)))
    {
        return Err(Error::refused(
            at,
            format!(
                "{} is no longer the region pmemtab made over serial {}; left alone",
                record.region,
                list(&record.serials)
            ),
        ));
    }
    // A ram region's memory first: offlined (the kernel moves what is in use) and its dax
    // device given back to device_dax; memory that cannot be offlined keeps the region.
    if region.mode == Some(pmemtab::cxl::model::Mode::Ram) {
        if let Some(dev) = crate::cxl::dax_of(ctx, &record.region) {
            let by =
                Deadline::after(limit.saturating_add(Wait::sum(&[Wait::Modprobe, Wait::Chardev])));
            match kmem::down(ctx, &dev, Some(limit), KMEM_BLOCK_FLOOR, by) {
                Ok(kmem::Downed::Released { blocks }) => {
                    outln!("{shown}: {} offlined ({blocks} memory blocks)", dev.dax)
                }
                Ok(kmem::Downed::NotActive) => {}
                // Never torn down under online memory: the kernel oopses at the next fork.
                Err(f) => {
                    return Err(f
                        .and(&format!(
                            "; {} is left as it is, not torn down",
                            record.region
                        ))
                        .at(at))
                }
            }
        }
        if let Err(e) = crate::publish::kmem_nodes(&ctx.run, name, None) {
            exit::warning(format_args!(
                "{at}: removing {} failed: {e}",
                pmemtab::paths::kmem_env(&ctx.run, name).display()
            ));
        }
    }
    if let Some(why) = crate::cxl::in_use(ctx, region) {
        return Err(Error::system(
            at,
            format_args!(
                "{} is in use ({why}); left in place: take down what uses it first",
                record.region
            ),
        ));
    }
    crate::cxl::destroy(ctx, &bus, &record.region).map_err(|f| f.at(at))?;
    forget();
    outln!(
        "{shown}: tore down {} over serial {}",
        record.region,
        list(&record.serials)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::common::tests::{ctx, entry};
    use crate::exit::Exit;

    // `down` takes this way only for system-ram lines, which are planned as dax devices;
    // another plan is said, never a silent 1.
    #[test]
    fn a_system_ram_entry_planned_otherwise_is_said() {
        let linear = entry("fast", Layout::Linear, "alpha");
        let e = down_kmem(
            &ctx(),
            &linear,
            "pmemtab:2: fast",
            Wait::KmemOffline.limit(),
        )
        .unwrap_err();
        assert_eq!(e.exit(), Exit::Refused);
        assert_eq!(
            e.to_string(),
            "pmemtab:2: fast: the linear entry is planned as no set of dax devices, so there is nothing to take offline; this is a bug in pmem-assemble: please report it with the output of `pmem-assemble check fast`"
        );
    }
}
