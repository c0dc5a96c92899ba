//! The KMEM nodes for applications: after a system-ram entry is up, `<run>/pmemtab/kmem/
//! NAME.env` holds `MEMKIND_DAX_KMEM_NODES=` with the nodes it onlined, and
//! `<run>/pmemtab/kmem.env` the nodes of every such entry (absent when none is up). Each file
//! is written under a temporary name and renamed, so a reader sees the old or the new one.
//! The text is pmemtab::numa's.

use nix::fcntl::{Flock, FlockArg};
use pmemtab::numa;
use pmemtab::paths;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Publishes `nodes` for entry `name` (or, with `None`, withdraws it), then rewrites the
/// combined file. Returns the combined file's nodes.
pub fn kmem_nodes(run: &Path, name: &str, nodes: Option<&[i32]>) -> io::Result<Vec<i32>> {
    let dir = run.join(paths::KMEM_ENV_DIR);
    fs::create_dir_all(&dir)?;
    // Two entries published at once must not lose each other's nodes in the combined file.
    let lock = fs::File::create(dir.join(".lock"))?;
    let _held = Flock::lock(lock, FlockArg::LockExclusive).map_err(|(_, e)| io::Error::from(e))?;
    let own = paths::kmem_env(run, name);
    match nodes {
        Some(n) => replace(&own, &numa::env_text(n.iter().copied()))?,
        None => remove(&own)?,
    }
    let mut all = Vec::new();
    for e in fs::read_dir(&dir)? {
        let path = e?.path();
        if path.extension().is_some_and(|x| x == "env") {
            if let Some(n) = fs::read_to_string(&path)
                .ok()
                .and_then(|t| numa::env_nodes(&t))
            {
                all.extend(n);
            }
        }
    }
    all.sort_unstable();
    all.dedup();
    let combined = run.join(paths::KMEM_ENV);
    if all.is_empty() {
        remove(&combined)?;
    } else {
        replace(&combined, &numa::env_text(all.iter().copied()))?;
    }
    Ok(all)
}

fn replace(path: &Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push("~new");
    let tmp = Path::new(&tmp);
    let written = fs::File::create(tmp).and_then(|mut f| f.write_all(text.as_bytes()));
    let done = written.and_then(|()| fs::rename(tmp, path));
    if done.is_err() {
        let _ = fs::remove_file(tmp);
    }
    done
}

fn remove(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use testsupport::Scratch;

    #[test]
    fn entries_publish_and_withdraw_their_nodes() {
        let s = Scratch::new("publish");
        let run = s.path();
        let read = |rel: &str| fs::read_to_string(run.join(rel)).ok();
        assert_eq!(kmem_nodes(run, "ram", Some(&[2])).ok(), Some(vec![2]));
        assert_eq!(
            kmem_nodes(run, "more", Some(&[3, 1])).ok(),
            Some(vec![1, 2, 3])
        );
        assert_eq!(
            read("pmemtab/kmem/ram.env").as_deref(),
            Some("MEMKIND_DAX_KMEM_NODES=2\n")
        );
        assert_eq!(
            read("pmemtab/kmem/more.env").as_deref(),
            Some("MEMKIND_DAX_KMEM_NODES=1,3\n")
        );
        assert_eq!(
            read("pmemtab/kmem.env").as_deref(),
            Some("MEMKIND_DAX_KMEM_NODES=1,2,3\n")
        );
        assert_eq!(kmem_nodes(run, "more", None).ok(), Some(vec![2]));
        assert_eq!(read("pmemtab/kmem/more.env"), None);
        assert_eq!(
            read("pmemtab/kmem.env").as_deref(),
            Some("MEMKIND_DAX_KMEM_NODES=2\n")
        );
        // Withdrawn twice is fine; the last one takes the combined file with it.
        assert_eq!(kmem_nodes(run, "more", None).ok(), Some(vec![2]));
        assert_eq!(kmem_nodes(run, "ram", None).ok(), Some(vec![]));
        assert_eq!(read("pmemtab/kmem.env"), None);
        let left: Vec<_> = fs::read_dir(run.join("pmemtab/kmem"))
            .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(
            left,
            vec![std::ffi::OsString::from(".lock")],
            "no temp file left"
        );
    }
}
