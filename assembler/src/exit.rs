//! The exit codes (the `cli` crate's, documented in pmem-assemble(8)), a step's failure and the
//! warning line. A command's error, said once by `main`, is the `error` module's.

pub use cli::exit::Exit;

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
}

/// Prints one warning line to stderr.
pub fn warning(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: warning: {msg}");
}
