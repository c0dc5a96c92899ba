//! The exit codes (the library's, documented in pmem-assemble(8)) and the one-line error
//! reporter.

pub use pmemtab::exit::Exit;

/// Why a step failed: the one line to print (it names the thing that failed) and the exit
/// status the command ends with.
#[derive(Debug)]
pub struct Failure {
    pub msg: String,
    pub exit: Exit,
}

impl Failure {
    /// Refused as written: pmemtab or the namespaces must change.
    pub fn refused(msg: String) -> Failure {
        Failure {
            msg,
            exit: Exit::Refused,
        }
    }

    /// The system failed the step.
    pub fn system(msg: String) -> Failure {
        Failure {
            msg,
            exit: Exit::System,
        }
    }

    /// The same failure, its line followed by `more` (what undoing it did).
    pub fn and(self, more: &str) -> Failure {
        Failure {
            msg: format!("{}{more}", self.msg),
            exit: self.exit,
        }
    }

    /// Says it in one error line after `at` (where: `pmemtab:LINE: name`); its exit status.
    pub fn report(self, at: &str) -> Exit {
        error(format_args!("{at}: {}", self.msg));
        self.exit
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
