//! Errors from reading the system (files the caller pointed us at).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a sysfs tree (it has no bus/ directory)", path.display())]
    NotSysfs { path: PathBuf },
    #[error("{}: {what}", path.display())]
    Empty { path: PathBuf, what: &'static str },
    #[error("{path}: unexpected content {content:?}: {what}")]
    Format {
        path: PathBuf,
        content: String,
        what: &'static str,
    },
}

impl Error {
    pub fn read(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Read {
            path: path.into(),
            source,
        }
    }
}
