//! One libnvdimm namespace, with the identity a user sees in `ndctl list`.

use crate::devnum::DevNum;
use std::fmt;
use uuid::Uuid;

/// ndctl's mode names (sysfs says memory/dax/safe/raw).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Fsdax,
    Devdax,
    Sector,
    Raw,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Fsdax => "fsdax",
            Mode::Devdax => "devdax",
            Mode::Sector => "sector",
            Mode::Raw => "raw",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A namespace and the device that claims it (pfn for fsdax, dax for devdax, btt for sector).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// `namespace1.0`
    pub dev: String,
    /// `region1`
    pub region: String,
    /// The bus provider (`ACPI.NFIT`, `e820`), when known.
    pub provider: Option<String>,
    pub mode: Mode,
    /// A legacy (label-less, nstype 4) namespace: an e820/memmap= region. It has no uuid; its
    /// identity is its physical address.
    pub legacy: bool,
    /// False for idle seed namespaces (size 0, no driver): listed by ndctl -i, never usable.
    pub active: bool,
    /// As `ndctl list` "uuid": the pfn/dax/btt device's uuid when claimed, else the
    /// namespace's own.
    pub uuid: Option<Uuid>,
    /// As `ndctl list` "raw_uuid": the namespace's own uuid, shown only when claimed.
    pub raw_uuid: Option<Uuid>,
    /// ndctl `--name` (`alt_name`).
    pub name: Option<String>,
    /// Block device name (`pmem1`, `pmem2.1`, `pmem4s`); none for devdax.
    pub blockdev: Option<String>,
    /// MAJ:MIN of the block device.
    pub devnum: Option<DevNum>,
    /// Character device of a devdax namespace (`dax3.0`).
    pub chardev: Option<String>,
    /// Usable bytes: the block device's size (after pfn/btt metadata) or the dax device's.
    pub size: u64,
    /// Physical start of the namespace (`resource`), as /proc/iomem shows it; `addr=` matches this.
    pub resource: Option<u64>,
    /// Physical address of the first usable byte (pfn/dax `resource`, else the namespace's);
    /// none in sector mode, where the btt remaps every block.
    pub data_start: Option<u64>,
    /// The block device can do DAX (`queue/dax` = 1).
    pub dax: bool,
    pub numa_node: Option<i32>,
    pub target_node: Option<i32>,
    /// pfn/dax alignment in bytes.
    pub align: Option<u64>,
    /// Logical sector size (`sector_size` of a namespace, btt's for sector mode; 512 when the
    /// kernel has none chosen, as ndctl reports); none for devdax.
    pub sector_size: Option<u64>,
}

/// A pmemtab member and the namespace it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub member: crate::tab::Member,
    pub ns: Namespace,
}
