//! The exit codes (the library's, documented in pmem-assemble(8)) and the one-line error
//! reporter.

pub use pmemtab::exit::Exit;

/// Prints one error line to stderr, prefixed like every message of this tool.
pub fn error(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: error: {msg}");
}

/// Prints one warning line to stderr.
pub fn warning(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: warning: {msg}");
}
