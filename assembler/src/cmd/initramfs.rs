//! `initramfs`: what an initramfs builder puts in the image for pmemtab, as shell
//! assignments, so that the dracut module and the initramfs-tools hook ask instead of
//! parsing pmemtab themselves (their awk had drifted from the parser: CRLF lines, `/usr/`,
//! fstype `none`, `x-initrd.mount`, system-ram's kmem).

use super::common;
use crate::ctx::Ctx;
use crate::exit::Exit;
use crate::mount;
use argh::FromArgs;
use pmemtab::devnum::DevNum;
use std::path::Path;

/// print what an initramfs needs for pmemtab, as shell assignments
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "initramfs")]
pub struct Args {}

pub fn run(ctx: &Ctx, _args: Args) -> Exit {
    // No pmemtab: nothing but, maybe, a root that pmem-assemble built before.
    let parsed = if ctx.pmemtab.exists() {
        match common::load_tab(ctx, &[]) {
            Ok(p) => p,
            Err(e) => return e,
        }
    } else {
        pmemtab::tab::Parsed::default()
    };
    let cmdline = common::read_cmdline(ctx, false);
    let boot = pmemtab::cmdline::boot_devices(&parsed.entries, &cmdline);
    let needs = pmemtab::initrd::needs(&parsed.entries, &boot);
    let names: Vec<&str> = needs.entries.iter().map(|e| e.name.as_str()).collect();
    // Also the running system's own / or /usr on a device pmem-assemble built, declared or
    // not: an image without us would not find it.
    let root = needs.entries.iter().any(|e| {
        e.mount_point.as_deref().is_some_and(|m| {
            matches!(
                pmemtab::systemd::simplify_path(m).as_deref(),
                Ok("/" | "/usr")
            )
        })
    }) || root_on_pmemtab(ctx);
    let yes = |b: bool| if b { "yes" } else { "no" };
    outln!("PMEMTAB_INITRD={}", yes(!needs.entries.is_empty() || root));
    outln!("PMEMTAB_ROOT={}", yes(root));
    outln!("PMEMTAB_ENTRIES={}", quote(&names.join(" ")));
    outln!("PMEMTAB_MODULES={}", quote(&needs.modules.join(" ")));
    outln!("PMEMTAB_PROGRAMS={}", quote(&needs.programs.join(" ")));
    Exit::Ok
}

/// Whether `/` or `/usr` of this system is mounted from a device-mapper device whose uuid
/// has pmemtab's prefix.
fn root_on_pmemtab(ctx: &Ctx) -> bool {
    let mounts = mount::mountinfo(&ctx.proc).unwrap_or_default();
    mounts
        .iter()
        .filter(|m| m.mount_point == Path::new("/") || m.mount_point == Path::new("/usr"))
        .filter_map(|m| m.devnum)
        .any(|d: DevNum| {
            pmemtab::sysfs::read(&ctx.sysfs.join(format!("dev/block/{d}/dm/uuid")))
                .is_ok_and(|u| u.starts_with(pmemtab::plan::DM_UUID_PREFIX))
        })
}

/// A value as one shell word: single quotes, with `'` as `'\''`.
fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("a b"), "'a b'");
        assert_eq!(super::quote("it's"), "'it'\\''s'");
        assert_eq!(super::quote(""), "''");
    }
}
