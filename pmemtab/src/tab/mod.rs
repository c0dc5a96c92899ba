//! `/etc/pmemtab`: the model ([`model`]), its parser ([`parse`](mod@parse)) and the problems it
//! reports ([`diagnostic`]). The parser reads a line's columns (`columns`) one by one, each by
//! its rule (names: [`name`]; options: the table [`options`], checked by `options_column` and
//! given their meaning by `meaning`), then the rules across columns (`checks`) and across
//! lines (the clash index of duplicate names, members and mount points, `clash`); who may
//! write the file is `permission`'s.

mod checks;
mod clash;
mod columns;
pub mod diagnostic;
mod line;
mod meaning;
pub mod model;
pub mod mount_point;
pub mod name;
pub mod options;
mod options_column;
pub mod parse;
mod permission;
pub mod refused;

pub use clash::{clash, Clash, Entries};
pub use columns::ColumnError;
pub use diagnostic::{Diagnostic, Severity};
pub use model::*;
pub use mount_point::MountPoint;
pub use parse::{load, load_with, parse, parse_bytes, parse_bytes_with, Parsed, Vet};
pub use refused::Refused;

/// Where pmemtab lives unless told otherwise.
pub const DEFAULT_PATH: &str = "/etc/pmemtab";
