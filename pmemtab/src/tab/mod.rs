//! `/etc/pmemtab`: the model ([`model`]), its parser ([`parse`](mod@parse)) and the problems it
//! reports ([`diagnostic`]). The parser's helpers that are not grammar have modules of their
//! own: the clash index (duplicate names, members and mount points, `clash`) and the check of
//! who may write the file (`permission`).

mod clash;
mod columns;
pub mod diagnostic;
mod line;
pub mod model;
pub mod name;
pub mod options;
pub mod parse;
mod permission;

pub use clash::{clash, Clash};
pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
pub use parse::{load, parse, parse_bytes, Parsed};

/// Where pmemtab lives unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/pmemtab";
