//! `udev-member`: for 09-pmemtab.rules, says whether a pmem block device is a member of a
//! linear or striped entry. Such a member holds, at its start, the start of the entry's
//! filesystem (its superblock is in the first chunk), so blkid would give it that
//! filesystem's `/dev/disk/by-uuid/` link, and `root=UUID=` could mount the member instead of
//! the device. The rule turns blkid off for members. Fast and silent: no wait for the nd
//! buses, no diagnostics (udev runs it for every pmem event).

use crate::ctx::Ctx;
use crate::exit::Exit;
use argh::FromArgs;

/// for udev: print PMEMTAB_MEMBER=ENTRY when the block device is a member of a linear or
/// striped entry
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "udev-member")]
pub struct Args {
    /// the block device's kernel name, as udev's %k (pmem1, pmem0.1s)
    #[argh(positional)]
    pub name: String,
}

pub fn run(ctx: &Ctx, args: Args) -> Exit {
    let (Ok(parsed), Ok(namespaces)) = (
        pmemtab::tab::load(&ctx.pmemtab),
        pmemtab::ns::scan(&ctx.sysfs),
    ) else {
        return Exit::Ok;
    };
    if let Some(e) = pmemtab::plan::dm_member_of(&parsed.entries, &namespaces, &args.name) {
        outln!("PMEMTAB_MEMBER={}", e.name);
    }
    Exit::Ok
}
