//! Device-mapper without libdevmapper: the ioctl ABI ([`ioctl`]) and the operations built on
//! it ([`control`]).

// The ioctl ABI needs raw pointers; the only module allowed unsafe code.
#![allow(unsafe_code)]

pub mod control;
pub mod ioctl;
