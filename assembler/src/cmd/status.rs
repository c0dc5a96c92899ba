//! `status`: what is active, its table, whether it does DAX, as a tree.

use super::common::scan;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::show::{self, DevStatus, MemMember, MemStatus, MemberStatus, RegionStatus};
use crate::{assemble, kmem, mount, nodes};
use argh::FromArgs;
use pmemtab::devnum::DevNum;
use pmemtab::ns::Namespace;
use pmemtab::plan::{plan, Device};
use pmemtab::tab::Layout;

/// Show the active pmemtab devices as a tree (device, then members with uuid and block device),
/// their live table and whether they do DAX.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "status")]
pub struct Args {
    /// machine-readable JSON
    #[argh(switch)]
    pub json: bool,
    /// entry names (default: all)
    #[argh(positional)]
    pub names: Vec<String>,
}

fn member(sysfs: &std::path::Path, namespaces: &[Namespace], d: DevNum) -> MemberStatus {
    let ns = namespaces.iter().find(|n| n.devnum == Some(d));
    MemberStatus {
        devnum: d,
        blockdev: ns
            .and_then(|n| n.blockdev.clone())
            .or_else(|| nodes::kernel_name(sysfs, d)),
        namespace: ns.map(|n| n.dev.clone()),
        uuid: ns.and_then(|n| n.uuid).map(|u| u.to_string()),
        raw_uuid: ns.and_then(|n| n.raw_uuid).map(|u| u.to_string()),
        dax: nodes::queue_dax(sysfs, d).ok(),
        numa_node: ns.and_then(|n| n.numa_node),
        target_node: ns.and_then(|n| n.target_node),
    }
}

/// Read-only: device-mapper is not loaded here (no modprobe), the file may be missing.
pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    let namespaces = scan(ctx).unwrap_or_default();
    let entries = super::common::load(&ctx.pmemtab)
        .map(|p| p.entries)
        .unwrap_or_default();
    let mounts = mount::mountinfo(&ctx.proc).unwrap_or_default();
    let mounted = |d: DevNum| {
        mount::mounts_of(&mounts, d)
            .iter()
            .map(|m| crate::show::MountShown {
                point: m.mount_point.clone(),
                dax: m.dax_mode(),
            })
            .collect::<Vec<_>>()
    };
    let mut devs = Vec::new();
    if nodes::dm_loaded(&ctx.sysfs) {
        let gathered = assemble::open_control(
            ctx,
            crate::wait::Deadline::after(pmemtab::timeouts::OPEN_CONTROL_LIMIT),
        )
        .and_then(|mut ctl| {
            let mut out = Vec::new();
            for info in assemble::ours(&mut ctl)? {
                let live = ctl.table(&info.name)?;
                let devices: Vec<DevNum> = live.iter().flat_map(|t| t.devices()).collect();
                let layout = live
                    .first()
                    .map(|t| t.target_type().to_string())
                    .unwrap_or_else(|| "no table".into());
                out.push(DevStatus {
                    name: info.name.clone(),
                    dm_uuid: Some(info.uuid.clone()),
                    devnum: info.devnum,
                    kernel: nodes::kernel_name(&ctx.sysfs, info.devnum),
                    layout,
                    sectors: live.iter().map(|t| t.length.0).sum(),
                    dax: nodes::queue_dax(&ctx.sysfs, info.devnum).ok(),
                    open_count: Some(info.open_count),
                    suspended: info.suspended,
                    table: pmemtab::dmtable::print(&live),
                    members: devices
                        .into_iter()
                        .map(|d| member(&ctx.sysfs, &namespaces, d))
                        .collect(),
                    mounts: mounted(info.devnum),
                    line: entries
                        .iter()
                        .find(|e| e.name == info.name && e.layout().is_dm())
                        .map(|e| e.line),
                });
            }
            Ok(out)
        });
        match gathered {
            Ok(d) => devs = d,
            Err(e) => return Err(Error::assemble("status", e)),
        }
    }
    // `single` entries have no dm device: show the namespace's own block device if present.
    for e in entries.iter().filter(|e| e.layout() == Layout::Single) {
        if let Ok(Device::Single {
            blockdev,
            devnum,
            size,
        }) = plan(e, &namespaces).map(|p| p.device)
        {
            devs.push(DevStatus {
                name: e.name.to_string(),
                dm_uuid: None,
                devnum,
                kernel: Some(blockdev),
                layout: "single".into(),
                sectors: size.0,
                dax: nodes::queue_dax(&ctx.sysfs, devnum).ok(),
                open_count: None,
                suspended: false,
                table: String::new(),
                members: vec![member(&ctx.sysfs, &namespaces, devnum)],
                mounts: mounted(devnum),
                line: Some(e.line),
            });
        }
    }
    // system-ram entries: shown when any member is in system-ram mode.
    let mut mems = Vec::new();
    for e in entries.iter().filter(|e| e.layout() == Layout::SystemRam) {
        let Ok(p) = plan(e, &namespaces) else {
            continue;
        };
        let Device::Kmem { devs: kdevs } = &p.device else {
            continue;
        };
        let members: Vec<MemMember> = kdevs
            .iter()
            .zip(&p.members)
            .filter_map(|(d, r)| {
                let live = kmem::live(ctx, d)?;
                Some(MemMember {
                    dax: d.dax.clone(),
                    namespace: r.ns.dev.clone(),
                    uuid: r.ns.uuid.map(|u| u.to_string()),
                    mode: if live.is_system_ram() {
                        "system-ram"
                    } else {
                        "devdax"
                    }
                    .into(),
                    node: live.node,
                    numa_node: r.ns.numa_node,
                    nearest: kmem::nearest_cpu_nodes(&ctx.sysfs, live.node),
                    blocks: live.blocks,
                    online: live.online,
                    block_size: live.block_size,
                    zone: live.zone.map(|z| z.as_str().to_string()),
                })
            })
            .collect();
        if members.iter().any(|m| m.mode == "system-ram") {
            mems.push(MemStatus {
                name: e.name.to_string(),
                line: e.line,
                members,
            });
        }
    }
    let mut regions = cxl_regions(ctx, &entries);
    let mut inactive = Vec::new();
    if !args.names.is_empty() {
        for n in &args.names {
            if !devs.iter().any(|d| &d.name == n)
                && !mems.iter().any(|m| &m.name == n)
                && !regions.iter().any(|r| &r.name == n)
            {
                inactive.push(n.clone());
            }
        }
        devs.retain(|d| args.names.contains(&d.name));
        mems.retain(|m| args.names.contains(&m.name));
        regions.retain(|r| args.names.contains(&r.name));
    }
    if args.json {
        out!("{}", show::json(&devs, &mems, &regions));
    } else {
        out!("{}", show::tree(&devs, &mems, &regions));
    }
    if inactive.is_empty() {
        Ok(())
    } else {
        Err(Error::NotActive(inactive))
    }
}

/// The region each cxl-pmem line declares, where it exists as declared.
fn cxl_regions(ctx: &Ctx, entries: &[pmemtab::tab::Entry]) -> Vec<RegionStatus> {
    let lines: Vec<&pmemtab::tab::Entry> = entries.iter().filter(|e| e.is_cxl()).collect();
    if lines.is_empty() {
        return Vec::new();
    }
    let Ok(bus) = pmemtab::cxl::scan::scan(&ctx.sysfs) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in lines {
        let Ok(pmemtab::cxl::plan::RegionPlan::Recognised { region, .. }) =
            pmemtab::cxl::plan::plan(e, &bus)
        else {
            continue;
        };
        let Some(r) = bus.region(&region) else {
            continue;
        };
        let made = crate::cxl::load(&ctx.run, &e.name)
            .ok()
            .flatten()
            .is_some_and(|rec| rec.region == region);
        let targets = r
            .targets
            .iter()
            .flatten()
            .filter_map(|t| {
                let m = bus.owner_of(t)?;
                Some((m.serial, m.name.clone(), t.clone()))
            })
            .collect();
        out.push(RegionStatus {
            name: e.name.to_string(),
            line: e.line,
            region,
            mode: r.mode.as_ref().map_or("?", |m| m.as_str()).to_string(),
            size: r.size,
            granularity: r.granularity,
            committed: r.committed,
            bound: r.bound,
            made_by_pmemtab: made,
            targets,
        });
    }
    out
}
