//! Writing to stdout and stderr without ever panicking (`println!` panics when stdout is a full
//! disk or a closed pipe), for pmem-assemble and pmemtab-memmap. What a failed write means is
//! decided once, at exit, by [`failed_write`]: a closed pipe (`list | head -1`) ends quietly
//! with the command's own status; any other failure (`check >/dev/full`) is one error line
//! and the binary's "system" exit status. A command is never cut short by its output: `up`
//! finishes (or rolls back) what it started either way.
//!
//! The macros [`outln!`](crate::outln), [`out!`](crate::out), [`errln!`](crate::errln) and
//! [`err!`](crate::err) stand for `println!`, `print!`, `eprintln!` and `eprint!`.

use std::fmt;
use std::io::{self, ErrorKind, Write};
use std::sync::Mutex;

/// The first stdout write error; later writes are skipped once one failed.
static STDOUT_ERROR: Mutex<Option<io::Error>> = Mutex::new(None);

fn failed() -> bool {
    STDOUT_ERROR.lock().is_ok_and(|g| g.is_some())
}

fn record(e: io::Error) {
    if let Ok(mut g) = STDOUT_ERROR.lock() {
        g.get_or_insert(e);
    }
}

/// Writes to stdout; a failure is remembered for [`failed_write`].
pub fn stdout(args: fmt::Arguments<'_>) {
    if failed() {
        return;
    }
    if let Err(e) = io::stdout().lock().write_fmt(args) {
        record(e);
    }
}

/// Writes to stderr. Its failures are ignored: there is nowhere left to report them.
pub fn stderr(args: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(args);
}

/// Flushes stdout; true when a write failed other than on a closed pipe, after saying so in
/// one line as `prog`. The caller turns that into its exit status.
pub fn failed_write(prog: &str) -> bool {
    if !failed() {
        if let Err(e) = io::stdout().lock().flush() {
            record(e);
        }
    }
    let Ok(g) = STDOUT_ERROR.lock() else {
        return false;
    };
    match g.as_ref() {
        None => false,
        Some(e) if e.kind() == ErrorKind::BrokenPipe => false,
        Some(e) => {
            stderr(format_args!(
                "{prog}: error: cannot write to standard output: {e}\n"
            ));
            true
        }
    }
}

/// `println!` that never panics.
#[macro_export]
macro_rules! outln {
    () => { $crate::out::stdout(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!` that never panics.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::out::stdout(format_args!($($arg)*)) };
}

/// `eprintln!` that never panics.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!` that never panics.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::out::stderr(format_args!($($arg)*)) };
}
