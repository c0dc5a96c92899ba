//! The only code that writes into the generator's output directory. Each entry's files and
//! links are written all or nothing: on a failure the ones already made are removed.

use pmemtab::units::Output;
use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("{path} already exists (written by another generator?)")]
    Exists { path: PathBuf },
}

/// What one `write` call created, removed again (in reverse order) if the call fails.
#[derive(Default)]
struct Undo {
    paths: Vec<PathBuf>,
    /// (relative, full) paths of directories made.
    dirs: Vec<(String, PathBuf)>,
}

impl Undo {
    fn run(self) {
        for p in self.paths.iter().rev() {
            let _ = fs::remove_file(p);
        }
        for (_, d) in self.dirs.iter().rev() {
            // Only empty directories go; another entry's links keep theirs.
            let _ = fs::remove_dir(d);
        }
    }
}

/// Writes into one output directory, remembering the directories it has made or found, so
/// that one the entries share (`local-fs.target.requires/` gets two links per mounted entry)
/// is made and checked once, not per link (bench/README.md, the generator's writes).
pub struct Writer {
    dir: PathBuf,
    /// Relative paths of directories known to exist.
    known_dirs: HashSet<String>,
}

impl Writer {
    pub fn new(dir: &Path) -> Writer {
        Writer {
            dir: dir.to_path_buf(),
            known_dirs: HashSet::new(),
        }
    }

    /// Makes the directory holding `rel` (one level: generator output is never deeper).
    fn ensure_parent(&mut self, rel: &str, undo: &mut Undo) -> Result<(), WriteError> {
        let Some((parent, _)) = rel.rsplit_once('/') else {
            return Ok(());
        };
        if self.known_dirs.contains(parent) {
            return Ok(());
        }
        let path = self.dir.join(parent);
        match fs::create_dir(&path) {
            Ok(()) => undo.dirs.push((parent.to_string(), path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(source) => return Err(WriteError::Create { path, source }),
        }
        self.known_dirs.insert(parent.to_string());
        Ok(())
    }

    fn write_one(&mut self, out: &Output, undo: &mut Undo) -> Result<(), WriteError> {
        for (rel, text) in &out.files {
            self.ensure_parent(rel, undo)?;
            let path = self.dir.join(rel);
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|source| {
                    if source.kind() == io::ErrorKind::AlreadyExists {
                        WriteError::Exists { path: path.clone() }
                    } else {
                        WriteError::Create {
                            path: path.clone(),
                            source,
                        }
                    }
                })?;
            undo.paths.push(path.clone());
            f.write_all(text.as_bytes())
                .map_err(|source| WriteError::Create {
                    path: path.clone(),
                    source,
                })?;
        }
        for (rel, target) in &out.links {
            self.ensure_parent(rel, undo)?;
            let path = self.dir.join(rel);
            match std::os::unix::fs::symlink(target, &path) {
                Ok(()) => undo.paths.push(path),
                // The same link made before (e.g. by another entry) is fine.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if fs::read_link(&path).ok().as_deref() != Some(Path::new(target)) {
                        return Err(WriteError::Exists { path });
                    }
                }
                Err(source) => return Err(WriteError::Create { path, source }),
            }
        }
        Ok(())
    }

    /// Writes `out`; on error nothing of `out` is left behind.
    pub fn write(&mut self, out: &Output) -> Result<(), WriteError> {
        let mut undo = Undo::default();
        let r = self.write_one(out, &mut undo);
        if r.is_err() {
            for (rel, _) in &undo.dirs {
                self.known_dirs.remove(rel);
            }
            undo.run();
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, out: &Output) -> Result<(), WriteError> {
        Writer::new(dir).write(out)
    }

    fn tmp(tag: &str) -> testsupport::Scratch {
        testsupport::Scratch::new(&format!("gen-write-{tag}"))
    }

    #[test]
    fn writes_files_and_links() {
        let d = tmp("ok");
        let out = Output {
            files: vec![
                ("a.service".into(), "x\n".into()),
                ("b.device.d/t.conf".into(), "y\n".into()),
            ],
            links: vec![("t.target.requires/a.service".into(), "../a.service".into())],
            ..Output::default()
        };
        write(&d, &out).unwrap();
        assert_eq!(
            fs::read_to_string(d.join("b.device.d/t.conf")).unwrap(),
            "y\n"
        );
        assert_eq!(
            fs::read_link(d.join("t.target.requires/a.service")).unwrap(),
            Path::new("../a.service")
        );
        // The same link again is accepted; a file again is not.
        write(
            &d,
            &Output {
                files: vec![],
                ..out.clone()
            },
        )
        .unwrap();
        assert!(matches!(
            write(
                &d,
                &Output {
                    files: vec![out.files[0].clone()],
                    links: vec![],
                    ..Output::default()
                }
            ),
            Err(WriteError::Exists { .. })
        ));
    }

    #[test]
    fn failure_leaves_nothing_behind() {
        let d = tmp("undo");
        fs::write(d.join("taken.mount"), "other\n").unwrap();
        let out = Output {
            files: vec![
                ("x.service".into(), "x\n".into()),
                ("taken.mount".into(), "mine\n".into()),
            ],
            ..Output::default()
        };
        assert!(write(
            &d,
            &Output {
                links: vec![("n.target.wants/x.service".into(), "../x.service".into())],
                ..out.clone()
            }
        )
        .is_err());
        let mut left: Vec<_> = fs::read_dir(&d)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["taken.mount"]);
        assert_eq!(
            fs::read_to_string(d.join("taken.mount")).unwrap(),
            "other\n"
        );
    }
}
