//! Device-mapper without libdevmapper: the ioctl ABI ([`ioctl`]) and the operations built on
//! it ([`control`]).

pub mod control;
pub mod ioctl;
