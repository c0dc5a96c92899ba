//! pmemtab-generator: a systemd generator turning /etc/pmemtab into units, as
//! systemd-cryptsetup-generator does for crypttab. `pmemtab-generator normal-dir [early-dir
//! late-dir]`; writes only into normal-dir, loads nothing, creates no device.
//!
//! Inputs (and the overrides tests use, the same ones systemd's generators honour):
//! pmemtab (`PMEMTAB`), the kernel command line (`SYSTEMD_PROC_CMDLINE`), whether we run in
//! the initrd (`SYSTEMD_IN_INITRD`, else /etc/initrd-release), logging (`SYSTEMD_LOG_LEVEL`,
//! `SYSTEMD_LOG_TARGET`).

mod log;
mod write;

use log::{Level, Logger};
use pmemtab::cmdline;
use pmemtab::units;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// pmem-assemble's absolute path in the units; set `PMEMTAB_ASSEMBLE_PATH` at build time to
/// install it elsewhere.
const ASSEMBLER: &str = match option_env!("PMEMTAB_ASSEMBLE_PATH") {
    Some(p) => p,
    None => "/usr/sbin/pmem-assemble",
};

/// Everything the generator reads, gathered first so the rest is plain data.
struct Inputs {
    out_dir: PathBuf,
    pmemtab: PathBuf,
    /// As bytes, as systemd reads it: a word that is not UTF-8 costs only itself.
    cmdline: Vec<u8>,
    in_initrd: bool,
}

const USAGE: &str = "usage: pmemtab-generator normal-dir [early-dir late-dir]

A systemd generator: turns /etc/pmemtab into units in normal-dir (systemd runs it at boot
and at daemon-reload). See pmemtab-generator(8).
";

/// What the command line asks for.
enum Invocation {
    Generate(Inputs),
    Help,
}

/// Why the generator was run in a way it cannot serve: logged, and the run fails.
#[derive(Debug, thiserror::Error)]
enum BadInvocation {
    #[error(
        "unknown option '{}'; expects one or three arguments: normal-dir [early-dir late-dir]",
        pmemtab::text::escape_control(.0)
    )]
    UnknownOption(String),
    #[error("expects one or three arguments: normal-dir [early-dir late-dir]")]
    ArgumentCount,
    #[error("SYSTEMD_IN_INITRD={0:?} is not a boolean")]
    InInitrd(String),
    #[error("argument {0} '{1}' is not UTF-8: systemd passes the generator's directories as text")]
    NotUtf8(usize, String),
}

/// Reads argv, the environment and the files systemd would.
fn gather(argv: &[std::ffi::OsString], log: &mut Logger) -> Result<Invocation, BadInvocation> {
    let mut dirs = Vec::with_capacity(argv.len());
    for (i, a) in argv.iter().enumerate().skip(1) {
        match a.to_str() {
            Some(d) => dirs.push(d.to_string()),
            None => {
                return Err(BadInvocation::NotUtf8(
                    i,
                    pmemtab::text::escape_path(Path::new(a)),
                ))
            }
        }
    }
    let dirs = dirs.as_slice();
    if dirs.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Invocation::Help);
    }
    // systemd passes directories; anything that reads as an option is a mistake, never a
    // directory to fill.
    if let Some(opt) = dirs.iter().find(|a| a.starts_with('-')) {
        return Err(BadInvocation::UnknownOption(opt.clone()));
    }
    let out_dir = match dirs {
        [normal] | [normal, _, _] => PathBuf::from(normal),
        _ => return Err(BadInvocation::ArgumentCount),
    };
    // systemd ran us, having decided by the same file whether this is the initrd.
    let in_initrd = cmdline::in_initrd(
        std::env::var_os("SYSTEMD_IN_INITRD").as_deref(),
        Path::new("/"),
        || false,
    )
    .map_err(BadInvocation::InInitrd)?;
    let cmdline = match std::env::var_os("SYSTEMD_PROC_CMDLINE") {
        Some(v) => {
            use std::os::unix::ffi::OsStringExt;
            v.into_vec()
        }
        None => std::fs::read("/proc/cmdline").unwrap_or_else(|e| {
            log.warning(format_args!(
                "cannot read /proc/cmdline ({e}); assuming it empty"
            ));
            Vec::new()
        }),
    };
    let pmemtab = std::env::var_os("PMEMTAB")
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(pmemtab::tab::DEFAULT_PATH), PathBuf::from);
    Ok(Invocation::Generate(Inputs {
        out_dir,
        pmemtab,
        cmdline,
        in_initrd,
    }))
}

/// Why one entry's units were not written: it has none (its name or mount point cannot be
/// a unit's), or writing them into `dir` failed (the error names a path relative to it).
#[derive(Debug, thiserror::Error)]
enum EntryError {
    #[error(transparent)]
    Render(units::RenderError),
    #[error("{dir}: {source}")]
    Write {
        dir: String,
        source: write::WriteError,
    },
}

/// The generator proper. Returns whether everything went well; problems are logged.
fn run(inp: &Inputs, log: &mut Logger) -> bool {
    let cmd = cmdline::parse(&inp.cmdline, inp.in_initrd);
    for (word, why) in &cmd.ignored {
        log.warning(format_args!(
            "kernel command line: ignoring '{word}': {why}"
        ));
    }
    if cmd.enabled == Some(false) {
        log.info(format_args!(
            "disabled on the kernel command line (pmemtab=0 or rd.pmemtab=0), generating nothing"
        ));
        return true;
    }
    let path = inp.pmemtab.display().to_string();
    if !inp.pmemtab.exists() {
        log.debug(format_args!("{path} does not exist, nothing to do"));
        return true;
    }
    let parsed = match units::load(&inp.pmemtab) {
        Ok(p) => p,
        Err(e) => {
            log.error(format_args!("{e}"));
            return false;
        }
    };
    let mut ok = true;
    // root=/mount.usr= naming an entry that cannot be that device is an error of its line.
    let boot = cmdline::boot_devices(&parsed.entries, &cmd);
    for d in parsed.diagnostics.iter().chain(&boot.problems) {
        // One line per message: the rendering's first line and the hint; the rest draws
        // the caret, which a log does not need.
        let line = d.one_line(&path);
        if d.is_error() {
            ok = false;
            log.error(format_args!("{line}"));
        } else {
            log.warning(format_args!("{line}"));
        }
    }

    let ctx = units::Context::new(ASSEMBLER, &path, inp.in_initrd);
    // Work from inside the output directory: the writer passes the kernel short relative
    // paths, not the whole directory again (bench/README.md, the generator's writes).
    // Nothing after this point opens a path of its own; the writer's errors name paths
    // relative to the output directory, so they are logged with the directory in front.
    if let Err(e) = std::env::set_current_dir(&inp.out_dir) {
        log.error(format_args!(
            "cannot enter the output directory {}: {e}",
            inp.out_dir.display()
        ));
        return false;
    }
    let mut writer = write::Writer::new(Path::new(""));
    let out_dir = inp.out_dir.display();
    let (chosen, notes) = units::select(&parsed.entries, &boot, inp.in_initrd);
    for n in notes {
        match n.line {
            Some(l) => log.debug(format_args!("{path}:{l}: {}", n.text)),
            None => log.debug(format_args!("{}", n.text)),
        }
    }
    let mut members = Vec::with_capacity(chosen.len());
    for c in &chosen {
        let e = c.entry;
        let result = units::render(&ctx, c)
            .map_err(EntryError::Render)
            .and_then(|out| {
                writer.write(&out).map_err(|source| EntryError::Write {
                    dir: out_dir.to_string(),
                    source,
                })?;
                Ok(out.target_member)
            });
        match result {
            Ok(member) => {
                members.extend(member);
                log.debug(format_args!(
                    "{path}:{}: generated units for '{}'",
                    e.line, e.name
                ))
            }
            Err(msg) => {
                ok = false;
                log.error(format_args!(
                    "{path}:{}: {}: {msg} (entry skipped)",
                    e.line, e.name
                ));
            }
        }
    }
    // Last, so it names exactly the services that were written.
    if let Err(e) = writer.write(&units::target(&members, inp.in_initrd)) {
        log.error(format_args!("{out_dir}: {e}"));
        return false;
    }
    ok
}

/// How the generator was run wrongly: a usage error, as pmem-assemble's and pmemtab-memmap's
/// exit status 2 (systemd logs any failure of a generator alike).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    // As bytes: an argument that is not UTF-8 is a usage error, not a panic.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut log = Logger::new(
        std::env::var("SYSTEMD_LOG_LEVEL").ok().as_deref(),
        std::env::var("SYSTEMD_LOG_TARGET").ok().as_deref(),
        Path::new("/dev/kmsg"),
    );
    let inputs = match gather(&args, &mut log) {
        Ok(Invocation::Generate(i)) => i,
        Ok(Invocation::Help) => {
            use std::io::Write;
            return match std::io::stdout().write_all(USAGE.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::FAILURE,
            };
        }
        Err(msg) => {
            log.log(Level::Error, format_args!("{msg}"));
            return ExitCode::from(USAGE_ERROR);
        }
    };
    if run(&inputs, &mut log) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn assembler_path_is_absolute() {
        assert!(
            super::ASSEMBLER.starts_with('/'),
            "PMEMTAB_ASSEMBLE_PATH must be absolute"
        );
    }
}
