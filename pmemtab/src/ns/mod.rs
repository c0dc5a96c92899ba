//! Namespaces as the kernel shows them in sysfs: the model ([`model`]) and the only code that
//! reads libnvdimm's sysfs ([`scan`](mod@scan)).

pub mod model;
pub mod scan;

pub use model::*;
pub use scan::{scan, wait_probe_within};

use crate::tab::Layout;

/// The kernel modules that bring an entry's members: nd_pmem their block devices, and for
/// system-ram the dax drivers their dax devices (udev loads those by modalias, but late in a
/// busy boot).
pub fn member_modules(layout: Layout) -> &'static [&'static str] {
    if layout == Layout::SystemRam {
        &["nd_pmem", "dax_pmem", "device_dax"]
    } else {
        &["nd_pmem"]
    }
}
