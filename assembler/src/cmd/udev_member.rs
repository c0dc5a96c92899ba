//! `udev-member`: for 09-pmemtab.rules, says whether a pmem block device is a member of a
//! linear or striped entry. Such a member holds, at its start, the start of the entry's
//! filesystem (its superblock is in the first chunk), so blkid would give it that
//! filesystem's `/dev/disk/by-uuid/` link, and `root=UUID=` could mount the member instead of
//! the device. The rule turns blkid off for members. Fast and silent: no wait for the nd
//! buses, no diagnostics (udev runs it for every pmem event). With pmemtab disabled on the
//! kernel command line (`pmemtab=0`, `rd.pmemtab=0` in the initrd) nothing is a member: the
//! admin is reaching a namespace directly, and blkid must see it.

use crate::ctx::Ctx;
use crate::error::Error;
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

/// Whether the root filesystem is in RAM (ramfs or tmpfs): an initramfs-tools initrd, which
/// writes no /etc/initrd-release.
fn root_in_memory() -> bool {
    // linux/magic.h: RAMFS_MAGIC (nix has no name for it) and TMPFS_MAGIC.
    const RAMFS: u64 = 0x8584_58f6;
    const TMPFS: u64 = 0x0102_1994;
    nix::sys::statfs::statfs("/").is_ok_and(|s| {
        // The word's type differs between libcs; the magic is 32 bits.
        let magic = s.filesystem_type().0 as u64 & 0xffff_ffff;
        magic == RAMFS || magic == TMPFS
    })
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    let in_initrd = pmemtab::cmdline::in_initrd(
        std::env::var_os("SYSTEMD_IN_INITRD").as_deref(),
        std::path::Path::new("/"),
        root_in_memory,
    )
    .unwrap_or(false);
    // Read quietly: a command line that cannot be read disables nothing.
    let cmdline = std::fs::read(ctx.proc.join("cmdline")).unwrap_or_default();
    if pmemtab::cmdline::parse(&cmdline, in_initrd).enabled == Some(false) {
        return Ok(());
    }
    let (Ok(parsed), Ok(namespaces)) = (
        super::common::load(&ctx.pmemtab),
        pmemtab::ns::scan(&ctx.sysfs),
    ) else {
        return Ok(());
    };
    if let Some(e) = pmemtab::plan::dm_member_of(&parsed.entries, &namespaces, &args.name) {
        outln!("PMEMTAB_MEMBER={}", e.name);
    }
    Ok(())
}
