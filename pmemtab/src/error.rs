//! Errors from reading the system (files the caller pointed us at).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read {}: it is {kind}, and pmemtab must be a regular file (one line per device, see pmemtab(5))", crate::text::escape_path(path))]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("cannot read {}: it is larger than {} bytes, far more than any pmemtab; is it the right file?", crate::text::escape_path(path), max)]
    TooLarge { path: PathBuf, max: u64 },
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
