//! One `up`, `down` or `mount` of a name at a time: an exclusive flock(2) on
//! `<run>/pmemtab/lock/<name>`. Two `up` started together (a boot unit and an admin) otherwise
//! raced DEV_CREATE and one failed with EBUSY; with the lock the second finds the device built
//! and changes nothing, and `up` racing `down` ends in one of the two clean states. The lock
//! goes with the process (a crash or power cut leaves no stale lock, only a file), and the
//! wait for it is bounded and names the holder, whose pid and command are in the file.

use crate::wait;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Relative to the run directory.
pub const LOCK_DIR: &str = "pmemtab/lock";

/// Held while alive.
pub struct Lock {
    _file: Flock<File>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot lock {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("another pmem-assemble ({holder}) has been working on it for more than {secs}s (lock {path}); let it finish, or stop it, then try again")]
    Timeout {
        path: PathBuf,
        holder: String,
        secs: u64,
    },
}

/// The lock file of a name: dm names may hold any byte but '/', and '%' escapes itself.
pub fn path(run: &Path, name: &str) -> PathBuf {
    let file = name.replace('%', "%25").replace('/', "%2f");
    run.join(LOCK_DIR).join(file)
}

/// Takes the lock of `name`, waiting until `by` for another holder; `what` (e.g. "up fast")
/// is recorded for whoever waits next.
pub fn acquire(run: &Path, name: &str, what: &str, by: wait::Deadline) -> Result<Lock, LockError> {
    let waited = by.left();
    let path = path(run, name);
    let io = |source| LockError::Io {
        path: path.clone(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = Some(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?,
    );
    let mut failure = None;
    let locked = wait::poll(by, || {
        let f = file.take()?;
        match Flock::lock(f, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => Some(locked),
            Err((f, errno)) => {
                if errno != nix::errno::Errno::EWOULDBLOCK {
                    failure = Some(std::io::Error::from(errno));
                    return None;
                }
                file = Some(f);
                None
            }
        }
    });
    if let Some(e) = failure {
        return Err(io(e));
    }
    let Some(mut locked) = locked else {
        let holder = file.as_mut().map(read_holder).unwrap_or_default();
        return Err(LockError::Timeout {
            path,
            holder,
            secs: waited.as_secs(),
        });
    };
    // Who holds it, for the next waiter's message; failing to say so is no reason to stop.
    let _ = locked.set_len(0).and_then(|()| {
        locked.rewind()?;
        write!(locked, "pid {} {what}", std::process::id())
    });
    Ok(Lock { _file: locked })
}

fn read_holder(f: &mut File) -> String {
    let mut s = String::new();
    let _ = f.rewind().and_then(|_| f.take(200).read_to_string(&mut s));
    let s = s.trim();
    if s.is_empty() {
        "pid unknown".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;
    use std::time::Instant;

    fn scratch(tag: &str) -> testsupport::Scratch {
        testsupport::Scratch::new(&format!("lock-{tag}"))
    }

    #[test]
    fn names_become_one_file_each() {
        let run = Path::new("/run");
        assert_eq!(path(run, "fast"), Path::new("/run/pmemtab/lock/fast"));
        assert_eq!(path(run, "a/b%"), Path::new("/run/pmemtab/lock/a%2fb%25"));
    }

    #[test]
    fn second_holder_waits_bounded_and_is_told_who_holds_it() {
        let run = scratch("wait");
        let held = acquire(&run, "s", "up s", wait::Deadline::after(Duration::ZERO)).unwrap();
        let start = Instant::now();
        let e = acquire(
            &run,
            "s",
            "down s",
            wait::Deadline::after(Duration::from_millis(300)),
        )
        .err()
        .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(300));
        assert!(start.elapsed() < Duration::from_secs(3));
        let msg = e.to_string();
        assert!(
            msg.contains(&format!(
                "another pmem-assemble (pid {} up s)",
                std::process::id()
            )),
            "{msg}"
        );
        // Another name is not blocked.
        assert!(acquire(&run, "t", "up t", wait::Deadline::after(Duration::ZERO)).is_ok());
        drop(held);
        assert!(acquire(&run, "s", "down s", wait::Deadline::after(Duration::ZERO)).is_ok());
    }

    #[test]
    fn waiter_gets_it_when_released() {
        let run = scratch("handover");
        let held = acquire(&run, "s", "up s", wait::Deadline::after(Duration::ZERO)).unwrap();
        let (tx, rx) = mpsc::channel();
        let r = run.to_path_buf();
        let waiter = std::thread::spawn(move || {
            let got = acquire(
                &r,
                "s",
                "up s",
                wait::Deadline::after(Duration::from_secs(10)),
            )
            .is_ok();
            tx.send(got).unwrap();
        });
        std::thread::sleep(Duration::from_millis(100));
        assert!(rx.try_recv().is_err(), "must wait while held");
        drop(held);
        assert!(rx.recv_timeout(Duration::from_secs(5)).unwrap());
        waiter.join().unwrap();
    }
}
