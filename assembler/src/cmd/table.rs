//! `table`: the planned device-mapper table, exactly as `dmsetup table NAME` prints it.

use super::common;
use crate::ctx::Ctx;
use crate::exit::{self, Exit};
use argh::FromArgs;
use pmemtab::plan::Device;

/// Print the table that `up` would load for an entry, in the format of `dmsetup table`.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "table")]
pub struct Args {
    /// entry name
    #[argh(positional)]
    pub name: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Exit {
    let plan = match common::plan_one(ctx, &args.name) {
        Ok(p) => p,
        Err(e) => return e,
    };
    match &plan.device {
        Device::Dm { targets, .. } => {
            out!("{}", pmemtab::dmtable::print(targets));
            Exit::Ok
        }
        Device::Single { blockdev, .. } => {
            exit::error(format_args!(
                "{}: a single entry has no device-mapper table; it uses /dev/{blockdev} directly",
                ctx.at(plan.line, &plan.name)
            ));
            Exit::Refused
        }
        Device::Kmem { .. } => {
            exit::error(format_args!(
                "{}: a system-ram entry has no device-mapper table; its dax devices become memory",
                ctx.at(plan.line, &plan.name)
            ));
            Exit::Refused
        }
    }
}
