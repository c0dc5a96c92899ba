//! `status`: what is active, its table, whether it does DAX, as a tree.

use crate::exit::{self, Exit};
use crate::Ctx;
use argh::FromArgs;

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

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    exit::error("status: not implemented yet");
    Exit::System
}
