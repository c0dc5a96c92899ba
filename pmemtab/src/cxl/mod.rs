//! CXL type-3 memory: the devices, decoders and regions of `/sys/bus/cxl` ([`model`], read by
//! [`scan`]) and the pure plan of a region: recognised, created by these steps, or refused
//! ([`plan`]). The geometry rules both the parser and the plan obey are
//! [`crate::interleave`]'s.

pub mod import;
pub mod model;
pub mod plan;
pub mod scan;

use model::Mode;

/// What a CXL pmem region needs: the bus (cxl_acpi), the PCI driver, the port and memory
/// device drivers that enumerate the devices and their decoders, cxl_pmem that bridges the
/// region into libnvdimm, and nd_pmem for its namespaces' block devices (6.12's
/// Documentation/driver-api/cxl; cxl_core comes as their dependency).
pub const PMEM_MODULES: [&str; 6] = [
    "cxl_acpi", "cxl_pci", "cxl_port", "cxl_mem", "cxl_pmem", "nd_pmem",
];

/// What a CXL ram region needs: as for pmem, with dax_cxl (the region's dax device) and kmem
/// instead of the libnvdimm bridge.
pub const RAM_MODULES: [&str; 7] = [
    "cxl_acpi",
    "cxl_pci",
    "cxl_port",
    "cxl_mem",
    "dax_cxl",
    "device_dax",
    "kmem",
];

/// The modules a region of `mode` needs.
pub fn modules(mode: &Mode) -> &'static [&'static str] {
    if *mode == Mode::Ram {
        &RAM_MODULES
    } else {
        &PMEM_MODULES
    }
}
