//! Exit codes (documented in pmem-assemble(8)) and the one-line error reporter.

/// How a command ended. Worse outcomes have higher precedence when several entries fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok,
    /// pmemtab is invalid, or an entry cannot be built as declared (fix the file or namespaces).
    Config,
    /// Bad command line.
    Usage,
    /// The system failed an operation: device-mapper, mount, timeout, I/O.
    System,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Config => 1,
            Exit::Usage => 2,
            Exit::System => 3,
        }
    }
}

/// Prints one error line to stderr, prefixed like every message of this tool.
pub fn error(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: error: {msg}");
}

/// Prints one warning line to stderr.
pub fn warning(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: warning: {msg}");
}
