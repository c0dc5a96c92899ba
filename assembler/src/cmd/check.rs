//! `check` (being written).

use crate::exit::Exit;
use crate::Ctx;
use argh::FromArgs;

/// check
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "check")]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    Exit::Ok
}
