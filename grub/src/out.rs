//! Writing to stdout and stderr without ever panicking (`println!` panics when stdout is a full
//! disk or a closed pipe). What a failed write means is decided once, at exit, by [`finish`]:
//! a closed pipe (`pmemtab-memmap ... | head -1`) ends quietly with the run's own status; any
//! other failure (`>/dev/full`) is one error line and exit 3. A run is never cut short by its
//! output: a drop-in being written is finished either way. (The pattern of pmem-assemble's
//! out.rs.)

use crate::exit::Exit;
use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::sync::Mutex;

/// The first stdout write error; later writes are skipped once one failed.
static STDOUT_ERROR: Mutex<Option<(ErrorKind, String)>> = Mutex::new(None);

fn failed() -> Option<(ErrorKind, String)> {
    STDOUT_ERROR.lock().map(|g| g.clone()).unwrap_or(None)
}

fn record(e: &io::Error) {
    if let Ok(mut g) = STDOUT_ERROR.lock() {
        g.get_or_insert((e.kind(), e.to_string()));
    }
}

/// Writes to stdout; a failure is remembered for [`finish`].
pub fn stdout(args: fmt::Arguments<'_>) {
    if failed().is_some() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        record(&e);
    }
}

/// Writes to stderr. Its failures are ignored: there is nowhere left to report them.
pub fn stderr(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout and turns a failed write into the exit status (see the module comment).
pub fn finish(exit: Exit) -> Exit {
    if failed().is_none() {
        if let Err(e) = io::stdout().lock().flush() {
            record(&e);
        }
    }
    match failed() {
        None | Some((ErrorKind::BrokenPipe, _)) => exit,
        Some((_, what)) => {
            stderr(format_args!(
                "pmemtab-memmap: error: cannot write to standard output: {what}\n"
            ));
            exit.max(Exit::System)
        }
    }
}

/// `println!` that never panics.
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that never panics.
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics.
macro_rules! errln {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics.
macro_rules! err {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!($($arg)*)) };
}
