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

/// Our drop-in as it is now: `None` when there is none; an error when the file is not ours.
pub fn current(root: &Path) -> Result<Option<String>, Error> {
    let path = root.join(DROPIN);
    match fs::read_to_string(&path) {
        Ok(text) if text.starts_with(MARKER) => Ok(Some(text)),
        Ok(_) => Err(Error::NotOurs { path }),
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
    use pmemtab::memmap::Span;

    #[test]
    fn our_own_claims_are_read_back() {
        let t = text("memmap=512M!4480M,1G!6G");
        assert!(t.starts_with(MARKER));
        assert_eq!(
            claims(&t),
            vec![
                Claim::Pmem(Span {
                    start: 4480 << 20,
                    end: 4992 << 20
                }),
                Claim::Pmem(Span {
                    start: 6 << 30,
                    end: 7 << 30
                }),
            ]
        );
    }
}
