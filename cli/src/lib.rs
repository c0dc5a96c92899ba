//! The plumbing pmem-assemble and pmemtab-memmap share as command-line programs, kept out of
//! the pmemtab library (which holds the model and the rules, and prints nothing): the command
//! line parsed through argh ([`exit::parse_args`]), the exit codes their man pages document
//! ([`exit::Exit`]), and stdout/stderr writes that never panic ([`out`] and its macros).

pub mod exit;
pub mod out;
