//! The pmemtab core shared by `pmem-assemble` and `pmemtab-generator`.
//!
//! Data flows one way: [`tab`] parses `/etc/pmemtab` into plain [`tab::Entry`] values,
//! [`ns`] reads namespaces from a sysfs root, [`plan`] combines both into a device plan
//! (pure functions), and [`dmtable`] renders the device-mapper table. Nothing here writes to
//! the system; the only I/O is reading the files and directories a caller names.

pub mod cmdline;
pub mod cxl;
pub mod devnum;
pub mod dmtable;
pub mod error;
pub mod exit;
pub mod geometry;
pub mod grubcfg;
pub mod import;
pub mod initrd;
pub mod interleave;
pub mod kmem;
pub mod memmap;
pub mod mountinfo;
pub mod ns;
pub mod numa;
pub mod out;
pub mod paths;
pub mod plan;
pub mod size;
pub mod sysfs;
pub mod systemd;
pub mod tab;
pub mod text;
pub mod timeouts;
pub mod timespan;
pub mod units;

pub use error::Error;
