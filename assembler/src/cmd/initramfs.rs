//! `initramfs`: what an initramfs builder puts in the image for pmemtab, as shell
//! assignments, so that the dracut module and the initramfs-tools hook ask instead of
//! parsing pmemtab themselves; whether the image may be built at all (not while a line the
//! initrd needs is refused, or while the running root sits on a pmemtab device the image would
//! not set up); the check of the image before it is packed (`--verify`); and the package's
//! removal check (`--removal-check`). The rules are `pmemtab::initrd`'s.

use super::common;
use crate::ctx::Ctx;
use crate::error::{self, Error};
use crate::exit::{self, Exit};
use crate::{mount, wait};
use argh::FromArgs;
use pmemtab::cmdline::Cmdline;
use pmemtab::devnum::DevNum;
use pmemtab::initrd::{self, targets, BootMount, Held, Image};
use pmemtab::plan::{self, Device};
use pmemtab::tab::{Diagnostic, Layout, Parsed, Severity};
use std::path::PathBuf;

/// print what an initramfs needs for pmemtab, as shell assignments; exit 1 when it must not be built
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "initramfs")]
pub struct Args {
    /// root of the system the image is for: its etc/kernel/cmdline and GRUB configuration are read
    /// (default /)
    #[argh(option, default = "PathBuf::from(\"/\")")]
    pub root: PathBuf,
    /// a kernel command line the image will boot with, besides /proc/cmdline and the boot
    /// loader's (may repeat)
    #[argh(option)]
    pub cmdline: Vec<String>,
    /// check the image being built in DIR (dracut's $initdir, initramfs-tools' $DESTDIR)
    #[argh(option)]
    pub verify: Option<PathBuf>,
    /// with --verify: the kernel version whose modules the image must hold
    #[argh(option)]
    pub kver: Option<String>,
    /// with --verify: pmemtab-generator must be there too (a systemd initrd)
    #[argh(switch)]
    pub generator: bool,
    /// with --verify: the kernel modules only (dracut --kernel-only)
    #[argh(switch)]
    pub modules_only: bool,
    /// exit 1 when / or /usr is on a device pmemtab sets up (the package's removal check)
    #[argh(switch)]
    pub removal_check: bool,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    if args.removal_check && args.verify.is_some() {
        return Err(Error::Usage(
            "initramfs: --removal-check and --verify are two questions: ask one",
        ));
    }
    let parsed = load(ctx)?;
    let held = match (held(ctx, &parsed), args.removal_check) {
        (Ok(h), _) => h,
        // Cannot tell (said): the removal is refused; the image is built for what pmemtab
        // declares.
        (Err(()), true) => return Err(Error::Said(Exit::System)),
        (Err(()), false) => Vec::new(),
    };
    if args.removal_check {
        return removal_check(ctx, &held);
    }
    let (cmdlines, sources) = target_cmdlines(ctx, &args);
    let image = initrd::image(&parsed, &cmdlines);
    if let Some(dir) = &args.verify {
        return verify(ctx, &image, dir, &args);
    }
    report(ctx, &parsed, &image);
    let uncovered = initrd::uncovered(&image, &held);
    for h in &uncovered {
        Error::Image(format!(
                "{} is on {}, which pmemtab set up{}, but no line of {} that the initrd sets up makes it: an image built now could not mount {}; restore that line (mount point {}) and build the image again (the one in place is kept)",
                h.mount_point,
                h.device,
                h.entry.as_deref().map(|e| format!(" ('{e}')")).unwrap_or_default(),
                ctx.pmemtab.display(),
                h.mount_point,
                h.mount_point
            ))
        .report();
    }
    // Every line that stops the build is said above.
    if !image.broken.is_empty() || !uncovered.is_empty() || !image.boot_errors.is_empty() {
        return Err(Error::Said(Exit::Refused));
    }
    let root = image.root || !held.is_empty();
    let yes = |b: bool| if b { "yes" } else { "no" };
    let names: Vec<&str> = image.entries.iter().map(|e| e.name.as_str()).collect();
    let fsck: Vec<&str> = image.fsck.iter().map(|f| f.as_str()).collect();
    outln!("PMEMTAB_INITRD={}", yes(!image.entries.is_empty()));
    outln!("PMEMTAB_ROOT={}", yes(root));
    outln!("PMEMTAB_ENTRIES={}", quote(&names.join(" ")));
    outln!("PMEMTAB_MODULES={}", quote(&image.modules.join(" ")));
    outln!(
        "PMEMTAB_OPTIONAL_MODULES={}",
        quote(&image.optional_modules.join(" "))
    );
    outln!("PMEMTAB_PROGRAMS={}", quote(&image.programs.join(" ")));
    outln!("PMEMTAB_FSCK={}", quote(&fsck.join(" ")));
    outln!("PMEMTAB_CMDLINES={}", quote(&sources.join(" ")));
    Ok(())
}

/// pmemtab as parsed; none at all is an empty one. A pmemtab that cannot be read stops the
/// build: whether the root is on it cannot be told.
fn load(ctx: &Ctx) -> Result<Parsed, Error> {
    if !ctx.pmemtab.exists() && ctx.pmemtab.symlink_metadata().is_err() {
        return Ok(Parsed::default());
    }
    super::common::load(&ctx.pmemtab).map_err(|source| Error::InitrdTab {
        source,
        tab: ctx.pmemtab.clone(),
    })
}

/// Prints pmemtab's diagnostics as the image build sees them: an error on a line the initrd
/// needs stays an error, then a line saying the build stops; an error on any other line only
/// costs that line after switch-root, so it is a warning here and the build goes on.
fn report(ctx: &Ctx, parsed: &Parsed, image: &Image<'_>) {
    let broken_line = |l: usize| image.broken.iter().any(|b| b.refused.line == l);
    for d in &parsed.diagnostics {
        if d.is_error() && d.line > 0 && !broken_line(d.line) {
            let shown = Diagnostic {
                severity: Severity::Warning,
                message: format!(
                    "{} (the initrd does not need this line: the image is built without it)",
                    d.message
                ),
                ..d.clone()
            };
            common::print_diagnostic(ctx, &shown);
        } else {
            common::print_diagnostic(ctx, d);
        }
    }
    for d in &image.boot_errors {
        common::print_diagnostic(ctx, d);
    }
    if !image.boot_errors.is_empty() {
        Error::Image(
            "a kernel command line the image is built for (the running one, /etc/kernel/cmdline or GRUB's) names what the initrd cannot set up (above): no image is built, so the one in place is kept; fix the line or the command line and build the image again".into(),
        )
        .report();
    }
    for b in &image.broken {
        Error::refused(
            ctx.at(b.refused.line, b.refused.name.as_deref().unwrap_or("")),
            format!(
                "the initrd needs this line ({}), but it has errors (above): no image is built, so the one in place is kept; fix the line (pmem-assemble check) and build the image again",
                b.why
            ),
        )
        .report();
    }
}

/// The command lines the image is built for, and where each came from.
fn target_cmdlines(ctx: &Ctx, args: &Args) -> (Vec<Cmdline>, Vec<String>) {
    let mut lines = Vec::new();
    let mut sources = Vec::new();
    let proc_cmdline = ctx.proc.join("cmdline");
    if proc_cmdline.exists() {
        lines.push(common::read_cmdline(ctx, false));
        sources.push(proc_cmdline.display().to_string());
    }
    let kernel = args.root.join(targets::KERNEL_CMDLINE);
    if let Ok(bytes) = std::fs::read(&kernel) {
        lines.push(pmemtab::cmdline::parse(&bytes, false));
        sources.push(kernel.display().to_string());
    }
    if pmemtab::grubcfg::has_grub(&args.root) {
        match grub_cmdline(args) {
            Some(text) => {
                lines.push(pmemtab::cmdline::parse(&text, false));
                sources.push("GRUB_CMDLINE_LINUX".into());
            }
            None => exit::warning(format_args!(
                "the GRUB configuration under {} could not be evaluated as grub-mkconfig does (see above; grub-mkconfig stops on it too): root= set there is not taken into account",
                args.root.display()
            )),
        }
    }
    for c in &args.cmdline {
        lines.push(pmemtab::cmdline::parse(c, false));
        sources.push("--cmdline".into());
    }
    (lines, sources)
}

/// GRUB_CMDLINE_LINUX and _DEFAULT as grub-mkconfig would read them; `None` (said) when
/// grub-mkconfig would stop on the configuration too, or it cannot be evaluated in time.
fn grub_cmdline(args: &Args) -> Option<String> {
    use pmemtab::grubcfg;
    let mut evaluation = match grubcfg::evaluation(&args.root, None) {
        Ok(e) => e,
        Err(e) => {
            exit::warning(format_args!(
                "cannot list {}: {e}",
                args.root.join(grubcfg::GRUB_DROPINS).display()
            ));
            return None;
        }
    };
    match wait::output(
        &mut evaluation.command,
        wait::Deadline::after(pmemtab::timeouts::Wait::GrubEval.limit()),
    ) {
        Ok((status, out)) => {
            grubcfg::complete(&evaluation, status.code(), &out).map(|s| s.cmdline())
        }
        Err(e) => {
            exit::warning(format_args!("{e}"));
            None
        }
    }
}

/// `/` and `/usr` of the running system on devices pmemtab sets up; `Err` (warned) when
/// the mounts cannot be read.
fn held(ctx: &Ctx, parsed: &Parsed) -> Result<Vec<Held>, ()> {
    let mounts = mount::mountinfo(&ctx.proc).map_err(|e| {
        exit::warning(format_args!(
            "cannot read {}: {e}; whether / is on a pmemtab device cannot be told",
            ctx.proc.join("self/mountinfo").display()
        ));
    })?;
    // The last mount on a path is the one in use.
    let mut boot: Vec<BootMount> = Vec::new();
    for mp in ["/", "/usr"] {
        if let Some(devnum) = mounts
            .iter()
            .rev()
            .find(|m| m.mount_point == std::path::Path::new(mp))
            .and_then(|m| m.devnum)
        {
            boot.push(BootMount {
                mount_point: mp.into(),
                devnum,
            });
        }
    }
    // The namespaces `single` entries use, as planned now (only when there are some: a
    // machine without pmem has nothing to scan).
    let mut singles: Vec<(&pmemtab::tab::Entry, DevNum, String)> = Vec::new();
    if parsed.entries.iter().any(|e| e.layout() == Layout::Single) {
        match pmemtab::ns::scan(&ctx.sysfs) {
            Ok(namespaces) => {
                for (e, p) in parsed
                    .entries
                    .iter()
                    .zip(plan::plan_all(&parsed.entries, &namespaces))
                {
                    if let Ok(plan::Plan {
                        device:
                            Device::Single {
                                blockdev, devnum, ..
                            },
                        ..
                    }) = p
                    {
                        singles.push((e, devnum, blockdev));
                    }
                }
            }
            Err(e) => exit::warning(format_args!(
                "reading namespaces: {e}; whether / is on a single entry's namespace is not known"
            )),
        }
    }
    let singles: Vec<(&pmemtab::tab::Entry, DevNum, &str)> = singles
        .iter()
        .map(|(e, d, b)| (*e, *d, b.as_str()))
        .collect();
    Ok(initrd::held(&ctx.sysfs, &parsed.entries, &boot, &singles))
}

/// The package's removal check: refused (1) while / or /usr is on a device pmemtab sets up.
fn removal_check(ctx: &Ctx, held: &[Held]) -> Result<(), Error> {
    // Each held mount said (`/`, then `/usr`).
    error::each(held, |h| {
        Err(Error::Image(format!(
            "{} is on {}, which pmemtab sets up{}: an initramfs rebuilt without pmemtab could not assemble it, and the next boot would fail",
            h.mount_point,
            h.device,
            h.entry
                .as_deref()
                .map(|e| format!(" ('{e}' in {})", ctx.pmemtab.display()))
                .unwrap_or_default()
        )))
    })
}

/// The check of the image being built.
fn verify(ctx: &Ctx, image: &Image<'_>, dir: &std::path::Path, args: &Args) -> Result<(), Error> {
    if image.entries.is_empty() {
        return Ok(());
    }
    let pmemtab = std::fs::read(&ctx.pmemtab).ok();
    let check = initrd::Check {
        dir,
        files: !args.modules_only,
        generator: args.generator,
        pmemtab: pmemtab.as_deref(),
        kver: args.kver.as_deref(),
        host_modules: &args.root.join("lib/modules"),
    };
    let missing = initrd::missing(&check, image);
    let mut worst = Exit::Ok;
    for m in &missing {
        if m.required {
            Error::Image(format!(
                "the image being built in {} lacks {}, which the pmemtab entries it sets up need ({}): it would not boot, so it is not built; install what is missing on this system and build it again",
                dir.display(),
                m.what,
                entry_names(image)
            ))
            .report();
            worst = Exit::Refused;
        } else {
            exit::warning(format_args!(
                "the image being built in {} lacks {}: the root is not checked at boot; install it to have it checked",
                dir.display(),
                m.what
            ));
        }
    }
    // Every missing part the image needs is said above.
    match worst {
        Exit::Ok => Ok(()),
        worst => Err(Error::Said(worst)),
    }
}

fn entry_names(image: &Image<'_>) -> String {
    let names: Vec<&str> = image.entries.iter().map(|e| e.name.as_str()).collect();
    names.join(", ")
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
