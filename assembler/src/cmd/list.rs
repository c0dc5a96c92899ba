//! `list`: every enabled namespace with the identity pmemtab can name it by, and the disabled
//! ones (marked so: they match nothing until enabled again). Idle seeds are not shown.

use super::common;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::json::Json;
use argh::FromArgs;
use pmemtab::ns::Namespace;
use pmemtab::size::human_bytes;

/// List the pmem namespaces with the names pmemtab can use for them (uuid, raw_uuid, name,
/// address), their block device, size and DAX capability, and the pmemtab entry using each;
/// disabled namespaces are marked, and match no entry until enabled.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "list")]
pub struct Args {
    /// print JSON (field names as in `ndctl list`, or `cxl list` with --cxl)
    #[argh(switch)]
    pub json: bool,
    /// list the CXL memory devices instead: serial, host, capacity, regions and positions
    #[argh(switch)]
    pub cxl: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    if args.cxl {
        return run_cxl(ctx, args.json);
    }
    let namespaces = common::scan(ctx)?;
    // Enabled namespaces, and disabled ones (which have a size, unlike idle seeds).
    let active: Vec<&Namespace> = namespaces
        .iter()
        .filter(|ns| ns.active || is_disabled(ns))
        .collect();
    // Which entry uses which namespace, when pmemtab is readable (list works without it).
    let users = entry_users(ctx, &namespaces);
    let user_of = |ns: &Namespace| {
        users
            .iter()
            .find(|(dev, _)| *dev == ns.dev)
            .map(|(_, e)| e.clone())
    };
    if args.json {
        let items = active.iter().map(|ns| to_json(ns, user_of(ns))).collect();
        out!("{}", Json::Arr(items).pretty());
        return Ok(());
    }
    if active.is_empty() {
        outln!(
            "no pmem namespaces under {}",
            pmemtab::text::escape_path(&ctx.sysfs)
        );
        return Ok(());
    }
    let rows: Vec<[String; 10]> = active
        .iter()
        .map(|ns| {
            [
                ns.dev.clone(),
                if is_disabled(ns) {
                    "disabled".to_string()
                } else {
                    ns.mode.to_string() + if ns.legacy { " (legacy)" } else { "" }
                },
                ns.blockdev
                    .clone()
                    .or_else(|| ns.chardev.clone())
                    .unwrap_or_else(|| "-".into()),
                human_bytes(ns.size),
                if is_disabled(ns) {
                    "-"
                } else if ns.dax {
                    "yes"
                } else {
                    "no"
                }
                .into(),
                ns.numa_node.map_or("-".into(), |n| n.to_string()),
                ns.target_node.map_or("-".into(), |n| n.to_string()),
                identity(ns),
                ns.name.clone().unwrap_or_else(|| "-".into()),
                user_of(ns).unwrap_or_else(|| "-".into()),
            ]
        })
        // Shown as check shows names (sysfs holds what a person set: a TAB, an escape
        // sequence, a newline), so a cell can neither break the table nor drive the terminal.
        .map(|row| row.map(|cell| pmemtab::text::escape_control(&cell)))
        .collect();
    let header = [
        "NAMESPACE",
        "MODE",
        "DEVICE",
        "SIZE",
        "DAX",
        "NUMA",
        "TARGET",
        "PMEMTAB MEMBER",
        "NAME",
        "ENTRY",
    ];
    table(&header, &rows);
    Ok(())
}

/// Prints rows under a header, columns as wide as their widest cell, the last one unpadded.
fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        outln!("{}", s.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// `list --cxl`: every CXL memory device by serial (what pmemtab's `serial=` names), with
/// its regions and its position in each, and the entry naming it.
fn run_cxl(ctx: &Ctx, json: bool) -> Result<(), Error> {
    let bus = pmemtab::cxl::scan::scan(&ctx.sysfs).map_err(Error::Cxl)?;
    let entries = super::common::load(&ctx.pmemtab)
        .map(|p| p.entries)
        .unwrap_or_default();
    let entry_of = |serial: u64| {
        entries
            .iter()
            .find(|e| e.members().contains(&pmemtab::tab::Member::Serial(serial)))
            .map(|e| e.name.to_string())
    };
    // (decoder, region, position) of every decoder in a region.
    let position = |decoder: &str| {
        bus.regions.iter().find_map(|r| {
            let i = r
                .targets
                .iter()
                .position(|t| t.as_deref() == Some(decoder))?;
            Some((r, i))
        })
    };
    if json {
        let items = bus
            .memdevs
            .iter()
            .map(|m| {
                let decoders = m
                    .decoders
                    .iter()
                    .filter(|d| d.dpa_size > 0 || position(&d.name).is_some())
                    .map(|d| {
                        let at = position(&d.name);
                        Json::obj()
                            .with("decoder", Json::from(d.name.as_str()))
                            .with("mode", Json::from(d.mode.as_str()))
                            .with("dpa_size", Json::from(d.dpa_size))
                            .with(
                                "dpa_resource",
                                d.dpa_resource.map(|r| Json::from(format!("{r:#x}"))),
                            )
                            .with("region", at.map(|(r, _)| Json::from(r.name.as_str())))
                            .with("position", at.map(|(_, i)| Json::from(i as u64)))
                            .with("locked", Json::from(d.locked))
                    })
                    .collect();
                Json::obj()
                    .with("memdev", Json::from(m.name.as_str()))
                    .with("serial", Json::from(m.serial))
                    .with("host", m.host.as_deref().map(Json::from))
                    .with("ram_size", Json::from(m.ram_bytes))
                    .with("pmem_size", Json::from(m.pmem_bytes))
                    .with("numa_node", m.numa_node.map(Json::from))
                    .with("endpoint", m.endpoint.as_deref().map(Json::from))
                    .with("decoders", Json::Arr(decoders))
                    .with("entry", entry_of(m.serial).map(Json::from))
            })
            .collect();
        out!("{}", Json::Arr(items).pretty());
        return Ok(());
    }
    if bus.memdevs.is_empty() {
        outln!(
            "no CXL memory devices under {}",
            pmemtab::text::escape_path(&ctx.sysfs)
        );
        return Ok(());
    }
    let rows: Vec<[String; 8]> = bus
        .memdevs
        .iter()
        .map(|m| {
            let regions: Vec<String> = m
                .decoders
                .iter()
                .filter_map(|d| {
                    let (r, i) = position(&d.name)?;
                    let mode = r.mode.as_ref().map_or("?", |x| x.as_str());
                    Some(format!("{} ({mode}, position {i})", r.name))
                })
                .collect();
            [
                m.name.clone(),
                format!("serial={:#x}", m.serial),
                m.host.clone().unwrap_or_else(|| "-".into()),
                human_bytes(m.ram_bytes),
                human_bytes(m.pmem_bytes),
                m.numa_node.map_or("-".into(), |n| n.to_string()),
                if regions.is_empty() {
                    "-".into()
                } else {
                    regions.join(", ")
                },
                entry_of(m.serial).unwrap_or_else(|| "-".into()),
            ]
            .map(|cell| pmemtab::text::escape_control(&cell))
        })
        .collect();
    table(
        &[
            "MEMDEV",
            "PMEMTAB MEMBER",
            "HOST",
            "RAM",
            "PMEM",
            "NUMA",
            "REGIONS",
            "ENTRY",
        ],
        &rows,
    );
    Ok(())
}

/// Disabled (`ndctl disable-namespace`): no driver, but a size, unlike an idle seed.
fn is_disabled(ns: &Namespace) -> bool {
    !ns.active && ns.size > 0
}

/// The member text to put in pmemtab for this namespace: its ndctl uuid, or its address when
/// it has none (legacy memmap= pmem).
fn identity(ns: &Namespace) -> String {
    match (ns.uuid, ns.resource) {
        (Some(u), _) => format!("uuid={u}"),
        (None, Some(addr)) => format!("addr={addr:#x}"),
        (None, None) => "-".into(),
    }
}

/// (namespace dev, "entry (line N)") for every namespace a valid pmemtab entry resolves to.
fn entry_users(ctx: &Ctx, namespaces: &[Namespace]) -> Vec<(String, String)> {
    let Ok(parsed) = super::common::load(&ctx.pmemtab) else {
        return Vec::new();
    };
    let mut users = Vec::new();
    for entry in &parsed.entries {
        for member in entry.members() {
            if let Ok(ns) = pmemtab::plan::resolve(member, namespaces) {
                users.push((ns.dev.clone(), entry.name.to_string()));
            }
        }
    }
    users
}

fn to_json(ns: &Namespace, entry: Option<String>) -> Json {
    Json::obj()
        .with("dev", Json::from(ns.dev.as_str()))
        .with("region", Json::from(ns.region.as_str()))
        .with("provider", ns.provider.as_deref().map(Json::from))
        .with("mode", Json::from(ns.mode.as_str()))
        .with("state", is_disabled(ns).then(|| Json::from("disabled")))
        .with("legacy", Json::from(ns.legacy))
        .with("size", Json::from(ns.size))
        .with("uuid", ns.uuid.map(|u| Json::from(u.to_string())))
        .with("raw_uuid", ns.raw_uuid.map(|u| Json::from(u.to_string())))
        .with("name", ns.name.as_deref().map(Json::from))
        .with("blockdev", ns.blockdev.as_deref().map(Json::from))
        .with("chardev", ns.chardev.as_deref().map(Json::from))
        .with("maj_min", ns.devnum.map(|d| Json::from(d.to_string())))
        .with(
            "resource",
            ns.resource.map(|r| Json::from(format!("{r:#x}"))),
        )
        .with(
            "data_start",
            ns.data_start.map(|r| Json::from(format!("{r:#x}"))),
        )
        .with("dax", Json::from(ns.dax))
        .with("align", ns.align.map(Json::from))
        .with("sector_size", ns.sector_size.map(Json::from))
        .with("numa_node", ns.numa_node.map(Json::from))
        .with("target_node", ns.target_node.map(Json::from))
        .with("entry", entry.map(Json::from))
}
