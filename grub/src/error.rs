//! Why a run of pmemtab-memmap failed: one value, said once by `main` on stderr
//! (`pmemtab-memmap: error: ...`), its exit status (pmemtab-memmap(8)) derived from it.

use crate::exit::Exit;
use crate::{config, dropin, report};
use pmemtab::memmap::arg::COMMAND_LINE_SIZE;
use pmemtab::memmap::ranges::{Request, Unfit};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("--remove takes no --write or --size")]
    RemoveWith,
    #[error("--size is required (or --remove)")]
    NoSize,
    /// `--size` or `--min-ram` is not a size in the kernel's syntax.
    #[error("--{option} {value:?}: expected a size as the kernel reads it (512M, 4G, 0x20000000)")]
    Size { option: &'static str, value: String },
    /// `--name` is not a name pmemtab takes.
    #[error("--name {name:?}: {message}{hint}")]
    Name {
        name: String,
        message: String,
        /// `; ` and the parser's hint, or nothing.
        hint: String,
    },
    /// `--mount` is not a mount point pmemtab takes.
    #[error("--mount {given:?}: {message}; give the directory to mount the entry on, such as /mnt/{name}")]
    MountPoint {
        given: String,
        message: String,
        name: String,
    },
    /// `--mount` is a system directory, which the printed entry's mkfs would wipe at every boot.
    #[error("--mount {given:?}: the printed entry formats its device at every boot (mkfs) and legacy pmem loses its content at every power-off, so {mount} cannot live there; give a directory such as /mnt/{name}")]
    SystemDir {
        given: String,
        mount: String,
        name: String,
    },
    /// The printed entry is one the pmemtab parser refuses (its diagnostic, in one line).
    #[error("--name/--mount: {0}")]
    Entry(String),
    /// The firmware memory map or the memory-block size could not be read.
    #[error(transparent)]
    Map(pmemtab::Error),
    #[error("cannot read {}: {source}", path.display())]
    Cmdline {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Reading, writing or removing the drop-in failed, or the file there is not ours.
    #[error(transparent)]
    DropIn(#[from] dropin::Error),
    /// Reading the GRUB configuration as grub-mkconfig does failed.
    #[error(transparent)]
    Config(config::Error),
    /// The request does not fit the machine (or is not one the rule takes).
    #[error("{}", report::refusal(.unfit, .req))]
    Unfit { unfit: Unfit, req: Request },
    /// The proposal would make the command line longer than the kernel keeps.
    #[error("refused: with {argument} the kernel command line would be {length} bytes, over the {} the kernel keeps (x86 COMMAND_LINE_SIZE {}: the rest is cut off); use fewer regions (--count) or shorten the command line ({})",  COMMAND_LINE_SIZE - 1, COMMAND_LINE_SIZE, .cmdline.display())]
    CommandLineTooLong {
        argument: String,
        length: usize,
        /// `<proc>/cmdline`.
        cmdline: PathBuf,
    },
    /// `--write`, but grub-mkconfig would not keep the argument (why, in a sentence).
    #[error("not written: {0}")]
    Dropped(String),
    /// `--write`, but this grub-mkconfig reads no drop-ins.
    #[error("not written: {} would not be read; use one of the commands above", .0.display())]
    NotRead(PathBuf),
}

impl Error {
    /// The exit status the run ends with (pmemtab-memmap(8), EXIT STATUS).
    pub fn exit(&self) -> Exit {
        match self {
            Error::RemoveWith
            | Error::NoSize
            | Error::Size { .. }
            | Error::Name { .. }
            | Error::MountPoint { .. }
            | Error::SystemDir { .. }
            | Error::Entry(_) => Exit::Usage,
            Error::Unfit { unfit, .. } => match unfit {
                Unfit::Size { .. } | Unfit::Count | Unfit::TooMany { .. } => Exit::Usage,
                _ => Exit::Refused,
            },
            Error::DropIn(dropin::Error::NotOurs { .. })
            | Error::CommandLineTooLong { .. }
            | Error::Dropped(_)
            | Error::NotRead(_) => Exit::Refused,
            Error::Map(_) | Error::Cmdline { .. } | Error::DropIn(_) | Error::Config(_) => {
                Exit::System
            }
        }
    }
}
