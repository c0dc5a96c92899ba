//! Namespaces as the kernel shows them in sysfs: the model ([`model`]) and the only code that
//! reads libnvdimm's sysfs ([`scan`](mod@scan)).

pub mod model;
pub mod scan;

pub use model::*;
pub use scan::{scan, wait_probe, wait_probe_within};
