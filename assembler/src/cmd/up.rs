//! `up`: wait for the members, plan, and build each entry's device (safe to run again).

use super::common::{load_tab, report_refusal, scan, select};
use crate::apply::{self, Up};
use crate::exit::{self, Exit};
use crate::{mkfs, wait, Ctx};
use argh::FromArgs;
use pmemtab::plan::{plan_all, resolve, Device, Plan, Reason};
use pmemtab::tab::{Entry, Layout};
use std::time::Duration;

/// Create the devices of the named entries (or all auto entries): resolve members, plan, and
/// build the device-mapper device; safe to run again.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "up")]
pub struct Args {
    /// every entry without noauto
    #[argh(switch)]
    pub all: bool,
    /// seconds to wait for members to appear (default: the entry's x-systemd.device-timeout=, else 30)
    #[argh(option)]
    pub timeout: Option<u64>,
    /// entry names
    #[argh(positional)]
    pub names: Vec<String>,
}

const MKFS_TIMEOUT: Duration = Duration::from_secs(600);

pub fn run(ctx: &Ctx, args: Args) -> Exit {
    if !args.all && args.names.is_empty() {
        exit::error("up: name the entries to build, or use --all");
        return Exit::Usage;
    }
    let parsed = match load_tab(ctx) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let chosen = match select(ctx, &parsed.entries, &args.names, args.all) {
        Ok(c) => c,
        Err(e) => return e,
    };
    let roots = apply::Roots::of(ctx);
    let mut worst = Exit::Ok;
    for entry in chosen.into_iter().filter(|e| !args.all || !e.options.noauto) {
        let timeout = args.timeout.map(Duration::from_secs).unwrap_or_else(|| entry.device_timeout());
        let result = wait_for_plan(ctx, &parsed.entries, entry, timeout).and_then(|plan| build(ctx, &roots, entry, &plan));
        if let Err(e) = result {
            worst = worst.max(e);
        }
    }
    worst
}

/// Plans the entry, polling sysfs until its members appear or the timeout passes. The first
/// miss loads the pmem drivers (they may simply not be loaded yet in an initramfs).
fn wait_for_plan(ctx: &Ctx, all: &[Entry], entry: &Entry, timeout: Duration) -> Result<Plan, Exit> {
    let mut modules_loaded = false;
    let mut missing = Vec::new();
    let outcome = wait::poll(timeout, || {
        let namespaces = match scan(ctx) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        // Planned with every entry, so a namespace claimed by an earlier line is refused.
        let index = all.iter().position(|e| e.name == entry.name && e.line == entry.line)?;
        let result = plan_all(all, &namespaces).into_iter().nth(index)?;
        match result {
            Err(r) if matches!(r.reason, Reason::Missing { .. }) => {
                missing = entry.members.iter().filter(|m| resolve(m, &namespaces).is_err_and(|e| matches!(e, Reason::Missing { .. }))).map(ToString::to_string).collect();
                if !modules_loaded {
                    modules_loaded = true;
                    let _ = apply::modprobe("nd_pmem");
                }
                None
            }
            Err(r) => {
                report_refusal(ctx, &r);
                Some(Err(Exit::Config))
            }
            Ok(plan) => Some(Ok(plan)),
        }
    });
    let Some(result) = outcome else {
        let what = if missing.len() == 1 { "member" } else { "members" };
        exit::error(format_args!(
            "{}:{}: {}: {what} {} did not appear within {}s; check that the NVDIMM is present and the namespace enabled (`ndctl list -N`)",
            ctx.pmemtab.display(),
            entry.line,
            entry.name,
            missing.join(", "),
            timeout.as_secs()
        ));
        return Err(Exit::System);
    };
    let plan = result?;
    for w in &plan.warnings {
        exit::warning(format_args!("{}:{}: {}: {w}", ctx.pmemtab.display(), entry.line, entry.name));
    }
    Ok(plan)
}

fn build(ctx: &Ctx, roots: &apply::Roots, entry: &Entry, plan: &Plan) -> Result<(), Exit> {
    let at = format!("{}:{}: {}", ctx.pmemtab.display(), entry.line, entry.name);
    let device = match entry.layout {
        Layout::Single => {
            let Device::Single { blockdev, .. } = &plan.device else {
                return Err(Exit::Config);
            };
            let ns = plan.members.first().map_or("its namespace", |r| r.ns.dev.as_str());
            let path = roots.dev.join(blockdev);
            if !apply::is_block(&path) {
                exit::error(format_args!("{at}: {} of {ns} is missing; is devtmpfs mounted on {}?", path.display(), roots.dev.display()));
                return Err(Exit::System);
            }
            println!("{}: {} ready (single, {ns})", entry.name, path.display());
            path
        }
        _ => {
            let result = apply::open_control(roots).and_then(|mut ctl| apply::up_dm(&mut ctl, roots, plan));
            match result {
                Ok(Up::Created { devnum, node }) => {
                    println!("{}: created {} ({devnum})", entry.name, node.display());
                    node
                }
                Ok(Up::Unchanged { node, .. }) => {
                    println!("{}: already active with the planned table", entry.name);
                    node
                }
                Err(e) => {
                    exit::error(format_args!("{at}: {e}"));
                    if let apply::ApplyError::Differs { live, want, .. } = &e {
                        eprint!("  live table:    {live}  planned table: {want}");
                        return Err(Exit::Config);
                    }
                    return Err(Exit::System);
                }
            }
        }
    };
    if entry.options.mkfs {
        let Some(fstype) = entry.fstype else {
            exit::error(format_args!("{at}: option mkfs needs a filesystem type in the fstype column"));
            return Err(Exit::Config);
        };
        let size = match &plan.device {
            Device::Dm { size, .. } | Device::Single { size, .. } => size.bytes(),
        };
        match mkfs::ensure_fs(&device, fstype, entry.layout, plan.members.len(), size, MKFS_TIMEOUT) {
            Ok(mkfs::Made::Created) => println!("{}: made {fstype} on {}", entry.name, device.display()),
            Ok(mkfs::Made::Existing(sig)) => println!("{}: {} already holds {sig}, mkfs skipped", entry.name, device.display()),
            Err(e) => {
                exit::error(format_args!("{at}: {e}"));
                return Err(Exit::System);
            }
        }
    }
    Ok(())
}
