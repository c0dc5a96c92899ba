//! CXL type-3 memory: the devices, decoders and regions of `/sys/bus/cxl` ([`model`], read by
//! [`scan`]) and the pure plan of a region: recognised, created by these steps, or refused
//! ([`plan`]). The geometry rules both the parser and the plan obey are
//! [`crate::interleave`]'s.

pub mod model;
pub mod plan;
pub mod scan;
