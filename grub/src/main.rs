//! pmemtab-memmap: proposes `memmap=SIZE!START` legacy pmem for a machine without NVDIMMs,
//! chosen from its firmware memory map, installs it as a GRUB drop-in on request and prints
//! the pmemtab lines that use it. Reading (the map, the command line, grub-mkconfig) and the
//! rule are pmemtab's `memmap` module; this file wires the stages together, `report` renders,
//! `dropin` is the only code that writes.

#[macro_use]
extern crate cli;
mod config;
mod dropin;
mod error;
mod exit;
mod report;

use argh::FromArgs;
use error::Error;
use exit::Exit;
use pmemtab::memmap::arg::{self, Claim};
use pmemtab::memmap::firmware;
use pmemtab::memmap::ranges::{self, Machine, Request, KASLR_MEMMAP_LIMIT};
use std::path::{Path, PathBuf};

/// The program's name in its messages.
const PROG: &str = "pmemtab-memmap";
/// Our drop-in's file name, as messages name it.
const DROPIN_NAME: &str = "90-pmemtab.cfg";

/// Propose memmap= legacy pmem from the firmware memory map, and install it through GRUB.
#[derive(FromArgs, Debug)]
#[argh(
    note = "Reads /sys/firmware/memmap and /proc/cmdline; see pmemtab-memmap(8). Legacy pmem is RAM: its content is gone at every cold boot.",
    error_code(
        1,
        "refused: the request does not fit or goes below the RAM floor, or the drop-in cannot be written"
    ),
    error_code(2, "usage error"),
    error_code(3, "reading the map or writing the drop-in failed")
)]
struct Args {
    /// size of each region, as the kernel reads it (512M, 4G); whole 2 MiB units
    #[argh(option)]
    size: Option<String>,
    /// number of regions (default 1); several make one striped pmemtab entry
    #[argh(option, default = "1")]
    count: u32,
    /// RAM that must stay RAM (default 1G)
    #[argh(option)]
    min_ram: Option<String>,
    /// name of the printed pmemtab entry (default scratch)
    #[argh(option, default = "String::from(\"scratch\")")]
    name: String,
    /// mount point of the printed entry (default /mnt/NAME)
    #[argh(option)]
    mount: Option<String>,
    /// write the drop-in /etc/default/grub.d/90-pmemtab.cfg
    #[argh(switch)]
    write: bool,
    /// remove that drop-in (only if pmemtab-memmap wrote it)
    #[argh(switch)]
    remove: bool,
    /// read the map from a boot log's BIOS-e820 lines instead of sysfs
    #[argh(option)]
    map: Option<PathBuf>,
    /// sysfs root: firmware/memmap and the memory-block size (default /sys)
    #[argh(option, default = "PathBuf::from(\"/sys\")")]
    sysfs: PathBuf,
    /// proc root: the running kernel command line (default /proc)
    #[argh(option, default = "PathBuf::from(\"/proc\")")]
    proc: PathBuf,
    /// root of the system to configure: its grub-mkconfig and etc/default/grub.d (default /)
    #[argh(option, default = "PathBuf::from(\"/\")")]
    root: PathBuf,
}

/// A size option: all of it must be a number in the kernel's syntax.
fn size_option(option: &'static str, value: &str) -> Result<u64, Error> {
    match arg::memparse(value) {
        Some((n, "")) => Ok(n),
        _ => Err(Error::Size {
            option,
            value: value.into(),
        }),
    }
}

/// `--name` and `--mount`, each checked with the pmemtab parser's rule for its column, then
/// the whole printed line by the parser itself; the mount point, as the line writes it.
fn entry_options(name: &str, mount: Option<&str>) -> Result<String, Error> {
    if let Err(e) = pmemtab::tab::name::Name::from_column(name) {
        return Err(Error::Name {
            name: name.into(),
            message: e.message,
            hint: e.hint.map(|h| format!("; {h}")).unwrap_or_default(),
        });
    }
    let default = format!("/mnt/{name}");
    let given = mount.unwrap_or(&default);
    let mount = pmemtab::tab::parse::check_mount_point(given).map_err(|e| Error::MountPoint {
        given: given.into(),
        message: e.message,
        name: name.into(),
    })?;
    if pmemtab::memmap::is_system_dir(&mount) {
        return Err(Error::SystemDir {
            given: given.into(),
            mount: mount.to_string(),
            name: name.into(),
        });
    }
    let mount = pmemtab::text::encode_octal(&mount);
    // The printed entry must be one pmemtab accepts: the parser decides, not a second rule.
    let sample = report::entry(
        name,
        &mount,
        &[pmemtab::memmap::PhysRange {
            start: 1 << 32,
            end: (1 << 32) + (2 << 20),
        }],
    );
    let parsed = pmemtab::units::parse(&sample);
    if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
        return Err(Error::Entry(d.one_line("the pmemtab line")));
    }
    Ok(mount)
}

fn remove(root: &Path) -> Result<(), Error> {
    if dropin::remove(root)? {
        outln!(
            "removed {}: run update-grub (or grub-mkconfig -o /boot/grub/grub.cfg) and reboot",
            root.join(dropin::DROPIN).display()
        );
    } else {
        outln!(
            "no {}: nothing to remove",
            root.join(dropin::DROPIN).display()
        );
    }
    Ok(())
}

/// The running command line (its bytes, as the kernel keeps them), and what it holds that
/// our own drop-in did not make.
fn foreign_claims(proc: &Path, ours: &[Claim]) -> Result<(Vec<u8>, arg::Foreign), Error> {
    let path = proc.join("cmdline");
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(source) => return Err(Error::Cmdline { path, source }),
    };
    let foreign = arg::foreign(&text, ours);
    for b in &foreign.unreadable {
        exit::warning(format_args!(
            "{}: cannot read {b:?}; the range it claims is not avoided",
            path.display()
        ));
    }
    Ok((text, foreign))
}

fn run(a: Args) -> Result<(), Error> {
    if a.remove {
        if a.write || a.size.is_some() {
            return Err(Error::RemoveWith);
        }
        return remove(&a.root);
    }
    let size = size_option("size", a.size.as_deref().ok_or(Error::NoSize)?)?;
    let min_ram = match a.min_ram.as_deref() {
        None => ranges::DEFAULT_MIN_RAM,
        Some(v) => size_option("min-ram", v)?,
    };
    let mount = entry_options(&a.name, a.mount.as_deref())?;
    let req = Request {
        size,
        count: a.count,
        min_ram,
    };

    // Stage 1: read the machine.
    let (map, source) = match &a.map {
        Some(path) => {
            let read = std::fs::read_to_string(path)
                .map_err(|e| pmemtab::Error::read(path, e))
                .and_then(|t| firmware::parse_e820_log(&t, path));
            let read = read.map(|log| {
                if log.boots > 1 {
                    exit::note(format_args!(
                        "{} holds {} boots: using the map of the last one (from line {}); give a log of one boot (dmesg, journalctl -k -b) to choose another",
                        path.display(),
                        log.boots,
                        log.line
                    ));
                }
                log.entries
            });
            (read, format!("{} (BIOS-e820 lines)", path.display()))
        }
        None => (
            firmware::read_sysfs(&a.sysfs),
            a.sysfs.join(firmware::SYSFS_MEMMAP).display().to_string(),
        ),
    };
    let map = map.map_err(Error::Map)?;
    let block_size = firmware::read_block_size(&a.sysfs).map_err(Error::Map)?;
    let ours = match dropin::current(&a.root) {
        Ok(t) => t.as_deref().map(dropin::claims).unwrap_or_default(),
        Err(e @ dropin::Error::NotOurs { .. }) if !a.write => {
            exit::warning(e);
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    let (cmdline, foreign) = foreign_claims(&a.proc, &ours)?;
    let grub = dropin::detect(&a.root)?;
    let entries = map.len();
    let machine = Machine {
        map,
        block_size,
        claims: foreign.claims.clone(),
    };

    // Stage 2: the rule.
    let ram = ranges::usable_ram(&machine).iter().map(|s| s.len()).sum();
    out!("{}", report::header(&source, entries, ram, block_size));
    let others: Vec<&Claim> = machine
        .claims
        .iter()
        .filter(|c| !matches!(c, Claim::Ram(_)))
        .collect();
    if !others.is_empty() {
        outln!(
            "kernel command line: {} memmap=/mem= claim(s) of others avoided",
            others.len()
        );
    }
    let plan = match ranges::plan(&machine, &req) {
        Ok(p) => p,
        Err(r) => {
            if let ranges::Unfit::NoFit { room, .. } = &r {
                out!("{}", report::room(room));
            }
            return Err(Error::Unfit { unfit: r, req });
        }
    };
    out!("{}", report::room(&plan.room));
    let spans = report::spans(&plan);
    let argument = arg::kernel_argument(&spans);
    // What replaces every memmap= word, where the tool keys arguments by name (grubby).
    let install = report::Install {
        argument: &argument,
        replacing: &arg::replacing_argument(&foreign.memmap_items, &spans),
        foreign: &foreign.memmap_items,
    };
    let length = arg::command_line_len(&cmdline, install.replacing);
    if length >= arg::COMMAND_LINE_SIZE {
        return Err(Error::CommandLineTooLong {
            argument,
            length,
            cmdline: a.proc.join("cmdline"),
        });
    }
    let regions = spans.len()
        + machine
            .claims
            .iter()
            .filter(|c| matches!(c, Claim::Pmem(_) | Claim::Taken(_)))
            .count();
    if regions > KASLR_MEMMAP_LIMIT {
        exit::warning(format_args!(
            "{regions} memmap= regions: with more than {KASLR_MEMMAP_LIMIT} the kernel disables physical KASLR (it no longer avoids them when it places itself)"
        ));
    }
    out!(
        "{}",
        report::proposal(&plan, block_size, &req, &a.name, &mount)
    );

    // Stage 3: apply, on request. The configuration is read as grub-mkconfig reads it, with
    // our drop-in in place: a later file that drops the argument, or a configuration
    // grub-mkconfig would stop on, is a warning, and with --write nothing is written.
    let text = dropin::text(&argument);
    if matches!(grub, dropin::Grub::DropIns(_)) {
        let problem = match config::check(&a.root, &text, &argument) {
            Ok(config::Verdict::Kept) => None,
            Ok(config::Verdict::Dropped { path, value }) => Some(format!(
                "{} drops {argument}: grub-mkconfig reads it after {}, and GRUB_CMDLINE_LINUX is \"{}\" after it; make it append (GRUB_CMDLINE_LINUX=\"${{GRUB_CMDLINE_LINUX}} ...\")",
                pmemtab::text::escape_path(&path),
                DROPIN_NAME,
                pmemtab::text::escape_control(&value)
            )),
            Ok(config::Verdict::Stopped { at, why }) => Some(format!(
                "grub-mkconfig would stop reading its configuration in {} ({why}), so whether it keeps {argument} cannot be told; fix that file (update-grub fails on it as well)",
                pmemtab::text::escape_path(&at)
            )),
            Err(e @ config::Error::Timeout { .. }) => Some(e.to_string()),
            Err(e) => return Err(Error::Config(e)),
        };
        if let Some(p) = problem {
            if a.write {
                return Err(Error::Dropped(p));
            }
            exit::warning(p);
        }
    }
    if !a.write {
        out!("{}", report::install(&grub, &install, false, &a.root));
        return Ok(());
    }
    if !matches!(grub, dropin::Grub::DropIns(_)) {
        out!("{}", report::install(&grub, &install, false, &a.root));
        return Err(Error::NotRead(a.root.join(dropin::DROPIN)));
    }
    let path = a.root.join(dropin::DROPIN);
    let (w, repaired) = dropin::write(&a.root, &text)?;
    let how = match w {
        dropin::Written::New => "wrote",
        dropin::Written::Replaced => "replaced",
        dropin::Written::Unchanged => "unchanged",
    };
    out!("\n{how} {}: {argument}\n", path.display());
    for (p, was, now) in repaired {
        outln!(
            "set the mode of {} to {now:04o} (it was {was:04o}: grub-mkconfig sources it as root)",
            p.display()
        );
    }
    out!("{}", report::install(&grub, &install, true, &a.root));
    Ok(())
}

fn main() {
    // As bytes: an argument that is not UTF-8 is a usage error (parse_args), not a panic.
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let args: Args = match cli::exit::parse_args(&argv, PROG) {
        Ok(args) => args,
        Err(exit) => std::process::exit(exit.code()),
    };
    // Every failure is said here, once, and decides the exit status.
    let exit = match run(args) {
        Ok(()) => Exit::Ok,
        Err(e) => {
            exit::error(&e);
            e.exit()
        }
    };
    std::process::exit(cli::exit::finish(PROG, exit).code());
}
