//! `mount`: mount an entry at its mount point with DAX, then verify DAX is really on.

use crate::exit::{self, Exit};
use crate::Ctx;
use argh::FromArgs;
use std::path::PathBuf;

/// Mount an entry's device at its mount point with DAX and verify that DAX is on.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "mount")]
pub struct Args {
    /// prefix for the mount point (e.g. /sysroot in the initrd)
    #[argh(option)]
    pub root: Option<PathBuf>,
    /// entry name
    #[argh(positional)]
    pub name: String,
}

pub fn run(_ctx: &Ctx, _args: Args) -> Exit {
    exit::error("mount: not implemented yet");
    Exit::System
}
