//! `up`: resolve, plan and create the devices. (Implemented with the dm layer, issue #3.)

use crate::exit::{self, Exit};
use crate::Ctx;
use argh::FromArgs;

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

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    exit::error("up: not implemented yet");
    Exit::System
}
