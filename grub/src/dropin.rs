//! The boot loader side: which grub-mkconfig the system has and whether it reads
//! `/etc/default/grub.d/*.cfg`, and our drop-in there, written and removed. `/etc/default/grub`
//! itself is never opened for writing.

use pmemtab::memmap::arg::{self, Claim};
use std::fs;
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};

/// Our drop-in, under the root. 90: after the distribution's own drop-ins, so that one that
/// sets GRUB_CMDLINE_LINUX instead of appending cannot drop our argument.
pub const DROPIN: &str = "etc/default/grub.d/90-pmemtab.cfg";
/// The first line of every drop-in we write: a file without it is not ours and never touched.
pub const MARKER: &str = "# Written by pmemtab-memmap(8)";
/// Where grub-mkconfig is installed, under the root: Debian and Ubuntu, Fedora and RHEL
/// (grub2-mkconfig), Arch and upstream.
const MKCONFIG: [&str; 8] = [
    "usr/sbin/grub-mkconfig",
    "sbin/grub-mkconfig",
    "usr/bin/grub-mkconfig",
    "bin/grub-mkconfig",
    "usr/sbin/grub2-mkconfig",
    "sbin/grub2-mkconfig",
    "usr/bin/grub2-mkconfig",
    "bin/grub2-mkconfig",
];
/// What a grub-mkconfig that sources drop-ins contains (Debian's patch:
/// `for x in ${sysconfdir}/default/grub.d/*.cfg`).
const READS_DROPINS: &str = "/default/grub.d/";

/// The installed grub-mkconfig, as far as our argument is concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum Grub {
    /// It sources `/etc/default/grub.d/*.cfg`: the drop-in works.
    DropIns(PathBuf),
    /// It does not (Fedora, RHEL, Arch, upstream GRUB).
    NoDropIns(PathBuf),
    /// There is no grub-mkconfig under the root.
    Missing,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} exists and was not written by pmemtab-memmap (its first line is not '{MARKER}'): not touched", path.display())]
    NotOurs { path: PathBuf },
}

pub fn detect(root: &Path) -> Result<Grub, Error> {
    for rel in MKCONFIG {
        let path = root.join(rel);
        match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                return Ok(if text.contains(READS_DROPINS) {
                    Grub::DropIns(path)
                } else {
                    Grub::NoDropIns(path)
                });
            }
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::Read { path, source: e }),
        }
    }
    Ok(Grub::Missing)
}

/// The drop-in's text for the kernel argument `argument` (`memmap=...`).
///
/// grub-mkconfig sources it with sh after /etc/default/grub and copies GRUB_CMDLINE_LINUX into
/// every `linux` line, recovery entries included. `!` needs no escape in sh or in grub.cfg;
/// what the variable held before (a user's `\\\$` included) is expanded once and kept as is.
pub fn text(argument: &str) -> String {
    format!(
        "{MARKER}: legacy pmem emulated in RAM, its content lost at every cold boot.\n\
         # Remove with `pmemtab-memmap --remove`, then run update-grub (or grub-mkconfig).\n\
         GRUB_CMDLINE_LINUX=\"${{GRUB_CMDLINE_LINUX}} {argument}\"\n"
    )
}

/// Our drop-in as it is now: `None` when there is none; an error when the file is not ours
/// (its first bytes are not [`MARKER`], text or not).
pub fn current(root: &Path) -> Result<Option<String>, Error> {
    let path = root.join(DROPIN);
    match fs::read(&path) {
        // Not ours, whatever its bytes (text or not): never read further.
        Ok(bytes) if !bytes.starts_with(MARKER.as_bytes()) => Err(Error::NotOurs { path }),
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Read { path, source: e }),
    }
}

/// The `memmap=` claims our drop-in makes: on the running command line they are ours, not
/// someone else's, so a second run proposes the same ranges again.
pub fn claims(text: &str) -> Vec<Claim> {
    text.lines()
        .filter(|l| l.starts_with("GRUB_CMDLINE_LINUX="))
        .flat_map(|l| {
            let value = l
                .trim_start_matches("GRUB_CMDLINE_LINUX=")
                .trim_matches('"');
            arg::claims(value).0
        })
        .collect()
}

/// A drop-in that grub-mkconfig reads after ours and that sets GRUB_CMDLINE_LINUX without
/// keeping its value: our argument would be dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Reset {
    pub path: PathBuf,
    /// 1-based.
    pub line: usize,
}

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{} sets GRUB_CMDLINE_LINUX without ${{GRUB_CMDLINE_LINUX}}",
            self.path.display(),
            self.line
        )
    }
}

/// Whether `value` (what follows `GRUB_CMDLINE_LINUX=`) expands the variable's old value:
/// `$GRUB_CMDLINE_LINUX` not followed by a name character, or `${GRUB_CMDLINE_LINUX}` (or
/// `${GRUB_CMDLINE_LINUX:-...}` and the other `${NAME...}` forms).
fn keeps_value(value: &str) -> bool {
    const NAME: &str = "GRUB_CMDLINE_LINUX";
    value.match_indices('$').any(|(i, _)| {
        let rest = &value[i + 1..];
        if let Some(r) = rest.strip_prefix('{').and_then(|r| r.strip_prefix(NAME)) {
            return r.starts_with(['}', ':', '-', '+', '=', '?']);
        }
        rest.strip_prefix(NAME)
            .is_some_and(|r| !r.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The first line of a sh drop-in that assigns GRUB_CMDLINE_LINUX without its old value.
pub fn resets_cmdline(text: &str) -> Option<usize> {
    text.lines().enumerate().find_map(|(i, line)| {
        let l = line.trim_start();
        let l = l.strip_prefix("export ").map_or(l, str::trim_start);
        let value = l.strip_prefix("GRUB_CMDLINE_LINUX=")?;
        (!keeps_value(value)).then_some(i + 1)
    })
}

/// The drop-ins grub-mkconfig sources after ours (`*.cfg` sorted by name, as the C locale
/// sorts the shell's glob) that drop what ours appends.
pub fn later_resets(root: &Path) -> Result<Vec<Reset>, Error> {
    let ours = root.join(DROPIN);
    let dir = ours.parent().unwrap_or(root);
    let list = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::Read {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let our_name = ours.file_name().map(|n| n.as_encoded_bytes().to_vec());
    let mut later = Vec::new();
    for item in list {
        let item = item.map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = item.file_name();
        let bytes = name.as_encoded_bytes();
        if bytes.ends_with(b".cfg") && Some(bytes.to_vec()) > our_name {
            later.push(item.path());
        }
    }
    later.sort();
    let mut out = Vec::new();
    for path in later {
        // A directory or a dangling link named *.cfg: grub-mkconfig's `[ -e ]` or `.`
        // skips or fails on it; it sets nothing.
        if path.is_dir() {
            continue;
        }
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(source) => return Err(Error::Read { path, source }),
        };
        if let Some(line) = resets_cmdline(&String::from_utf8_lossy(&bytes)) {
            out.push(Reset { path, line });
        }
    }
    Ok(out)
}

/// What [`write`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    New,
    Replaced,
    Unchanged,
}

/// Writes the drop-in (atomically: a temporary file renamed over it), making grub.d if needed.
pub fn write(root: &Path, text: &str) -> Result<Written, Error> {
    let path = root.join(DROPIN);
    let before = current(root)?;
    if before.as_deref() == Some(text) {
        return Ok(Written::Unchanged);
    }
    let dir = path.parent().unwrap_or(root);
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Write { path: p, source }
    };
    fs::create_dir_all(dir).map_err(werr(dir))?;
    let tmp = dir.join(".90-pmemtab.cfg.tmp");
    let mut f = fs::File::create(&tmp).map_err(werr(&tmp))?;
    let done = f
        .write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(source) = done {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Write { path, source });
    }
    Ok(if before.is_some() {
        Written::Replaced
    } else {
        Written::New
    })
}

/// Removes our drop-in; `false` when there was none.
pub fn remove(root: &Path) -> Result<bool, Error> {
    let path = root.join(DROPIN);
    if current(root)?.is_none() {
        return Ok(false);
    }
    fs::remove_file(&path).map_err(|source| Error::Write { path, source })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmemtab::memmap::PhysRange;

    #[test]
    fn assignments_that_drop_the_old_value() {
        for keeps in [
            "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX} quiet\"",
            "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX quiet\"",
            "  export GRUB_CMDLINE_LINUX=\"quiet $GRUB_CMDLINE_LINUX\"",
            "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX:-} quiet\"",
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"",
            "# GRUB_CMDLINE_LINUX=\"quiet\"",
        ] {
            assert_eq!(resets_cmdline(keeps), None, "{keeps}");
        }
        for drops in [
            "GRUB_CMDLINE_LINUX=\"console=ttyS0\"",
            "GRUB_CMDLINE_LINUX=",
            "export GRUB_CMDLINE_LINUX='$GRUB_CMDLINE_LINUX_DEFAULT'",
            "GRUB_CMDLINE_LINUX=\"${GRUB_CMDLINE_LINUX_DEFAULT}\"",
        ] {
            assert_eq!(
                resets_cmdline(&format!("# x\n{drops}\n")),
                Some(2),
                "{drops}"
            );
        }
    }

    #[test]
    fn our_own_claims_are_read_back() {
        let t = text("memmap=512M!4480M,1G!6G");
        assert!(t.starts_with(MARKER));
        assert_eq!(
            claims(&t),
            vec![
                Claim::Pmem(PhysRange {
                    start: 4480 << 20,
                    end: 4992 << 20
                }),
                Claim::Pmem(PhysRange {
                    start: 6 << 30,
                    end: 7 << 30
                }),
            ]
        );
    }
}
