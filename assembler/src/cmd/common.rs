//! What every command does first: read pmemtab (reporting its diagnostics), scan namespaces,
//! and pick the entries named on the command line.

use crate::ctx::Ctx;
use crate::error::Error;
use crate::exit;
use pmemtab::devnum::DevNum;
use pmemtab::ns::Namespace;
use pmemtab::plan::{self, Device, Refusal};
use pmemtab::tab::{Diagnostic, Entry, Parsed};

/// pmemtab as this build reads it. The host's build refuses a line whose units the generator
/// could not write, in the generator's own words (it reads it so too: `pmemtab::units::load`);
/// the initramfs's build carries no unit renderer, within its size budget.
pub fn load(path: &std::path::Path) -> Result<Parsed, pmemtab::Error> {
    #[cfg(feature = "host")]
    return pmemtab::units::load(path);
    #[cfg(not(feature = "host"))]
    return pmemtab::tab::load(path);
}

/// Reads and parses pmemtab, printing its diagnostics: all of them, or with `names` (a
/// command about some entries) only those of the lines of those names and of the file
/// itself. Entries with errors are already dropped by the parser; the caller decides
/// whether other errors matter.
pub fn load_tab(ctx: &Ctx, names: &[String]) -> Result<Parsed, Error> {
    let parsed = load(&ctx.pmemtab).map_err(Error::Tab)?;
    for d in &parsed.diagnostics {
        if names.is_empty() || names.iter().any(|n| d.concerns(n)) {
            print_diagnostic(ctx, d);
        }
    }
    Ok(parsed)
}

/// A diagnostic as the parser renders it: `path:line:col: error: ...`, the line, the fault
/// underlined, the hint.
pub fn print_diagnostic(ctx: &Ctx, d: &Diagnostic) {
    errln!("{}", d.render(&ctx.pmemtab.display().to_string()));
}

/// `--timeout SECONDS` (argh's `from_str_fn`): whole seconds, at most pmemtab's limit on any
/// wait, so that no deadline computed from it can overflow.
pub fn seconds(v: &str) -> Result<std::time::Duration, String> {
    let n: u64 = v
        .parse()
        .map_err(|_| "expected a whole number of seconds".to_string())?;
    pmemtab::timespan::check_limit(std::time::Duration::from_secs(n))
        .map_err(|limit| format!("{n} seconds is {limit}"))
}

/// A `single` entry's block device (its name under the device directory) and number, as
/// planned from a scan, for the command that will `action` it.
pub fn single_device(
    ctx: &Ctx,
    entry: &Entry,
    action: &'static str,
) -> Result<(String, DevNum), Error> {
    let namespaces = scan(ctx)?;
    match plan::plan(entry, &namespaces) {
        Ok(p) => match p.device {
            Device::Single {
                blockdev, devnum, ..
            } => Ok((blockdev, devnum)),
            Device::Dm { .. } | Device::Kmem { .. } => {
                Err(unplanned(ctx, entry, "namespace block device", action))
            }
        },
        Err(r) => Err(refusal(ctx, entry, &r)),
    }
}

/// An entry whose plan is not the device its layout makes (`wanted`): nothing to `action`.
pub fn unplanned(ctx: &Ctx, entry: &Entry, wanted: &'static str, action: &'static str) -> Error {
    Error::Unplanned(Box::new(crate::error::Unplanned {
        at: ctx.at(entry.line, &entry.name),
        name: entry.name.to_string(),
        layout: entry.layout().to_string(),
        wanted,
        action,
    }))
}

/// Waits (bounded) for the nd buses to settle, then lists namespaces.
pub fn scan(ctx: &Ctx) -> Result<Vec<Namespace>, Error> {
    scan_within(ctx, pmemtab::timeouts::Wait::Probe.limit())
}

/// [`scan`] within `up`'s device phase: the probe wait ends by `by` too.
pub fn scan_by(ctx: &Ctx, by: crate::wait::Deadline) -> Result<Vec<Namespace>, Error> {
    scan_within(ctx, by.cap(pmemtab::timeouts::Wait::Probe).left())
}

/// Waits at most `limit` for the nd buses to settle (not at all for none: `up --timeout 0`
/// looks once), then lists namespaces.
fn scan_within(ctx: &Ctx, limit: std::time::Duration) -> Result<Vec<Namespace>, Error> {
    if !limit.is_zero() && !pmemtab::ns::wait_probe_within(&ctx.sysfs, limit) {
        exit::warning(format_args!(
            "the nvdimm buses under {} were still probing after {}s; namespaces may be missing",
            ctx.sysfs.display(),
            limit.as_secs()
        ));
    }
    scan_now(ctx)
}

/// Lists namespaces without waiting for probing (for polling loops that waited once already).
pub fn scan_now(ctx: &Ctx) -> Result<Vec<Namespace>, Error> {
    pmemtab::ns::scan(&ctx.sysfs).map_err(Error::Namespaces)
}

/// The entries named (all when `names` is empty and `default_all`, or when `all` is set).
/// Unknown names are an error naming the file.
pub fn select<'a>(
    ctx: &Ctx,
    entries: &'a [Entry],
    names: &[String],
    all: bool,
) -> Result<Vec<&'a Entry>, Error> {
    if all || names.is_empty() {
        return Ok(entries.iter().collect());
    }
    let mut out = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for name in names {
        match entries.iter().find(|e| &e.name == name) {
            Some(e) => out.push(e),
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(Error::NoEntry {
            tab: ctx.pmemtab.clone(),
            names: missing,
        })
    }
}

/// The one valid entry called `name`, or an error naming the file.
pub fn select_one<'a>(ctx: &Ctx, entries: &'a [Entry], name: &str) -> Result<&'a Entry, Error> {
    let missing = || Error::NoEntry {
        tab: ctx.pmemtab.clone(),
        names: vec![name.to_string()],
    };
    entries.iter().find(|e| e.name == name).ok_or_else(missing)
}

/// A planning refusal, said as the parser says its errors: one per bad member, each
/// pointing at the member in the entry's line.
pub fn refusal(ctx: &Ctx, entry: &Entry, r: &Refusal) -> Error {
    Error::Refusal {
        tab: ctx.pmemtab.display().to_string(),
        diagnostics: r.diagnostics(entry),
    }
}

/// Reads pmemtab (reporting only `name`'s diagnostics) and returns the valid entry `name`, for
/// the commands about one entry that need nothing else from the file.
pub fn load_one(ctx: &Ctx, name: &str) -> Result<Entry, Error> {
    let parsed = load_tab(ctx, std::slice::from_ref(&name.to_string()))?;
    select_one(ctx, &parsed.entries, name).cloned()
}

#[cfg(feature = "host")]
/// Loads everything and plans one named entry (with the other entries' claims considered),
/// reporting any problem. Used by commands that act on a single entry.
pub fn plan_one(ctx: &Ctx, name: &str) -> Result<plan::Plan, Error> {
    let parsed = load_tab(ctx, std::slice::from_ref(&name.to_string()))?;
    let entry = select_one(ctx, &parsed.entries, name)?;
    let namespaces = scan(ctx)?;
    // The entry's plan, made with every entry's claims (one plan per entry, in order).
    let plans = pmemtab::plan::plan_all(&parsed.entries, &namespaces);
    let idx = parsed.entries.iter().position(|e| e.name == entry.name);
    match idx.and_then(|i| plans.into_iter().nth(i)) {
        Some(Ok(plan)) => Ok(plan),
        Some(Err(r)) => Err(refusal(ctx, entry, &r)),
        None => Err(unplanned(ctx, entry, "device", "show")),
    }
}

/// The kernel command line from `<proc>/cmdline`, read as the generator reads it (as bytes;
/// `in_initrd`: whether `rd.` keys count); empty, with a warning unless the file is simply
/// absent, when it cannot be read.
pub fn read_cmdline(ctx: &Ctx, in_initrd: bool) -> pmemtab::cmdline::Cmdline {
    let path = ctx.proc.join("cmdline");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) => {
            if e.kind() != std::io::ErrorKind::NotFound {
                exit::warning(format_args!(
                    "cannot read {} ({e}); root= and mount.usr= are not checked",
                    path.display()
                ));
            }
            Vec::new()
        }
    };
    pmemtab::cmdline::parse(&text, in_initrd)
}

/// The entries an initrd without systemd sets up, by the kernel command line as the initrd
/// reads it, in order, each with whether to wait for its members
/// ([`pmemtab::initrd::schedule`]).
pub fn initrd_entries<'a>(ctx: &Ctx, entries: &'a [Entry]) -> Vec<(&'a Entry, bool)> {
    let cmdline = read_cmdline(ctx, true);
    if cmdline.enabled == Some(false) {
        outln!("pmemtab is disabled on the kernel command line (pmemtab=0 or rd.pmemtab=0): nothing to set up");
        return Vec::new();
    }
    let boot = pmemtab::cmdline::boot_devices(entries, &cmdline);
    for d in &boot.problems {
        print_diagnostic(ctx, d);
    }
    pmemtab::initrd::schedule(entries, &boot)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exit::Exit;
    use pmemtab::tab::{EntryKind, Layout, Member};

    pub(crate) fn ctx() -> Ctx {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        Ctx {
            pmemtab: "pmemtab".into(),
            sysfs: fixtures.join("nd-sysfs-qemu-a/sys"),
            dev: "/nonexistent/dev".into(),
            run: "/nonexistent/run".into(),
            proc: "/nonexistent/proc".into(),
        }
    }

    /// Over the fixture's namespace `member` (`alpha` is fsdax, `gamma` devdax).
    pub(crate) fn entry(name: &str, layout: Layout, member: &str) -> Entry {
        Entry {
            line: 2,
            name: pmemtab::tab::name::Name::new(name).unwrap(),
            kind: EntryKind::new(layout, vec![Member::Name(member.into())], None).unwrap(),
            options: Default::default(),
            source: Default::default(),
        }
    }

    // The parser lets no system-ram line have a mount point, so `mount` and `verify-dax`
    // never ask this of one; were they to, they say so instead of exiting 1 in silence.
    #[test]
    fn a_single_device_of_another_layout_is_said() {
        let ram = entry("ram", Layout::SystemRam, "gamma");
        let e = single_device(&ctx(), &ram, "mount").unwrap_err();
        assert_eq!(e.exit(), Exit::Refused);
        assert_eq!(
            e.to_string(),
            "pmemtab:2: ram: the system-ram entry is planned as no namespace block device, so there is nothing to mount; this is a bug in pmem-assemble: please report it with the output of `pmem-assemble check ram`"
        );
    }

    #[test]
    fn names_not_in_pmemtab_are_said_each() {
        let entries = [entry("ram", Layout::SystemRam, "gamma")];
        let names = ["x".to_string(), "ram".into(), "y\n".into()];
        let e = select(&ctx(), &entries, &names, false).unwrap_err();
        assert_eq!(e.exit(), Exit::Refused);
        assert_eq!(
            e.to_string(),
            "pmemtab: no valid entry named 'x'\npmemtab: no valid entry named 'y\\n'"
        );
        let e = select_one(&ctx(), &entries, "x").unwrap_err();
        assert_eq!(e.to_string(), "pmemtab: no valid entry named 'x'");
    }
}
