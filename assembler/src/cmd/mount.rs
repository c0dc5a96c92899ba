//! `mount`: mount an entry at its mount point with DAX, then verify DAX is really on.

use super::common::{initrd_entries, load_one, load_tab, single_device};
use crate::ctx::Ctx;
use crate::exit::{self, Exit};
use crate::mount::{mount_dax, under_root, Mounted};
use crate::wait::Deadline;
use crate::{assemble, lock, nodes};
use argh::FromArgs;
use pmemtab::timeouts::{LOCK_MARGIN, OPEN_CONTROL_LIMIT, UDEV_GRACE};
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

pub fn run(ctx: &Ctx, args: Args) -> Exit {
    match (&args.name, args.initrd) {
        (Some(name), false) => match load_one(ctx, name) {
            Ok(entry) => mount_one(ctx, &entry, args.root.as_deref()),
            Err(e) => e,
        },
        (None, true) => {
            let parsed = match load_tab(ctx, &[]) {
                Ok(p) => p,
                Err(e) => return e,
            };
            let mut worst = Exit::Ok;
            for (entry, _) in initrd_entries(ctx, &parsed.entries) {
                // `/` is the root the initramfs mounted itself from root=.
                if !entry.mount_point().is_some_and(|mp| !mp.is_root()) {
                    continue;
                }
                worst = worst.max(mount_one(ctx, entry, args.root.as_deref()));
            }
            worst
        }
        _ => {
            exit::error("mount: name one entry, or use --initrd (not both)");
            Exit::Usage
        }
    }
}

fn mount_one(ctx: &Ctx, entry: &pmemtab::tab::Entry, root: Option<&std::path::Path>) -> Exit {
    let at = ctx.at(entry.line, &entry.name);
    // Only an entry with a filesystem type holds a mount point.
    let Some((mount_point, fstype)) = entry.fs().and_then(|f| Some((f.mount.as_ref()?, f.fstype)))
    else {
        exit::error(format_args!(
            "{at}: no mount point or filesystem type in pmemtab; fill in both columns to mount it"
        ));
        return Exit::Refused;
    };
    let what = format!("mount {}", entry.name);
    let _held = match lock::acquire(&ctx.run, &entry.name, &what, Deadline::after(LOCK_MARGIN)) {
        Ok(l) => l,
        Err(e) => {
            exit::error(format_args!("{at}: {e}"));
            return Exit::System;
        }
    };
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
                    Deadline::after(UDEV_GRACE),
                ) {
                    Ok(p) => (p, info.devnum),
                    Err(e) => {
                        exit::error(format_args!(
                            "{at}: cannot create {}: {e}",
                            nodes::mapper_path(&ctx.dev, &entry.name).display()
                        ));
                        return Exit::System;
                    }
                }
            }
            Ok(_) => {
                exit::error(format_args!(
                    "{at}: the device is not active; run `pmem-assemble up {}` first",
                    entry.name
                ));
                return Exit::System;
            }
            Err(e) => {
                exit::error(format_args!("{at}: {e}"));
                return Exit::System;
            }
        }
    } else {
        match single_device(ctx, entry) {
            Ok((blockdev, devnum)) => (ctx.dev.join(blockdev), devnum),
            Err(e) => return e,
        }
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
            Exit::Ok
        }
        Ok(Mounted::Already) => {
            outln!(
                "{}: already mounted on {} with DAX",
                entry.name,
                target.display()
            );
            Exit::Ok
        }
        Err(e) => {
            exit::error(format_args!("{at}: {e}"));
            Exit::System
        }
    }
}
