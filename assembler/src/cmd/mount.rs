//! `mount`: mount an entry at its mount point with DAX, then verify DAX is really on.

use super::common::{initrd_entries, load_one, load_tab, single_device};
use crate::ctx::Ctx;
use crate::error::{self, Error};
use crate::mount::{mount_dax, under_root, Mounted};
use crate::wait::Deadline;
use crate::{assemble, lock, nodes};
use argh::FromArgs;
use pmemtab::timeouts::{Wait, OPEN_CONTROL_LIMIT};
use std::path::PathBuf;

/// Mount an entry's device at its mount point with DAX and verify that DAX is on.
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "mount")]
pub struct Args {
    /// prefix for the mount point (e.g. /sysroot in the initrd)
    #[argh(option)]
    pub root: Option<PathBuf>,
    /// every entry the initrd sets up that has a mount point other than / (after the root is
    /// mounted, as initramfs-tools' local-bottom runs)
    #[argh(switch)]
    pub initrd: bool,
    /// entry name
    #[argh(positional)]
    pub name: Option<String>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    match (&args.name, args.initrd) {
        (Some(name), false) => mount_one(ctx, &load_one(ctx, name)?, args.root.as_deref()),
        (None, true) => {
            let parsed = load_tab(ctx, &[])?;
            // `/` is the root the initramfs mounted itself from root=.
            let mounted = initrd_entries(ctx, &parsed.entries)
                .into_iter()
                .map(|(entry, _)| entry)
                .filter(|e| e.mount_point().is_some_and(|mp| !mp.is_root()));
            // Each entry's failure is said as it happens, and the next is mounted.
            error::each(mounted, |entry| mount_one(ctx, entry, args.root.as_deref()))
        }
        _ => Err(Error::Usage(
            "mount: name one entry, or use --initrd (not both)",
        )),
    }
}

fn mount_one(
    ctx: &Ctx,
    entry: &pmemtab::tab::Entry,
    root: Option<&std::path::Path>,
) -> Result<(), Error> {
    let at = ctx.at(entry.line, &entry.name);
    // Only an entry with a filesystem type holds a mount point.
    let Some((mount_point, fstype)) = entry.fs().and_then(|f| Some((f.mount.as_ref()?, f.fstype)))
    else {
        return Err(Error::refused(
            at,
            "no mount point or filesystem type in pmemtab; fill in both columns to mount it",
        ));
    };
    let what = format!("mount {}", entry.name);
    let _held = lock::acquire(
        &ctx.run,
        &entry.name,
        &what,
        Deadline::after(Wait::Lock.limit()),
    )
    .map_err(|e| Error::system(&at, e))?;
    // The device: /dev/mapper/<name> for dm layouts (must be up), the namespace's own for single.
    let (source, devnum) = if entry.layout().is_dm() {
        let info = assemble::open_control(ctx, Deadline::after(OPEN_CONTROL_LIMIT))
            .and_then(|mut ctl| Ok(ctl.info(&entry.name)?));
        match info {
            Ok(Some(info)) if info.active => {
                match nodes::ensure_mapper_node(
                    &ctx.dev,
                    &ctx.sysfs,
                    &entry.name,
                    info.devnum,
                    nodes::udev_running(&ctx.run),
                    Deadline::after(Wait::UdevGrace.limit()),
                ) {
                    Ok(p) => (p, info.devnum),
                    Err(e) => {
                        return Err(Error::system(
                            at,
                            format_args!(
                                "cannot create {}: {e}",
                                nodes::mapper_path(&ctx.dev, &entry.name).display()
                            ),
                        ))
                    }
                }
            }
            Ok(_) => {
                return Err(Error::system(
                    at,
                    format_args!(
                        "the device is not active; run `pmem-assemble up {}` first",
                        entry.name
                    ),
                ))
            }
            Err(e) => return Err(Error::assemble(at, e)),
        }
    } else {
        let (blockdev, devnum) = single_device(ctx, entry, "mount")?;
        (ctx.dev.join(blockdev), devnum)
    };
    let target = under_root(root, mount_point);
    match mount_dax(
        &source,
        devnum,
        &target,
        fstype.as_str(),
        &entry.mount_options(),
        &ctx.proc,
    ) {
        Ok(Mounted::New) => {
            outln!(
                "{}: mounted {} on {} ({fstype}, DAX verified)",
                entry.name,
                source.display(),
                target.display()
            );
            Ok(())
        }
        Ok(Mounted::Already) => {
            outln!(
                "{}: already mounted on {} with DAX",
                entry.name,
                target.display()
            );
            Ok(())
        }
        Err(e) => Err(Error::system(at, e)),
    }
}
