//! The exit codes (the `cli` crate's, documented in pmemtab-memmap(8)) and the one-line error
//! reporter.

pub use cli::exit::Exit;

/// One error line on stderr.
pub fn error(msg: impl std::fmt::Display) {
    errln!("pmemtab-memmap: error: {msg}");
}

/// One warning line on stderr.
pub fn warning(msg: impl std::fmt::Display) {
    errln!("pmemtab-memmap: warning: {msg}");
}

/// One note line on stderr: a choice the run made that the user should know about.
pub fn note(msg: impl std::fmt::Display) {
    errln!("pmemtab-memmap: note: {msg}");
}
