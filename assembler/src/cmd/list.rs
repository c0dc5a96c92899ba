//! `list` (being written).

use crate::exit::Exit;
use crate::Ctx;
use argh::FromArgs;

/// list
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "list")]
pub struct Args {}

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    Exit::Ok
}
