//! The pmemtab core shared by `pmem-assemble`, `pmemtab-generator` and `pmemtab-memmap`: the
//! model and the rules. Parsing a program's arguments and writing to stdout are the
//! binaries' (the `cli` crate).
//!
//! Data flows one way: [`tab`] parses `/etc/pmemtab` into plain [`tab::Entry`] values,
//! [`ns`] reads namespaces from a sysfs root, [`plan`] combines both into a device plan
//! (pure functions), and [`dmtable`] renders the device-mapper table. Nothing here writes to
//! the system; the only I/O is reading the files and directories a caller names.

// The pmemtab model and its parser.
pub mod tab;

// Reading the system, from a root directory the caller names.
pub mod cmdline;
pub mod grubcfg;
pub mod mountinfo;
pub mod ns;
pub mod sysfs;

// The rules, pure: what to build from an entry and what it has, and what limits it obeys.
pub mod geometry;
pub mod import;
pub mod initrd;
pub mod interleave;
pub mod kmem;
pub mod numa;
pub mod plan;
pub mod timeouts;

// Pipelines of their own (model, reading, rules): CXL regions, and memmap= chosen from the
// firmware map.
pub mod cxl;
pub mod memmap;

// What the kernel and systemd are given: tables, unit names, shared paths.
pub mod dmtable;
pub mod paths;
pub mod systemd;

// Values and their text: sizes, time spans, device numbers, text shown to people.
pub mod devnum;
pub mod size;
pub mod text;
pub mod timespan;
pub mod units;

pub mod error;

pub use error::Error;
