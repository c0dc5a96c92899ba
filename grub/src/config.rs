//! What grub-mkconfig makes of the configuration, with our drop-in in place: whether our
//! argument is still in `GRUB_CMDLINE_LINUX` when it writes the `linux` lines. The
//! configuration is evaluated by the library's one rule ([`pmemtab::grubcfg`]: sourced as
//! grub-mkconfig sources it, our proposed drop-in's text in its place); this module runs it
//! with a time limit and reads the verdict. Nothing is written.

use crate::dropin::DROPIN;
use pmemtab::grubcfg::{self, Proposed, SHELL};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long sourcing the configuration may take: it only assigns variables.
pub const LIMIT: Duration = Duration::from_secs(10);

/// What the configuration does with our argument.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every `linux` line gets it.
    Kept,
    /// `path`, sourced after ours, leaves GRUB_CMDLINE_LINUX as `value`, without it.
    Dropped { path: PathBuf, value: String },
    /// The shell stopped before the end, as grub-mkconfig would (under `set -e`), in `at`,
    /// with `why` (its exit status and last message).
    Stopped { at: PathBuf, why: String },
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {SHELL} to read the GRUB configuration as grub-mkconfig does: {0}")]
    Shell(std::io::Error),
    #[error("reading the GRUB configuration under {} as grub-mkconfig does took more than {}s; it was stopped", root.display(), LIMIT.as_secs())]
    Timeout { root: PathBuf },
}

/// How the shell ended and what it wrote.
struct Ran {
    status: Option<i32>,
    out: Vec<u8>,
    err: Vec<u8>,
}

/// Runs the shell until it ends or [`LIMIT`] passes.
fn run(cmd: &mut Command, root: &Path) -> Result<Ran, Error> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::Shell)?;
    // Read both pipes while waiting, so that a chatty file cannot fill one and stall.
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as _));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        match child.try_wait().map_err(Error::Shell)? {
            Some(s) => break s,
            None if start.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(10)),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Timeout {
                    root: root.to_path_buf(),
                });
            }
        }
    };
    // A background process of a sourced file may keep the pipes open: take what there is.
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    Ok(Ran {
        status: status.code(),
        out,
        err,
    })
}

/// Sources the configuration under `root` as grub-mkconfig does, with `text` as our drop-in,
/// and says whether `argument` is in GRUB_CMDLINE_LINUX at the end.
pub fn check(root: &Path, text: &str, argument: &str) -> Result<Verdict, Error> {
    let ours = root.join(DROPIN);
    let etc = root.join("etc");
    let proposed = Proposed { path: &ours, text };
    let mut evaluation =
        grubcfg::evaluation(root, Some(&proposed)).map_err(|source| Error::Read {
            path: root.join(grubcfg::GRUB_DROPINS),
            source,
        })?;
    let Ran { status, out, err } = run(&mut evaluation.command, root)?;
    // (file, value) after each file read whole.
    let steps: Vec<(PathBuf, String)> = grubcfg::steps(&out)
        .into_iter()
        .map(|s| (s.file, s.linux))
        .collect();
    let files = &evaluation.files[1..];
    let has = |v: &str| v.split_ascii_whitespace().any(|w| w == argument);
    if grubcfg::complete(&evaluation, status, &out).is_none() {
        let message = String::from_utf8_lossy(&err);
        let last = message.lines().last().unwrap_or_default().trim();
        let why = match status {
            Some(c) => format!("the shell stopped with status {c}"),
            None => "the shell was killed".to_string(),
        };
        let why = if last.is_empty() {
            why
        } else {
            format!("{why}: {}", pmemtab::text::escape_control(last))
        };
        // steps[0] is /etc/default/grub, steps[i] the drop-in files[i - 1].
        let at = match steps.len() {
            0 => etc.join("default/grub"),
            n => files
                .get(n - 1)
                .or(files.last())
                .cloned()
                .unwrap_or_else(|| etc.join("default/grub")),
        };
        return Ok(Verdict::Stopped { at, why });
    }
    // The first file after ours that leaves the argument out (ours puts it in).
    let ours_at = steps.iter().position(|(p, _)| *p == ours);
    for (path, value) in steps.iter().skip(ours_at.map_or(0, |i| i + 1)) {
        if !has(value) {
            return Ok(Verdict::Dropped {
                path: path.clone(),
                value: value.clone(),
            });
        }
    }
    match steps.last() {
        Some((_, v)) if has(v) => Ok(Verdict::Kept),
        // Ours did not put it in: our own text is at fault (a bug, said as such).
        _ => Ok(Verdict::Dropped {
            path: ours,
            value: steps.last().map(|(_, v)| v.clone()).unwrap_or_default(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(tag: &str, files: &[(&str, &str)]) -> testsupport::Scratch {
        let r = testsupport::Scratch::new(&format!("memmap-config-{tag}"));
        std::fs::create_dir_all(r.join("etc/default/grub.d")).unwrap();
        for (name, text) in files {
            std::fs::write(r.join(name), text).unwrap();
        }
        r
    }

    const ARG: &str = "memmap=512M!4480M";

    fn ours() -> String {
        crate::dropin::text(ARG)
    }

    /// Every way of dropping the value issue 28 found, which a reading of the text missed:
    /// evaluated, each is caught, naming its file.
    #[test]
    fn every_reset_is_caught_by_evaluating() {
        for (tag, later) in [
            (
                "comment",
                "GRUB_CMDLINE_LINUX=\"console=ttyS0\" # was $GRUB_CMDLINE_LINUX\n",
            ),
            (
                "condition",
                "[ -e /nonexistent ] || GRUB_CMDLINE_LINUX=\"quiet\"\n",
            ),
            (
                "single-quotes",
                "GRUB_CMDLINE_LINUX='$GRUB_CMDLINE_LINUX quiet'\n",
            ),
            ("unset", "unset GRUB_CMDLINE_LINUX\n"),
        ] {
            let r = root(
                tag,
                &[
                    ("etc/default/grub", "GRUB_CMDLINE_LINUX=\"ro\"\n"),
                    ("etc/default/grub.d/99-local.cfg", later),
                ],
            );
            let v = check(&r, &ours(), ARG).unwrap();
            let Verdict::Dropped { path, .. } = &v else {
                panic!("{tag}: {v:?}")
            };
            assert!(path.ends_with("99-local.cfg"), "{tag}: {v:?}");
        }
    }

    #[test]
    fn appending_and_earlier_resets_keep_it() {
        let r = root(
            "keep",
            &[
                ("etc/default/grub", "GRUB_CMDLINE_LINUX=\"ro\"\n"),
                (
                    "etc/default/grub.d/10-early.cfg",
                    "GRUB_CMDLINE_LINUX=\"nomodeset\"\n",
                ),
                (
                    "etc/default/grub.d/95-keeps.cfg",
                    "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet\"\necho chatty\n",
                ),
                (
                    "etc/default/grub.d/.99-hidden.cfg",
                    "unset GRUB_CMDLINE_LINUX\n",
                ),
                (
                    "etc/default/grub.d/99-notes.txt",
                    "unset GRUB_CMDLINE_LINUX\n",
                ),
            ],
        );
        assert_eq!(check(&r, &ours(), ARG).unwrap(), Verdict::Kept);
    }

    /// A configuration grub-mkconfig itself would stop on (set -e) is said so, never read as
    /// fine; nothing is sourced from the caller's environment.
    #[test]
    fn a_failing_configuration_is_reported() {
        let r = root(
            "fails",
            &[
                ("etc/default/grub", "GRUB_CMDLINE_LINUX=\"ro\"\n"),
                ("etc/default/grub.d/95-broken.cfg", "false\n"),
            ],
        );
        let v = check(&r, &ours(), ARG).unwrap();
        let Verdict::Stopped { at, why } = &v else {
            panic!("{v:?}")
        };
        assert!(at.ends_with("95-broken.cfg"), "{v:?}");
        assert!(why.contains("status 1"), "{v:?}");
    }
}
