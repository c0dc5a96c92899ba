//! Exit codes (documented in pmemtab-memmap(8), the same as pmem-assemble's) and the one-line
//! error reporter.

/// How a run ended; a worse outcome has a higher value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Ok,
    /// Refused: the request does not fit, would go below the RAM floor, or the drop-in cannot
    /// be written (its file is not ours, or grub-mkconfig does not read drop-ins).
    Refused,
    /// Bad command line.
    Usage,
    /// Reading the map or writing the drop-in failed.
    System,
}

impl Exit {
    pub fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Refused => 1,
            Exit::Usage => 2,
            Exit::System => 3,
        }
    }
}

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
