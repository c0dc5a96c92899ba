//! The one context every command and the assemble code work under: the pmemtab file and the
//! system roots (sysfs, /dev, /run, /proc) as the command line gave them; tests point them at
//! fixture and scratch trees.

use std::path::PathBuf;

/// Paths every command reads from; tests point them at fixture trees.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub pmemtab: PathBuf,
    pub sysfs: PathBuf,
    pub dev: PathBuf,
    /// Normally /run: `pmemtab/by-name/` links and udev's control socket.
    pub run: PathBuf,
    /// Normally /proc: `self/mountinfo` and `cmdline`.
    pub proc: PathBuf,
}

impl Ctx {
    /// The prefix of every message about one entry: `path:line: name`.
    pub fn at(&self, line: usize, name: &str) -> String {
        format!("{}:{line}: {name}", self.pmemtab.display())
    }
}
