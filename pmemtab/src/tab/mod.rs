//! `/etc/pmemtab`: the model ([`model`]) and its parser ([`parse`](mod@parse)).

pub mod model;
pub mod name;
pub mod options;
pub mod parse;

pub use model::*;
pub use parse::{load, parse, parse_bytes, Diagnostic, Parsed, Severity};

/// Where pmemtab lives unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/pmemtab";
