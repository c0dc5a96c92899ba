//! `<run>/pmemtab/by-name/<name>`: the stable path of a `single` entry's block device.
//!
//! The generator's mount unit for a `single` entry mounts this link (no udev link covers members
//! named by `name=`, `addr=` or a raw uuid), so `up` makes it and `down` removes it. Only
//! symbolic links are ever replaced or removed: anything else at that path is someone else's.

use pmemtab::paths::{by_name_link, BY_NAME_DIR};
use pmemtab::tab::name::Name;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("{0} exists and is not a symbolic link; pmem-assemble replaces only its own links: move it away")]
    NotSymlink(PathBuf),
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("cannot remove {path}: {source}")]
    Remove { path: PathBuf, source: io::Error },
}

/// What [`ensure`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Linked {
    Created,
    /// A link to somewhere else (an earlier boot's block device) was replaced.
    Replaced {
        was: PathBuf,
    },
    /// Already pointing at the target: nothing changed.
    Unchanged,
}

/// What [`remove`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Unlinked {
    Removed,
    Absent,
    /// Something that is not a symbolic link is there; it was left alone.
    NotSymlink,
}

/// The path of an entry's link. A [`Name`] holds no `/` and is never `.` or `..`, so the
/// link stays in its directory whoever gave the name.
pub fn path(run: &Path, name: &Name) -> PathBuf {
    by_name_link(run, name)
}

/// Creates the directories below `run` that are missing, with mode 0755 whatever the umask.
fn make_dirs(run: &Path) -> Result<PathBuf, LinkError> {
    let mut dir = run.to_path_buf();
    for part in Path::new(BY_NAME_DIR).components() {
        dir.push(part);
        match std::fs::create_dir(&dir) {
            Ok(()) => std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))
                .map_err(|source| LinkError::Create {
                    path: dir.clone(),
                    source,
                })?,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(source) => return Err(LinkError::Create { path: dir, source }),
        }
    }
    Ok(dir)
}

/// Makes `<run>/pmemtab/by-name/<name>` a symbolic link to `target` (an absolute path). A link
/// pointing elsewhere is replaced atomically (a new link under a temporary name, renamed over
/// it), so the path never dangles or vanishes in between.
pub fn ensure(run: &Path, name: &Name, target: &Path) -> Result<Linked, LinkError> {
    let link = path(run, name);
    let was = match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => {
            let old = std::fs::read_link(&link).map_err(|source| LinkError::Create {
                path: link.clone(),
                source,
            })?;
            if old == target {
                return Ok(Linked::Unchanged);
            }
            Some(old)
        }
        Ok(_) => return Err(LinkError::NotSymlink(link)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(source) => return Err(LinkError::Create { path: link, source }),
    };
    let dir = make_dirs(run)?;
    // '~' is not allowed in entry names, so the temporary name never is another entry's link.
    let tmp = dir.join(format!("{name}~new"));
    let create = |p: &Path| {
        std::os::unix::fs::symlink(target, p).map_err(|source| LinkError::Create {
            path: p.to_path_buf(),
            source,
        })
    };
    let _ = std::fs::remove_file(&tmp);
    create(&tmp)?;
    if let Err(source) = std::fs::rename(&tmp, &link) {
        let _ = std::fs::remove_file(&tmp);
        return Err(LinkError::Create { path: link, source });
    }
    Ok(match was {
        Some(was) => Linked::Replaced { was },
        None => Linked::Created,
    })
}

/// Removes the entry's link if it is a symbolic link; anything else is left in place.
pub fn remove(run: &Path, name: &Name) -> Result<Unlinked, LinkError> {
    let link = path(run, name);
    match std::fs::symlink_metadata(&link) {
        Ok(m) if m.file_type().is_symlink() => match std::fs::remove_file(&link) {
            Ok(()) => Ok(Unlinked::Removed),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Unlinked::Absent),
            Err(source) => Err(LinkError::Remove { path: link, source }),
        },
        Ok(_) => Ok(Unlinked::NotSymlink),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Unlinked::Absent),
        Err(source) => Err(LinkError::Remove { path: link, source }),
    }
}

/// The names that have a link (for `down --all`), sorted; leftover temporary links are not
/// names.
pub fn names(run: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(run.join(BY_NAME_DIR)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_symlink()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.contains('~'))
        .collect();
    out.sort();
    out
}

/// `dev` made absolute (a link target relative to the link's directory would be wrong).
pub fn absolute(dev: &Path) -> PathBuf {
    if dev.is_absolute() {
        return dev.to_path_buf();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(dev))
        .unwrap_or_else(|_| dev.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str) -> Name {
        Name::new(name).unwrap()
    }
    use std::os::unix::fs::MetadataExt;

    /// A scratch run dir, removed when the test ends (passing or not).
    fn run_root(tag: &str) -> testsupport::Scratch {
        testsupport::Scratch::new(&format!("links-{tag}"))
    }

    #[test]
    fn creates_dirs_0755_and_an_absolute_link() {
        let run = run_root("create");
        // A restrictive umask must not leak into the directories systemd's mount reads through.
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
        let r = ensure(&run, &n("solo"), Path::new("/dev/pmem0"));
        nix::sys::stat::umask(old);
        assert_eq!(r.unwrap(), Linked::Created);
        let link = run.join("pmemtab/by-name/solo");
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/dev/pmem0"));
        for d in ["pmemtab", "pmemtab/by-name"] {
            assert_eq!(
                std::fs::metadata(run.join(d)).unwrap().mode() & 0o777,
                0o755,
                "{d}"
            );
        }
        // Twice: nothing to do, no temporary link left over.
        assert_eq!(
            ensure(&run, &n("solo"), Path::new("/dev/pmem0")).unwrap(),
            Linked::Unchanged
        );
        assert_eq!(names(&run), vec!["solo".to_string()]);
        assert_eq!(
            std::fs::read_dir(run.join("pmemtab/by-name"))
                .unwrap()
                .count(),
            1
        );
    }

    #[test]
    fn stale_link_is_replaced() {
        let run = run_root("stale");
        std::fs::create_dir_all(run.join("pmemtab/by-name")).unwrap();
        let link = run.join("pmemtab/by-name/solo");
        std::os::unix::fs::symlink("/dev/pmem1", &link).unwrap();
        // A leftover temporary link from an interrupted run does not get in the way.
        std::os::unix::fs::symlink("/dev/pmem9", run.join("pmemtab/by-name/solo~new")).unwrap();
        assert_eq!(
            ensure(&run, &n("solo"), Path::new("/dev/pmem0")).unwrap(),
            Linked::Replaced {
                was: PathBuf::from("/dev/pmem1")
            }
        );
        assert_eq!(std::fs::read_link(&link).unwrap(), Path::new("/dev/pmem0"));
        assert!(!run.join("pmemtab/by-name/solo~new").exists());
    }

    #[test]
    fn anything_but_a_symlink_is_left_alone() {
        let run = run_root("foreign");
        std::fs::create_dir_all(run.join("pmemtab/by-name/adir")).unwrap();
        std::fs::write(run.join("pmemtab/by-name/afile"), "mine").unwrap();
        for name in ["adir", "afile"] {
            let e = ensure(&run, &n(name), Path::new("/dev/pmem0")).unwrap_err();
            assert!(matches!(e, LinkError::NotSymlink(_)), "{e}");
            assert!(
                e.to_string()
                    .contains(&format!("by-name/{name} exists and is not a symbolic link")),
                "{e}"
            );
            assert_eq!(remove(&run, &n(name)).unwrap(), Unlinked::NotSymlink);
        }
        assert_eq!(
            std::fs::read_to_string(run.join("pmemtab/by-name/afile")).unwrap(),
            "mine"
        );
        assert!(run.join("pmemtab/by-name/adir").is_dir());
        assert!(names(&run).is_empty());
    }

    #[test]
    fn remove_only_links() {
        let run = run_root("remove");
        assert_eq!(remove(&run, &n("solo")).unwrap(), Unlinked::Absent);
        ensure(&run, &n("solo"), Path::new("/dev/pmem0")).unwrap();
        ensure(&run, &n("other"), Path::new("/dev/pmem1")).unwrap();
        assert_eq!(names(&run), vec!["other".to_string(), "solo".to_string()]);
        assert_eq!(remove(&run, &n("solo")).unwrap(), Unlinked::Removed);
        assert!(std::fs::symlink_metadata(run.join("pmemtab/by-name/solo")).is_err());
        assert_eq!(remove(&run, &n("solo")).unwrap(), Unlinked::Absent);
        assert_eq!(names(&run), vec!["other".to_string()]);
    }

    #[test]
    fn names_cannot_escape_the_directory() {
        for bad in ["", ".", "..", "../x", "a/b"] {
            assert!(Name::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn relative_dev_root_becomes_absolute() {
        assert_eq!(absolute(Path::new("/dev")), Path::new("/dev"));
        let a = absolute(Path::new("dev"));
        assert!(a.is_absolute() && a.ends_with("dev"), "{}", a.display());
    }
}
