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

/// What [`write`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    New,
    Replaced,
    Unchanged,
}

/// The drop-in's mode: grub-mkconfig sources it as root, so only root may write it.
pub const FILE_MODE: u32 = 0o644;
/// grub.d's mode when we make it.
pub const DIR_MODE: u32 = 0o755;

/// A mode set right by [`write`]: (path, mode it had, mode it has).
pub type Repaired = (PathBuf, u32, u32);

fn mode_of(path: &Path) -> io::Result<u32> {
    use std::os::unix::fs::PermissionsExt;
    Ok(fs::metadata(path)?.permissions().mode() & 0o7777)
}

/// Sets `path` to `mode` when it has another, saying so in `repaired`.
fn set_mode(path: &Path, mode: u32, repaired: &mut Vec<Repaired>) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let was = mode_of(path)?;
    if was != mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        repaired.push((path.to_path_buf(), was, mode));
    }
    Ok(())
}

/// grub.d, made 0755 whatever the umask; one that exists keeps its mode, less the group's and
/// others' write bits: a file there is sourced by grub-mkconfig as root.
fn ensure_dir(dir: &Path, repaired: &mut Vec<Repaired>) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match fs::DirBuilder::new().mode(DIR_MODE).create(dir) {
        // The umask may have taken bits off: the mode is set, not left to it.
        Ok(()) => set_mode(dir, DIR_MODE, &mut Vec::new()),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => {
            let mode = mode_of(dir)?;
            set_mode(dir, mode & !0o022, repaired)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if let Some(parent) = dir.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::DirBuilder::new().mode(DIR_MODE).create(dir)?;
            set_mode(dir, DIR_MODE, &mut Vec::new())
        }
        Err(e) => Err(e),
    }
}

/// Writes the drop-in (atomically: a temporary file renamed over it), making grub.d if needed,
/// with the modes of [`FILE_MODE`] and [`DIR_MODE`] whatever the umask; a run that changes
/// nothing repairs them all the same. Returns the modes it set right.
pub fn write(root: &Path, text: &str) -> Result<(Written, Vec<Repaired>), Error> {
    let path = root.join(DROPIN);
    let before = current(root)?;
    let dir = path.parent().unwrap_or(root);
    let werr = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Error::Write { path: p, source }
    };
    let mut repaired = Vec::new();
    ensure_dir(dir, &mut repaired).map_err(werr(dir))?;
    if before.as_deref() == Some(text) {
        set_mode(&path, FILE_MODE, &mut repaired).map_err(werr(&path))?;
        return Ok((Written::Unchanged, repaired));
    }
    let tmp = dir.join(".90-pmemtab.cfg.tmp");
    let mut f = fs::File::create(&tmp).map_err(werr(&tmp))?;
    let done = f
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(FILE_MODE))
        .and_then(|()| f.write_all(text.as_bytes()))
        .and_then(|()| f.sync_all())
        .and_then(|()| fs::rename(&tmp, &path));
    if let Err(source) = done {
        let _ = fs::remove_file(&tmp);
        return Err(Error::Write { path, source });
    }
    let written = if before.is_some() {
        Written::Replaced
    } else {
        Written::New
    };
    Ok((written, repaired))
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
