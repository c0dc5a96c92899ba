//! `down`: remove devices this tool created, and only those.

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

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    exit::error("down: not implemented yet");
    Exit::System
}
