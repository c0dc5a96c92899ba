//! The only place that sleeps or waits for a child. Every wait ends by a [`Deadline`], which
//! comes from pmemtab::timeouts: for `up`, from the entry's phases, so that a wait added
//! anywhere is counted in the limits the generator writes (tests/waits.rs checks that no code
//! waits otherwise). Polling backs off from 10 ms to 100 ms so that a fast device is seen
//! quickly and a slow one costs little CPU. Not further: at boot the root's `up` waits here
//! for udev's /dev/mapper link, and what it finds late, the root's mount waits for (a 500 ms
//! ceiling was up to half a second on the stripe root's way; a look costs a stat or one sysfs
//! scan, issue 30).

pub use pmemtab::timeouts::Deadline;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

const FIRST_DELAY: Duration = Duration::from_millis(10);
const MAX_DELAY: Duration = Duration::from_millis(100);

/// Calls `probe` until it returns `Some` or `by` has passed (it is always called at least
/// once, and once more at the deadline).
pub fn poll<T>(by: Deadline, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
    retry(by, || probe().ok_or(())).ok()
}

/// Retries `step` while it fails; returns the first success or, at the deadline, the last error.
pub fn retry<T, E>(by: Deadline, mut step: impl FnMut() -> Result<T, E>) -> Result<T, E> {
    let mut delay = FIRST_DELAY;
    loop {
        let err = match step() {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let left = by.left();
        if left.is_zero() {
            return Err(err);
        }
        std::thread::sleep(delay.min(left));
        delay = delay.saturating_mul(2).min(MAX_DELAY);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot run {prog}: {source}")]
    Spawn {
        prog: String,
        source: std::io::Error,
    },
    #[error("{prog} did not finish within {secs}s and was killed")]
    Timeout { prog: String, secs: u64 },
}

/// Runs a program until `by` (stdin from /dev/null, output passed through); kills it when the
/// deadline passes.
pub fn run(cmd: &mut Command, by: Deadline) -> Result<ExitStatus, RunError> {
    finish(cmd, by).map(|(status, _)| status)
}

#[cfg(feature = "host")]
/// Output a program may print for [`output`]: a pipe's buffer, so that it never blocks
/// writing while we wait for it to exit.
const OUTPUT_MAX: u64 = 64 * 1024;

#[cfg(feature = "host")]
/// Runs a program until `by` like [`run`], its stdout captured (at most 64 KiB: more fills
/// the pipe, the program blocks and the deadline kills it).
pub fn output(cmd: &mut Command, by: Deadline) -> Result<(ExitStatus, Vec<u8>), RunError> {
    use std::io::Read;
    let (status, mut child) = finish(cmd.stdout(Stdio::piped()), by)?;
    let mut buf = Vec::new();
    if let Some(out) = child.stdout.take() {
        let _ = out.take(OUTPUT_MAX).read_to_end(&mut buf);
    }
    Ok((status, buf))
}

/// Spawns `cmd` and waits for it until `by`, killing it then.
fn finish(cmd: &mut Command, by: Deadline) -> Result<(ExitStatus, Child), RunError> {
    let timeout = by.left();
    let prog = cmd.get_program().to_string_lossy().into_owned();
    let mut child: Child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|source| RunError::Spawn {
            prog: prog.clone(),
            source,
        })?;
    match poll(by, || child.try_wait().ok().flatten()) {
        Some(s) => Ok((s, child)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Err(RunError::Timeout {
                prog,
                secs: timeout.as_secs(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    fn after(d: Duration) -> Deadline {
        Deadline::after(d)
    }

    #[test]
    fn the_longest_timeout_does_not_overflow() {
        assert_eq!(poll(after(Duration::MAX), || Some(7)), Some(7));
        let mut n = 0;
        let r: Result<(), ()> = retry(after(Duration::MAX), || {
            n += 1;
            if n < 3 {
                Err(())
            } else {
                Ok(())
            }
        });
        assert_eq!(r, Ok(()));
    }

    #[test]
    fn poll_returns_early_and_respects_the_deadline() {
        let mut n = 0;
        assert_eq!(
            poll(after(Duration::from_secs(5)), || {
                n += 1;
                (n == 3).then_some(n)
            }),
            Some(3)
        );

        let start = Instant::now();
        let mut calls = 0;
        assert_eq!(
            poll::<()>(after(Duration::from_millis(300)), || {
                calls += 1;
                None
            }),
            None
        );
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(800),
            "{took:?}"
        );
        // 10+20+40+80+100+50(clamped) ms: about 7 probes, not a busy loop.
        assert!((3..=10).contains(&calls), "{calls} probes");
    }

    #[test]
    fn what_appears_late_is_seen_within_the_ceiling() {
        // Ready at 700 ms: looks at 0, 10, 30, 70, 150, 250 ... 750 ms. With a 500 ms ceiling
        // the look after 630 ms came at 1130 ms.
        let start = Instant::now();
        let ready = Duration::from_millis(700);
        let seen = poll(after(Duration::from_secs(5)), || {
            (start.elapsed() >= ready).then_some(())
        });
        assert_eq!(seen, Some(()));
        let took = start.elapsed();
        assert!(took < Duration::from_millis(1000), "{took:?}");
    }

    #[test]
    fn retry_gives_the_last_error() {
        let mut n = 0;
        let r: Result<(), String> = retry(after(Duration::from_millis(50)), || {
            n += 1;
            Err(format!("try {n}"))
        });
        assert_eq!(r, Err(format!("try {n}")));
        assert!(n >= 2);
    }

    #[test]
    #[cfg(feature = "host")]
    fn output_captures_stdout() {
        let (status, out) = output(
            Command::new("sh").args(["-c", "printf 'a\\0b'"]),
            after(Duration::from_secs(5)),
        )
        .unwrap();
        assert!(status.success());
        assert_eq!(out, b"a\0b");
    }

    #[test]
    fn run_kills_a_hanging_program() {
        let start = Instant::now();
        let r = run(
            Command::new("sleep").arg("10"),
            after(Duration::from_millis(200)),
        );
        assert!(matches!(r, Err(RunError::Timeout { .. })), "{r:?}");
        assert!(start.elapsed() < Duration::from_secs(3));
        assert!(
            run(&mut Command::new("true"), after(Duration::from_secs(5)))
                .unwrap()
                .success()
        );
        assert!(matches!(
            run(
                &mut Command::new("/nonexistent/prog"),
                after(Duration::from_secs(1))
            ),
            Err(RunError::Spawn { .. })
        ));
    }
}
