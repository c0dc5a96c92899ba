//! `check`: parse pmemtab, resolve every member and plan every device, without touching
//! anything; say what would be built or exactly what is wrong.

use super::common;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::exit::{self, Exit};
use argh::FromArgs;
use pmemtab::cxl::plan::RegionPlan;
use pmemtab::plan::{Device, Plan};
use pmemtab::size::human_bytes;

/// Validate pmemtab against the namespaces present and show what each entry would build; exit
/// non-zero when any checked entry has an error.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "check")]
pub struct Args {
    /// entries to check (default: all)
    #[argh(positional)]
    pub names: Vec<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    let parsed = common::load_tab(ctx, &args.names)?;
    // Without names every line counts; with names, only the named entries decide the status.
    let mut status = if args.names.is_empty() && parsed.has_errors() {
        Exit::Refused
    } else {
        Exit::Ok
    };
    let selected = common::select(ctx, &parsed.entries, &args.names, false)?;
    let namespaces = common::scan(ctx)?;
    // What the generator refuses or warns about because of the kernel command line (root=
    // naming an entry that cannot be /dev/mapper/NAME; a / entry while root= names another
    // device), so that check and the boot agree.
    let cmdline = common::read_cmdline(ctx, false);
    let boot = pmemtab::cmdline::boot_devices(&parsed.entries, &cmdline);
    let plans = pmemtab::plan::plan_all(&parsed.entries, &namespaces);
    // CXL lines are planned against the CXL bus (read once, only when there are some).
    let bus = if parsed.entries.iter().any(|e| e.is_cxl()) {
        Some(pmemtab::cxl::scan::scan(&ctx.sysfs).map_err(Error::Cxl)?)
    } else {
        None
    };
    // The cxl-pmem lines whose region up would create now.
    let absent_regions: Vec<&str> = match &bus {
        Some(b) => parsed
            .entries
            .iter()
            .filter(|e| e.layout() == pmemtab::tab::Layout::CxlPmem)
            .filter(|e| matches!(pmemtab::cxl::plan::plan(e, b), Ok(RegionPlan::Create(_))))
            .map(|e| e.name.as_str())
            .collect(),
        None => Vec::new(),
    };
    let (mut ok, mut bad) = (0, 0);
    // A set, not a scan of `selected` per entry: that made check quadratic in the lines.
    let selected: std::collections::HashSet<(&str, usize)> =
        selected.iter().map(|e| (e.name.as_str(), e.line)).collect();
    for (entry, result) in parsed.entries.iter().zip(&plans) {
        if !selected.contains(&(entry.name.as_str(), entry.line)) {
            continue;
        }
        let boot_problems: Vec<_> = boot
            .problems
            .iter()
            .filter(|d| d.concerns(&entry.name) && d.line == entry.line)
            .collect();
        let boot_errors = boot_problems.iter().any(|d| d.is_error());
        if let (true, Some(bus)) = (entry.is_cxl(), &bus) {
            match pmemtab::cxl::plan::plan(entry, bus) {
                Ok(p) => {
                    ok += 1;
                    describe_cxl(entry, &p);
                }
                Err(r) => {
                    bad += 1;
                    status = status.max(Exit::Refused);
                    common::refusal(ctx, entry, &r.for_entry(entry)).report();
                }
            }
            continue;
        }
        match result {
            Ok(plan) if !boot_errors => {
                ok += 1;
                describe(ctx, entry, plan);
            }
            Ok(_) => bad += 1,
            Err(refusal) => {
                bad += 1;
                common::refusal(ctx, entry, refusal).report();
                // Its namespaces may be on a CXL region that only up makes.
                if refusal.is_pending() && !absent_regions.is_empty() {
                    exit::warning(format_args!(
                        "{}: the CXL pmem region{} of {} {} not made yet; if this entry's namespaces are on one, `pmem-assemble up` (or the next boot) brings them",
                        ctx.at(entry.line, &entry.name),
                        if absent_regions.len() == 1 { "" } else { "s" },
                        absent_regions.join(", "),
                        if absent_regions.len() == 1 { "is" } else { "are" }
                    ));
                }
            }
        }
        for d in &boot_problems {
            common::print_diagnostic(ctx, d);
        }
        if result.is_err() || boot_errors {
            status = status.max(Exit::Refused);
        }
    }
    // Refused lines the initrd needs: the image builders refuse to build until they are
    // fixed (the rule pmem-assemble initramfs applies, for this command line).
    let cmdlines = [cmdline.clone()];
    for b in pmemtab::initrd::image(&parsed, &cmdlines).broken {
        let name = b.refused.name.as_deref().unwrap_or("");
        if args.names.is_empty() || args.names.iter().any(|n| n == name) {
            Error::refused(
                ctx.at(b.refused.line, name),
                format!(
                    "the initrd needs this line ({}): update-initramfs and dracut refuse to build an image until it is fixed, and keep the one in place",
                    b.why
                ),
            )
            .report();
        }
    }
    let invalid = if args.names.is_empty() {
        parsed.invalid_lines()
    } else {
        0
    };
    let skipped = match invalid {
        0 => String::new(),
        1 => "1 invalid line skipped".into(),
        n => format!("{n} invalid lines skipped"),
    };
    match (ok + bad, invalid) {
        (0, 0) => outln!("no entries in {}", ctx.pmemtab.display()),
        (0, _) => outln!("no valid entry: {skipped}"),
        (_, 0) => outln!("{ok} ok, {bad} refused"),
        _ => outln!("{ok} ok, {bad} refused, {skipped}"),
    }
    // Every refused line is said above, each in its place.
    match status {
        Exit::Ok => Ok(()),
        worst => Err(Error::Said(worst)),
    }
}

fn describe(ctx: &Ctx, entry: &pmemtab::tab::Entry, plan: &Plan) {
    let (path, size) = match &plan.device {
        Device::Dm { size, .. } => (entry.mapper_path(), size.bytes()),
        Device::Single { blockdev, size, .. } => (format!("/dev/{blockdev}"), size.bytes()),
        Device::Kmem { devs } => (
            pmemtab::kmem::nodes_text(devs.iter().map(|d| d.node)),
            devs.iter().map(|d| d.size).sum(),
        ),
    };
    let mount = match (entry.mount_point(), entry.fstype()) {
        (Some(mp), Some(fs)) => format!(", {fs} on {mp} ({})", entry.mount_options().join(",")),
        _ => String::new(),
    };
    outln!(
        "{}: {} {} ({}){mount}",
        entry.name,
        entry.layout(),
        path,
        human_bytes(size)
    );
    for r in &plan.members {
        let dev =
            r.ns.blockdev
                .as_deref()
                .or(r.ns.chardev.as_deref())
                .unwrap_or("-");
        let devnum =
            r.ns.devnum
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into());
        outln!(
            "  {} -> {} ({dev} {devnum}, {}, {})",
            r.member,
            r.ns.dev,
            r.ns.mode,
            human_bytes(r.ns.size)
        );
    }
    for w in &plan.warnings {
        exit::warning(format_args!("{}: {w}", ctx.at(plan.line, &plan.name)));
    }
}

/// What `up` would do for a CXL line.
fn describe_cxl(entry: &pmemtab::tab::Entry, plan: &RegionPlan) {
    match plan {
        RegionPlan::Recognised { region, bind } => outln!(
            "{}: {} {region} exists as declared{}",
            entry.name,
            entry.layout(),
            if *bind {
                " (not bound to cxl_region yet: up binds it)"
            } else {
                ""
            }
        ),
        RegionPlan::Create(c) => {
            outln!(
                "{}: {} would be created under {} ({} region, {}, granularity {})",
                entry.name,
                entry.layout(),
                c.root_decoder,
                c.mode.as_str(),
                human_bytes(c.size),
                c.granularity
            );
            for (i, t) in c.targets.iter().enumerate() {
                outln!(
                    "  serial={:#x} -> {} {} (position {i}, {})",
                    t.serial,
                    t.memdev,
                    t.decoder,
                    human_bytes(t.dpa_size)
                );
            }
        }
    }
}
