//! `verify-dax`: the check `mount` makes after mounting, for a mount someone else made
//! (systemd's mount unit, at boot): the entry's device is mounted on its mount point, and
//! with DAX as its options ask. Changes nothing; the generator's
//! `pmem-assemble-dax@NAME.service` runs it after every start of the mount unit.

use super::common::{load_one, single_device};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::mount::{under_root, verify, DaxWant};
use crate::nodes;
use argh::FromArgs;
use std::path::PathBuf;

/// Check that an entry's filesystem is mounted with DAX, as `mount` checks after mounting;
/// changes nothing (the boot runs it after the mount unit).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "verify-dax")]
pub struct Args {
    /// prefix for the mount point (e.g. /sysroot in the initrd)
    #[argh(option)]
    pub root: Option<PathBuf>,
    /// entry name
    #[argh(positional)]
    pub name: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    let entry = &load_one(ctx, &args.name)?;
    let at = ctx.at(entry.line, &entry.name);
    let Some(mount_point) = entry.mount_point() else {
        return Err(Error::refused(
            at,
            "no mount point in pmemtab, so nothing to verify",
        ));
    };
    let want = entry.dax_want();
    // The device the entry mounts: its dm device, or a single entry's namespace.
    let devnum = if entry.layout().is_dm() {
        match nodes::dm_devnum_by_name(&ctx.sysfs, &entry.name) {
            Ok(Some(d)) => d,
            Ok(None) => {
                return Err(Error::system(
                    at,
                    format_args!(
                        "/dev/mapper/{} does not exist; run `pmem-assemble up {}` first",
                        entry.name, entry.name
                    ),
                ))
            }
            Err(e) => {
                return Err(Error::system(
                    at,
                    format_args!("reading {}: {e}", ctx.sysfs.display()),
                ))
            }
        }
    } else {
        single_device(ctx, entry, "verify")?.1
    };
    let target = under_root(args.root.as_deref(), mount_point);
    match verify(devnum, &target, want, &ctx.proc) {
        Ok(Some(m)) => {
            let what = match want {
                DaxWant::Always => "DAX is on",
                DaxWant::Inode => "dax=inode, and DAX is not off",
                DaxWant::Never => "dax=never, so DAX is not checked",
            };
            outln!(
                "{}: {} is mounted on {} ({}): {what}",
                entry.name,
                m.source,
                target.display(),
                m.super_opts.join(",")
            );
            Ok(())
        }
        Ok(None) => Err(Error::system(
            at,
            format_args!(
                "{} is not mounted; start its mount unit or run `pmem-assemble mount {}`",
                target.display(),
                entry.name
            ),
        )),
        Err(e) => Err(Error::system(at, e)),
    }
}
