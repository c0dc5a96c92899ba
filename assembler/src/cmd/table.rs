//! `table`: the planned device-mapper table, exactly as `dmsetup table NAME` prints it.

use super::common;
use crate::ctx::Ctx;
use crate::error::Error;
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

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    let plan = common::plan_one(ctx, &args.name)?;
    let at = ctx.at(plan.line, &plan.name);
    match &plan.device {
        Device::Dm { targets, .. } => {
            out!("{}", pmemtab::dmtable::print(targets));
            Ok(())
        }
        Device::Single { blockdev, .. } => Err(Error::refused(
            at,
            format!("a single entry has no device-mapper table; it uses /dev/{blockdev} directly"),
        )),
        Device::Kmem { .. } => Err(Error::refused(
            at,
            "a system-ram entry has no device-mapper table; its dax devices become memory",
        )),
    }
}
