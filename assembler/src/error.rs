//! Why a command failed: one value, said once by `main` on stderr, its exit status
//! (pmem-assemble(8), EXIT STATUS) derived from it. The steps below the commands keep their
//! own errors ([`Failure`], [`AssembleError`], the library's); a command gives them the
//! context the user needs (`pmemtab:LINE: name`, or the command) and returns this.

use crate::assemble::AssembleError;
use crate::exit::{Exit, Failure};
use pmemtab::tab::Diagnostic;
use std::path::PathBuf;

// The initramfs build has no host commands (import, initramfs, status, list, check).
#[cfg_attr(not(feature = "host"), allow(dead_code))]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line asks for none, or several, of things that exclude each other.
    #[error("{0}")]
    Usage(&'static str),
    /// `import --table FILE`: the names given and the table's lines do not go together.
    #[cfg(feature = "host")]
    #[error("import: {0}")]
    TableUsage(String),
    /// pmemtab cannot be read (the message names it).
    #[error("{0}")]
    Tab(pmemtab::Error),
    /// pmemtab exists but cannot be read: whether the initrd needs it cannot be told.
    #[cfg(feature = "host")]
    #[error("{source}; whether the initrd needs it cannot be told, so no image is built (the one in place is kept): make {} a readable file, or remove it", .tab.display())]
    InitrdTab {
        source: pmemtab::Error,
        tab: PathBuf,
    },
    /// The initrd image must not be built as it is, or pmemtab must not be removed: what
    /// stands in the way and what to do.
    #[cfg(feature = "host")]
    #[error("{0}")]
    Image(String),
    /// The nd namespaces cannot be listed.
    #[error("reading namespaces: {0}")]
    Namespaces(pmemtab::Error),
    /// The CXL bus cannot be read.
    #[error("{0}")]
    Cxl(pmemtab::Error),
    /// Names on the command line that no valid entry of `tab` has, each said on its line.
    #[error("{}", no_entry(.tab, .names))]
    NoEntry { tab: PathBuf, names: Vec<String> },
    /// Names on `status`'s command line that are not active, each said on its line.
    #[cfg(feature = "host")]
    #[error("{}", not_active(.0))]
    NotActive(Vec<String>),
    /// An entry the planner refuses: the reasons as the parser renders its errors, each
    /// pointing at the member in the entry's line of `tab`.
    #[error("{}", render(.tab, .diagnostics))]
    Refusal {
        tab: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// A step about the thing `at` names (`pmemtab:LINE: name`, a device, the command) failed;
    /// the failure says how, and whether the input or the system must change.
    #[error("{at}: {}", .failure.msg)]
    Step { at: String, failure: Failure },
    /// A device-mapper step about the thing `at` names failed.
    #[error("{at}: {source}")]
    Assemble {
        at: String,
        source: Box<AssembleError>,
    },
    /// An entry planned as another kind of device than its layout (the parser and the
    /// planner let no such entry through): nothing is done with it, and the status is the
    /// refusal's it always was.
    #[error("{0}")]
    Unplanned(Box<Unplanned>),
    /// What failed is said already, as it happened: a command over several entries says
    /// each entry's failure and goes on with the next; `check`, `import` and `initramfs`
    /// report every refused line. Nothing more to say; the worst status.
    #[error("")]
    Said(Exit),
}

/// [`Error::Unplanned`]'s facts, boxed: the rarest variant is the largest, and every
/// `Result<_, Error>` the commands move would be as large as it.
#[derive(Debug, thiserror::Error)]
#[error("{at}: the {layout} entry is planned as no {wanted}, so there is nothing to {action}; this is a bug in pmem-assemble: please report it with the output of `pmem-assemble check {name}`")]
pub struct Unplanned {
    pub at: String,
    pub name: String,
    pub layout: String,
    pub wanted: &'static str,
    pub action: &'static str,
}

impl Error {
    /// A step of `at` the system failed, for the errors that say themselves in a sentence.
    pub fn system(at: impl Into<String>, e: impl std::fmt::Display) -> Error {
        Error::system_dyn(at.into(), &e)
    }

    // The generic shims above stay a call: one body for every error type and `at` kind
    // (each instance inlined its own formatting into the boot binary).
    #[inline(never)]
    fn system_dyn(at: String, e: &dyn std::fmt::Display) -> Error {
        Error::step(at, Failure::system(e.to_string()))
    }

    #[inline(never)]
    fn step(at: String, failure: Failure) -> Error {
        Error::Step { at, failure }
    }

    /// A step of `at` refused as written.
    pub fn refused(at: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::step(at.into(), Failure::refused(msg.into()))
    }

    /// A device-mapper step of `at`.
    pub fn assemble(at: impl Into<String>, source: AssembleError) -> Error {
        Error::assemble_at(at.into(), source)
    }

    #[inline(never)]
    fn assemble_at(at: String, source: AssembleError) -> Error {
        Error::Assemble {
            at,
            source: Box::new(source),
        }
    }

    /// The exit status the command ends with.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Usage(_) => Exit::Usage,
            #[cfg(feature = "host")]
            Error::TableUsage(_) => Exit::Usage,
            Error::Tab(_) | Error::NoEntry { .. } | Error::Refusal { .. } | Error::Unplanned(_) => {
                Exit::Refused
            }
            #[cfg(feature = "host")]
            Error::InitrdTab { .. } | Error::Image(_) => Exit::Refused,
            Error::Namespaces(_) | Error::Cxl(_) => Exit::System,
            #[cfg(feature = "host")]
            Error::NotActive(_) => Exit::System,
            Error::Step { failure, .. } => failure.exit,
            Error::Assemble { source, .. } => match **source {
                AssembleError::Differs { .. } | AssembleError::Foreign { .. } => Exit::Refused,
                _ => Exit::System,
            },
            Error::Said(exit) => *exit,
        }
    }

    /// Says it on stderr: `pmem-assemble: error: ...` (a line for each name not found), a
    /// refusal as the parser's diagnostics, an active device's other table after its line.
    pub fn report(&self) {
        match self {
            Error::Said(_) => {}
            Error::Refusal { .. } => err!("{self}"),
            Error::NoEntry { tab, names } => {
                for n in names {
                    error(no_entry(tab, std::slice::from_ref(n)));
                }
            }
            #[cfg(feature = "host")]
            Error::NotActive(names) => {
                for n in names {
                    error(not_active(std::slice::from_ref(n)));
                }
            }
            Error::Assemble { source, .. } => {
                error(self);
                if let AssembleError::Differs { live, want, .. } = &**source {
                    err!("  live table:    {live}  planned table: {want}");
                }
            }
            _ => error(self),
        }
    }
}

impl Failure {
    /// The failure of a step of the thing `at` names.
    pub fn at(self, at: impl Into<String>) -> Error {
        Error::step(at.into(), self)
    }
}

fn no_entry(tab: &std::path::Path, names: &[String]) -> String {
    let lines: Vec<String> = names
        .iter()
        .map(|n| {
            format!(
                "{}: no valid entry named '{}'",
                tab.display(),
                pmemtab::text::escape_control(n)
            )
        })
        .collect();
    lines.join("\n")
}

#[cfg(feature = "host")]
fn not_active(names: &[String]) -> String {
    let lines: Vec<String> = names
        .iter()
        .map(|n| format!("{}: not active", pmemtab::text::escape_control(n)))
        .collect();
    lines.join("\n")
}

/// Each diagnostic as the parser renders it (several lines, each ending in a newline).
fn render(tab: &str, diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("{}\n", d.render(tab)))
        .collect()
}

/// One error line on stderr, prefixed like every message of this tool.
fn error(msg: impl std::fmt::Display) {
    errln!("pmem-assemble: error: {msg}");
}

/// The failures of a command over several items: each is said as it happens (the command
/// goes on with the next), and the command ends with the worst. One item's failure is the
/// command's own, said by `main`.
pub fn each<T>(
    items: impl IntoIterator<Item = T>,
    mut f: impl FnMut(T) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut items = items.into_iter().peekable();
    let mut worst = Exit::Ok;
    let mut first = true;
    while let Some(item) = items.next() {
        let result = f(item);
        if first && items.peek().is_none() {
            return result;
        }
        first = false;
        if let Err(e) = result {
            e.report();
            worst = worst.max(e.exit());
        }
    }
    if worst == Exit::Ok {
        Ok(())
    } else {
        Err(Error::Said(worst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails(exit: Exit) -> Result<(), Error> {
        match exit {
            Exit::Ok => Ok(()),
            Exit::Refused => Err(Error::refused("tab:1: a", "refused")),
            _ => Err(Error::system("tab:2: b", "failed")),
        }
    }

    #[test]
    fn one_item_s_failure_is_the_command_s() {
        let e = each([Exit::System], fails).unwrap_err();
        assert_eq!(e.to_string(), "tab:2: b: failed");
        assert_eq!(e.exit(), Exit::System);
        assert!(each([Exit::Ok], fails).is_ok());
        assert!(each(Vec::<Exit>::new(), fails).is_ok());
    }

    #[test]
    fn several_items_end_with_the_worst_each_said() {
        let mut seen = Vec::new();
        let e = each([Exit::System, Exit::Ok, Exit::Refused], |x| {
            seen.push(x);
            fails(x)
        })
        .unwrap_err();
        // Every item is tried, whatever failed before it.
        assert_eq!(seen, [Exit::System, Exit::Ok, Exit::Refused]);
        assert!(matches!(e, Error::Said(Exit::System)), "{e:?}");
        assert_eq!(e.exit(), Exit::System);
        assert!(each([Exit::Ok, Exit::Ok], fails).is_ok());
    }
}
