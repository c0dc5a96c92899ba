//! What `/sys/bus/cxl` holds, as plain data: memory devices (by serial), their endpoint
//! decoders, the root decoders (CXL windows) and the regions.

use std::path::PathBuf;
use uuid::Uuid;

/// Everything of the CXL bus pmemtab uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cxl {
    /// By name (`mem0`, `mem1`, ...; names change between boots, serials do not).
    pub memdevs: Vec<Memdev>,
    pub root_decoders: Vec<RootDecoder>,
    pub regions: Vec<Region>,
}

/// A CXL type-3 memory device (`memX`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Memdev {
    pub name: String,
    /// PCIe device serial number: what pmemtab's `serial=` names.
    pub serial: u64,
    /// The PCI device it sits on (`0000:0d:00.0`), as `cxl list` shows "host".
    pub host: Option<String>,
    pub ram_bytes: u64,
    pub pmem_bytes: u64,
    pub numa_node: Option<i32>,
    /// Its endpoint port (`endpoint3`), once cxl_mem and cxl_port enumerated it.
    pub endpoint: Option<String>,
    /// The host bridge it is reached through (the canonical path of that port's uport).
    pub host_bridge: Option<PathBuf>,
    /// The endpoint port's decoders, in decoder-number order (the kernel allocates in order).
    pub decoders: Vec<EndpointDecoder>,
}

/// What an endpoint decoder decodes (its `mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    Ram,
    Pmem,
    /// `none`, `mixed` or a mode this version does not know.
    Other(String),
}

impl Mode {
    pub fn parse(s: &str) -> Mode {
        match s {
            "ram" => Mode::Ram,
            "pmem" => Mode::Pmem,
            other => Mode::Other(other.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            Mode::Ram => "ram",
            Mode::Pmem => "pmem",
            Mode::Other(s) => s,
        }
    }
}

/// An endpoint decoder (`decoderM.N` under `endpointM`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointDecoder {
    pub name: String,
    pub mode: Mode,
    pub dpa_resource: Option<u64>,
    pub dpa_size: u64,
    /// The region it is a target of, if any.
    pub region: Option<String>,
    /// Committed by firmware and locked: cannot be changed.
    pub locked: bool,
}

impl EndpointDecoder {
    /// Free for a new region: no capacity allocated and no region.
    pub fn is_free(&self) -> bool {
        self.dpa_size == 0 && self.region.is_none() && !self.locked
    }
}

/// A root decoder (`decoderX.Y` under `rootX`): a CXL fixed memory window.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RootDecoder {
    pub name: String,
    pub cap_pmem: bool,
    pub cap_ram: bool,
    pub start: u64,
    pub size: u64,
    pub ways: u64,
    pub granularity: u64,
    /// The host bridges it targets (canonical paths of the root port's `dportN` links).
    pub targets: Vec<PathBuf>,
    pub qos_class: Option<i64>,
    /// The largest free stretch of its address space, as libcxl's max_available_extent.
    pub free: u64,
}

/// A region (`regionN` under its root decoder).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Region {
    pub name: String,
    /// The root decoder it was made under.
    pub root_decoder: String,
    /// `pmem` or `ram`, from the region's `mode` or its first target's.
    pub mode: Option<Mode>,
    pub uuid: Option<Uuid>,
    pub size: u64,
    pub resource: Option<u64>,
    pub ways: u64,
    pub granularity: u64,
    /// `targetN` in position order: endpoint decoder names, `None` where unset.
    pub targets: Vec<Option<String>>,
    pub committed: bool,
    /// Bound to the cxl_region driver (its nd region or dax region exists).
    pub bound: bool,
}

impl Cxl {
    /// The memory devices with this serial (more than one is a firmware fault).
    pub fn by_serial(&self, serial: u64) -> Vec<&Memdev> {
        self.memdevs.iter().filter(|m| m.serial == serial).collect()
    }

    /// The memory device an endpoint decoder belongs to.
    pub fn owner_of(&self, decoder: &str) -> Option<&Memdev> {
        self.memdevs
            .iter()
            .find(|m| m.decoders.iter().any(|d| d.name == decoder))
    }

    pub fn region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.name == name)
    }
}
