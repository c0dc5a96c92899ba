//! `down`: remove devices this tool created, and only those.

use crate::apply::{self, Down};
use crate::exit::{self, Exit};
use crate::Ctx;
use argh::FromArgs;

/// Remove the devices of the named entries (or every device pmemtab created); a device in use
/// is retried for a bounded time, then left in place with an error naming its holder.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "down")]
pub struct Args {
    /// every device whose dm uuid carries the pmemtab prefix
    #[argh(switch)]
    pub all: bool,
    /// entry names
    #[argh(positional)]
    pub names: Vec<String>,
}

/// Works from what the kernel holds, not from pmemtab: an entry deleted from the file can
/// still be taken down, and only devices with the pmemtab dm uuid prefix are touched.
pub fn run(ctx: &Ctx, args: Args) -> Exit {
    if args.all != args.names.is_empty() {
        exit::error("down: name the devices to remove, or use --all (not both)");
        return Exit::Usage;
    }
    let roots = apply::Roots::of(ctx);
    let mut ctl = match apply::open_control(&roots) {
        Ok(c) => c,
        Err(e) => {
            exit::error(format_args!("down: {e}"));
            return Exit::System;
        }
    };
    let names = if args.all {
        match apply::ours(&mut ctl) {
            Ok(infos) => infos.into_iter().map(|i| i.name).collect(),
            Err(e) => {
                exit::error(format_args!("down: {e}"));
                return Exit::System;
            }
        }
    } else {
        args.names
    };
    // Messages name the pmemtab line when the device is (still) declared there.
    let entries = pmemtab::tab::load(&ctx.pmemtab).map(|p| p.entries).unwrap_or_default();
    let at = |name: &str| match entries.iter().find(|e| e.name == name) {
        Some(e) => format!("{}:{}: {name}", ctx.pmemtab.display(), e.line),
        None => name.to_string(),
    };
    let mut worst = Exit::Ok;
    for name in names {
        match apply::down_dm(&mut ctl, &roots, &name, apply::BUSY_TIMEOUT) {
            Ok(Down::Removed) => println!("{name}: removed"),
            Ok(Down::NotActive) => println!("{name}: not active"),
            Err(e) => {
                exit::error(format_args!("{}: {e}", at(&name)));
                let code = if matches!(e, apply::ApplyError::Foreign { .. }) { Exit::Config } else { Exit::System };
                worst = worst.max(code);
            }
        }
    }
    worst
}
