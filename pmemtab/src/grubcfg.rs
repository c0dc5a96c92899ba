//! GRUB's configuration as grub-mkconfig reads it: the one rule for pmemtab-memmap (is our
//! `memmap=` still on the `linux` lines?) and for `pmem-assemble initramfs` (which `root=` will
//! the image boot with?). Not guessed from the files' text (a reset may hide behind a
//! condition, a comment, quotes or `unset`): the files are sourced as grub-mkconfig sources
//! them, by `/bin/sh` under `set -e`, `/etc/default/grub` first, then
//! `/etc/default/grub.d/*.cfg` in the C locale's order, optionally with a proposed drop-in's
//! text in its place, and the variables are read after each. The caller runs the command
//! (with a time limit of its own); this module builds it and reads what it printed.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::Command;

/// GRUB's configuration, under the root.
pub const GRUB_DEFAULT: &str = "etc/default/grub";
/// Its drop-in directory, under the root.
pub const GRUB_DROPINS: &str = "etc/default/grub.d";

/// The shell grub-mkconfig runs in (its `#! /bin/sh`).
pub const SHELL: &str = "/bin/sh";

/// The variable holding a proposed drop-in's text, for the script.
const PROPOSED: &str = "PMEMTAB_GRUB_PROPOSED";

/// grub-mkconfig's own lines (`set -e`, the two sourcing steps), each file's output sent to
/// stderr, and after each file its name, GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT,
/// NUL-terminated, on stdout. `$1` is the configuration directory (`/etc` under the root),
/// `$2` the proposed drop-in's path (its text in `$PMEMTAB_GRUB_PROPOSED`; empty for none);
/// the rest are the drop-ins in order.
const SCRIPT: &str = r#"set -e
sysconfdir=$1
proposed=$2
shift 2
if test -f "${sysconfdir}/default/grub"; then
  . "${sysconfdir}/default/grub" >&2
fi
printf '%s\0%s\0%s\0' "${sysconfdir}/default/grub" "${GRUB_CMDLINE_LINUX-}" "${GRUB_CMDLINE_LINUX_DEFAULT-}"
for x in "$@"; do
  if [ -n "$proposed" ] && [ "$x" = "$proposed" ]; then
    eval "$PMEMTAB_GRUB_PROPOSED" >&2
  elif [ -e "${x}" ]; then
    . "${x}" >&2
  fi
  printf '%s\0%s\0%s\0' "$x" "${GRUB_CMDLINE_LINUX-}" "${GRUB_CMDLINE_LINUX_DEFAULT-}"
done
"#;

/// Whether `root` has a GRUB configuration to evaluate.
pub fn has_grub(root: &Path) -> bool {
    root.join(GRUB_DEFAULT).is_file() || root.join(GRUB_DROPINS).is_dir()
}

/// A drop-in that is not on disk yet, evaluated in its place: its path and text.
pub struct Proposed<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

/// The command that evaluates the configuration under `root`, and the files it reads, in
/// order: `/etc/default/grub`, then the drop-ins.
pub struct Evaluation {
    pub command: Command,
    pub files: Vec<PathBuf>,
}

/// Builds the evaluation of the configuration under `root`, with `proposed` among the
/// drop-ins whether it exists yet or not. The shell gets a clean environment.
pub fn evaluation(root: &Path, proposed: Option<&Proposed>) -> std::io::Result<Evaluation> {
    let etc = root.join("etc");
    let mut files = vec![root.join(GRUB_DEFAULT)];
    files.extend(dropins(&root.join(GRUB_DROPINS), proposed.map(|p| p.path))?);
    let mut command = Command::new(SHELL);
    command
        .env_clear()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .env(PROPOSED, proposed.map_or("", |p| p.text))
        .arg("-c")
        .arg(SCRIPT)
        .arg("sh")
        .arg(&etc)
        .arg(proposed.map_or(Path::new(""), |p| p.path))
        .args(&files[1..]);
    Ok(Evaluation { command, files })
}

/// The drop-ins grub-mkconfig sources, in its order (`*.cfg`, no dotfile, byte order as the
/// C locale's glob sorts), with `proposed` among them whether it exists yet or not.
fn dropins(dir: &Path, proposed: Option<&Path>) -> std::io::Result<Vec<PathBuf>> {
    let mut names: Vec<OsString> = match std::fs::read_dir(dir) {
        Ok(list) => list
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    names.retain(|n| {
        let b = n.as_bytes();
        b.ends_with(b".cfg") && !b.starts_with(b".")
    });
    if let Some(own) = proposed.and_then(Path::file_name) {
        if !names.iter().any(|n| n == own) {
            names.push(own.to_os_string());
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names.into_iter().map(|n| dir.join(n)).collect())
}

/// The variables after one file was sourced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub file: PathBuf,
    pub linux: String,
    pub linux_default: String,
}

impl Step {
    /// What a `linux` line gets (grub-mkconfig's 10_linux: both, the default one for the
    /// normal entries).
    pub fn cmdline(&self) -> String {
        format!("{} {}", self.linux, self.linux_default)
    }
}

/// The steps the evaluation printed, one per file read whole.
pub fn steps(stdout: &[u8]) -> Vec<Step> {
    let mut fields = stdout.split(|&b| b == 0);
    let mut steps = Vec::new();
    while let (Some(file), Some(linux), Some(linux_default)) =
        (fields.next(), fields.next(), fields.next())
    {
        steps.push(Step {
            file: PathBuf::from(OsString::from_vec(file.to_vec())),
            linux: String::from_utf8_lossy(linux).into_owned(),
            linux_default: String::from_utf8_lossy(linux_default).into_owned(),
        });
    }
    steps
}

/// The last step when the evaluation ran to its end (exit 0, every file read), as
/// grub-mkconfig needs to write anything; `None` otherwise.
pub fn complete(evaluation: &Evaluation, status: Option<i32>, stdout: &[u8]) -> Option<Step> {
    let steps = steps(stdout);
    if status == Some(0) && steps.len() == evaluation.files.len() {
        steps.last().cloned()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(e: &mut Evaluation) -> (Option<i32>, Vec<u8>) {
        let out = e.command.output().unwrap();
        (out.status.code(), out.stdout)
    }

    /// /bin/sh sources a configuration with drop-ins in every form a user writes them.
    #[test]
    fn configuration_as_grub_mkconfig_reads_it() {
        let d = testsupport::Scratch::new("grubcfg");
        std::fs::create_dir_all(d.join(GRUB_DROPINS)).unwrap();
        std::fs::write(
            d.join(GRUB_DEFAULT),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX='root=/dev/mapper/x'\necho noise\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/default/grub.d/50-a.cfg"),
            "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX rootflags=dax\"\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/default/grub.d/60-b.cfg"),
            "true || GRUB_CMDLINE_LINUX=\nunset GRUB_CMDLINE_LINUX_DEFAULT\n",
        )
        .unwrap();
        std::fs::write(d.join("etc/default/grub.d/.70-hidden.cfg"), "exit 1\n").unwrap();
        std::fs::write(d.join("etc/default/grub.d/80-c.txt"), "exit 1\n").unwrap();
        assert!(has_grub(&d));
        let mut e = evaluation(&d, None).unwrap();
        assert_eq!(e.files.len(), 3);
        let (status, out) = run(&mut e);
        let last = complete(&e, status, &out).unwrap();
        assert_eq!(last.cmdline(), "root=/dev/mapper/x rootflags=dax ");
        let all = steps(&out);
        assert_eq!(all[0].linux_default, "quiet");
        assert_eq!(all[1].linux, "root=/dev/mapper/x rootflags=dax");
        assert!(!has_grub(&d.join("nothing")));
    }

    /// A proposed drop-in is evaluated in its place, in name order, without being written.
    #[test]
    fn proposed_dropin_in_its_place() {
        let d = testsupport::Scratch::new("grubcfg-proposed");
        std::fs::create_dir_all(d.join(GRUB_DROPINS)).unwrap();
        std::fs::write(d.join(GRUB_DEFAULT), "GRUB_CMDLINE_LINUX=a\n").unwrap();
        std::fs::write(
            d.join("etc/default/grub.d/90-z.cfg"),
            "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX z\"\n",
        )
        .unwrap();
        let ours = d.join("etc/default/grub.d/50-ours.cfg");
        let p = Proposed {
            path: &ours,
            text: "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX ours\"",
        };
        let mut e = evaluation(&d, Some(&p)).unwrap();
        let (status, out) = run(&mut e);
        assert_eq!(complete(&e, status, &out).unwrap().linux, "a ours z");
        assert!(!ours.exists());
    }

    /// A file that fails under `set -e` stops the evaluation, as it stops grub-mkconfig: no
    /// command line is taken from it.
    #[test]
    fn failing_file_is_no_result() {
        let d = testsupport::Scratch::new("grubcfg-fails");
        std::fs::create_dir_all(d.join(GRUB_DROPINS)).unwrap();
        std::fs::write(d.join(GRUB_DEFAULT), "GRUB_CMDLINE_LINUX=a\n").unwrap();
        std::fs::write(d.join("etc/default/grub.d/10-bad.cfg"), "false\n").unwrap();
        let mut e = evaluation(&d, None).unwrap();
        let (status, out) = run(&mut e);
        assert_eq!(steps(&out).len(), 1);
        assert_eq!(complete(&e, status, &out), None);
        assert_eq!(complete(&e, Some(0), b"cut short"), None);
    }
}
