//! `table` (being written).

use crate::exit::Exit;
use crate::Ctx;
use argh::FromArgs;

/// table
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "table")]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    Exit::Ok
}
