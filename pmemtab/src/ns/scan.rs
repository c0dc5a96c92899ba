//! sysfs root → namespaces. The only code that reads libnvdimm's sysfs.
//!
//! Shape of what is read (all under `<sysfs>/bus/nd/devices/`, symlinks into `devices/`):
//! `namespaceR.N` holds the namespace's own attributes; when a pfn (fsdax), dax (devdax) or
//! btt (sector) device claims it, its `holder` names that device, which carries the uuid users
//! see in `ndctl list`, the alignment and the physical start of the data. The block device sits
//! under the claiming device (`pfnR.N/block/pmemR`, `bttR.N/block/pmemRs`) or, unclaimed, under
//! the namespace itself; a devdax character device is a child of the dax device
//! (`daxR.N/daxR.M`). Values are reported the way `ndctl list -v` reports them, so a uuid, name
//! or size copied from ndctl into /etc/pmemtab matches.

use super::model::{Mode, Namespace};
use crate::devnum::DevNum;
use crate::error::Error;
use crate::size::SECTOR_BYTES;
use crate::sysfs::{self, parse_dec, parse_hex};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The kernel answers ENXIO when reading an attribute that has no value in the device's state
/// (`resource` of an empty seed namespace, `size`/`resource` of a disabled pfn or btt).
/// Linux uses 6 on every architecture.
const ENXIO: i32 = 6;

/// Lists every namespace under `sysfs` (normally `/sys`), idle seeds included, sorted by region
/// number then namespace number. A machine without libnvdimm (no `bus/nd`) has none; a
/// directory that is no sysfs at all (no `bus/`: a mistyped path) is an error, not an empty
/// machine.
pub fn scan(sysfs: &Path) -> Result<Vec<Namespace>, Error> {
    if !sysfs.join("bus").is_dir() {
        return Err(Error::NotSysfs {
            path: sysfs.to_path_buf(),
        });
    }
    let devices = sysfs.join("bus/nd/devices");
    let entries = match fs::read_dir(&devices) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::read(&devices, e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::read(&devices, e))?;
        // Kernel device names are ASCII; anything else is not a namespace.
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(id) = dev_id(&name, "namespace") {
            found.push((id, name));
        }
    }
    found.sort();
    found
        .into_iter()
        .map(|(id, name)| read_namespace(&devices, &name, id))
        .collect()
}

/// Reads every `ndbus*/wait_probe`, which blocks in the kernel until the bus has finished
/// probing (callers pass `timeouts::Wait::Probe`'s). Returns false if the kernel had not
/// answered for every bus within `limit` (the reads go on in a background thread that is left
/// behind); the scan that follows reports what matters.
pub fn wait_probe_within(sysfs: &Path, limit: Duration) -> bool {
    let devices = sysfs.join("bus/nd/devices");
    let Ok(entries) = fs::read_dir(&devices) else {
        return true;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with("ndbus"))
        })
        .map(|e| e.path().join("wait_probe"))
        .collect();
    if files.is_empty() {
        return true;
    }
    files.sort();
    let (done, settled) = mpsc::channel();
    // The read can block for as long as the kernel likes; a thread lets us stop waiting.
    let spawned = thread::Builder::new()
        .name("wait_probe".into())
        .spawn(move || {
            for f in &files {
                let _ = sysfs::read_bytes(f);
            }
            let _ = done.send(());
        });
    if spawned.is_err() {
        return false;
    }
    let deadline = Instant::now() + limit;
    settled
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .is_ok()
}

/// `<prefix>R.N` → (R, N), so that region10 sorts after region9.
fn dev_id(name: &str, prefix: &str) -> Option<(u32, u32)> {
    let (r, n) = name.strip_prefix(prefix)?.split_once('.')?;
    Some((parse_u32(r)?, parse_u32(n)?))
}

fn read_namespace(devices: &Path, dev: &str, id: (u32, u32)) -> Result<Namespace, Error> {
    let ns_dir = devices.join(dev);
    let mode_path = ns_dir.join("mode");
    let mode_text = required(&mode_path)?;
    let mode = parse_mode(&mode_text)
        .ok_or_else(|| format_error(&mode_path, &mode_text, "expected memory, dax, safe or raw"))?;
    let uuid_path = ns_dir.join("uuid");
    let own_uuid = optional_uuid(&uuid_path)?;
    // nstype 4 is ND_DEVICE_NAMESPACE_IO: no label area (memmap=, e820, label-less NVDIMM).
    let legacy = match optional_num(&ns_dir.join("nstype"), Num::Dec)? {
        Some(nstype) => nstype == 4,
        None => !exists(&uuid_path),
    };

    let holder_path = ns_dir.join("holder");
    let holder = optional_text(&holder_path)?.filter(|h| !h.is_empty());
    let claim = match holder {
        Some(h) if dev_name_ok(&h) => Some(devices.join(h)),
        Some(h) => {
            return Err(format_error(
                &holder_path,
                &h,
                "expected a device name like pfn1.1",
            ))
        }
        None => None,
    };
    // As ndctl_namespace_is_active(): the claiming device is bound to its driver, or, when
    // unclaimed, the namespace itself is. Seeds and disabled namespaces have no driver.
    let active = has_driver(claim.as_deref().unwrap_or(&ns_dir));

    let block_parent = match (mode, &claim) {
        (Mode::Devdax, _) => None,
        (_, Some(claim)) => Some(claim.as_path()),
        (_, None) => Some(ns_dir.as_path()),
    };
    let block = match block_parent {
        Some(parent) => read_block(parent)?,
        None => None,
    };
    let chardev = match (mode, &claim) {
        (Mode::Devdax, Some(claim)) => first_dax_child(claim)?,
        _ => None,
    };

    let ns_size = required_num(&ns_dir.join("size"), Num::Dec)?;
    let claim_num = |attr: &str, num: Num| match &claim {
        Some(c) => optional_num(&c.join(attr), num),
        None => Ok(None),
    };
    let claim_size = claim_num("size", Num::Dec)?;
    // What a user can store: the block device's capacity (after pfn/btt metadata); for devdax
    // the dax device's size; for a namespace with neither, its own size (0 for a seed).
    let size = match (&block, mode) {
        (Some(b), _) => b.bytes,
        (None, Mode::Devdax) => claim_size.unwrap_or(0),
        (None, _) => claim_size.unwrap_or(ns_size),
    };

    let resource = optional_num(&ns_dir.join("resource"), Num::Hex)?;
    let data_start = match (mode, &claim) {
        // A btt remaps every block: no byte of the device has a fixed physical address.
        (Mode::Sector, _) => None,
        (_, Some(_)) => claim_num("resource", Num::Hex)?,
        (_, None) => resource,
    };
    let align = match mode {
        Mode::Fsdax | Mode::Devdax => claim_num("align", Num::Dec)?,
        _ => None,
    };
    let sector_size = match (mode, &claim) {
        (Mode::Devdax, _) => None,
        (Mode::Sector, Some(c)) => optional_selected(&c.join("sector_size"))?,
        // The kernel gives 512-byte sectors to namespaces without a chosen size (old labels,
        // no label area), as ndctl reports.
        _ => Some(optional_selected(&ns_dir.join("sector_size"))?.unwrap_or(SECTOR_BYTES)),
    };

    // Node facts: the namespace's own attribute, else (kernels whose namespaces lack it) its
    // region's. A -1 is the kernel's answer (no node known), not a missing attribute.
    let region = region_of(&ns_dir).unwrap_or_else(|| format!("region{}", id.0));
    let region_dir = devices.join(&region);
    let node = |attr: &str| -> Result<Option<i32>, Error> {
        let own = ns_dir.join(attr);
        if exists(&own) {
            optional_node(&own)
        } else {
            optional_node(&region_dir.join(attr))
        }
    };
    let numa_node = node("numa_node")?;
    let target_node = node("target_node")?;

    let (uuid, raw_uuid) = match &claim {
        Some(c) => (optional_uuid(&c.join("uuid"))?, own_uuid),
        None => (own_uuid, None),
    };

    Ok(Namespace {
        dev: dev.to_owned(),
        region,
        provider: optional_text(&ns_dir.join("../../provider"))?.filter(|p| !p.is_empty()),
        mode,
        legacy,
        active,
        uuid,
        raw_uuid,
        name: optional_text(&ns_dir.join("alt_name"))?.filter(|n| !n.is_empty()),
        blockdev: block.as_ref().map(|b| b.name.clone()),
        devnum: block.as_ref().map(|b| b.devnum),
        chardev,
        size,
        resource,
        data_start,
        dax: block.as_ref().is_some_and(|b| b.dax),
        numa_node,
        target_node,
        align,
        sector_size,
    })
}

/// A block device as its sysfs directory describes it.
struct Block {
    name: String,
    devnum: DevNum,
    bytes: u64,
    dax: bool,
}

/// The block device under `<parent>/block/`, if the device is bound and has one.
fn read_block(parent: &Path) -> Result<Option<Block>, Error> {
    let dir = parent.join("block");
    let mut names = match fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .collect::<Vec<_>>(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(&dir, e)),
    };
    names.sort();
    // The kernel makes one disk per namespace; more would be a tree we do not understand.
    let Some(name) = names.into_iter().next() else {
        return Ok(None);
    };
    let bdir = dir.join(&name);
    // The kernel registers a disk's queue after the disk itself; until `queue/dax` is there
    // the disk is still being added (seen in an initrd while nd_pmem probes): not there yet.
    let Some(dax) = optional_num(&bdir.join("queue/dax"), Num::Flag)? else {
        return Ok(None);
    };
    let dax = dax == 1;
    let dev_path = bdir.join("dev");
    let dev_text = required(&dev_path)?;
    let devnum = parse_devnum(&dev_text)
        .ok_or_else(|| format_error(&dev_path, &dev_text, "expected MAJ:MIN"))?;
    // A block device's `size` counts 512-byte sectors whatever its logical block size.
    let size_path = bdir.join("size");
    let sectors = required_num(&size_path, Num::Dec)?;
    let bytes = sectors.checked_mul(SECTOR_BYTES).ok_or_else(|| {
        format_error(
            &size_path,
            &sectors.to_string(),
            "expected a sector count below 2^55",
        )
    })?;
    Ok(Some(Block {
        name,
        devnum,
        bytes,
        dax,
    }))
}

/// The first device-dax character device (`dax3.0`) of a dax device (`dax3.1`), as
/// daxctl_dev_get_first() picks it.
fn first_dax_child(claim: &Path) -> Result<Option<String>, Error> {
    let entries = match fs::read_dir(claim) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::read(claim, e)),
    };
    let mut children: Vec<((u32, u32), String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|n| Some((dev_id(&n, "dax")?, n)))
        .collect();
    children.sort();
    Ok(children.into_iter().next().map(|(_, n)| n))
}

/// `region1` from the namespace link's target (`.../ndbus1/region1/namespace1.0`).
fn region_of(ns_dir: &Path) -> Option<String> {
    let target = fs::read_link(ns_dir).ok()?;
    let region = target.parent()?.file_name()?.to_str()?;
    region.starts_with("region").then(|| region.to_owned())
}

/// Whether `dir` is bound to a driver. The link is tested itself, not followed: in a captured
/// tree it may point outside the capture.
fn has_driver(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join("driver")).is_ok()
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

/// A holder must name a sibling device, never a path.
fn dev_name_ok(name: &str) -> bool {
    !name.contains('/') && name != "." && name != ".."
}

// --- reading attributes --------------------------------------------------------------------

fn required(path: &Path) -> Result<String, Error> {
    sysfs::read_line(path).map_err(|e| Error::read(path, e))
}

/// None when the attribute does not exist or has no value in the device's current state.
fn optional_text(path: &Path) -> Result<Option<String>, Error> {
    match sysfs::read_line(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if absent(&e) => Ok(None),
        Err(e) => Err(Error::read(path, e)),
    }
}

fn absent(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(ENXIO)
}

fn format_error(path: &Path, content: &str, what: &'static str) -> Error {
    // Keep the one-line message readable even if the file holds a page of junk.
    let content: String = content.chars().take(80).collect();
    Error::Format {
        path: path.to_owned(),
        content,
        what,
    }
}

/// How a numeric attribute is written.
#[derive(Clone, Copy)]
enum Num {
    Dec,
    Hex,
    Flag,
}

impl Num {
    fn parse(self, s: &str) -> Option<u64> {
        match self {
            Num::Dec => parse_dec(s),
            Num::Hex => parse_hex(s),
            Num::Flag => parse_flag(s),
        }
    }
    fn expected(self) -> &'static str {
        match self {
            Num::Dec => "expected a decimal number",
            Num::Hex => "expected a hexadecimal address",
            Num::Flag => "expected 0 or 1",
        }
    }
}

fn required_num(path: &Path, num: Num) -> Result<u64, Error> {
    let text = required(path)?;
    num.parse(&text)
        .ok_or_else(|| format_error(path, &text, num.expected()))
}

fn optional_num(path: &Path, num: Num) -> Result<Option<u64>, Error> {
    match optional_text(path)? {
        None => Ok(None),
        Some(text) => num
            .parse(&text)
            .map(Some)
            .ok_or_else(|| format_error(path, &text, num.expected())),
    }
}

/// A uuid attribute: empty (idle seeds) and the nil uuid mean none.
fn optional_uuid(path: &Path) -> Result<Option<Uuid>, Error> {
    match optional_text(path)? {
        None => Ok(None),
        Some(text) => parse_uuid(&text).ok_or_else(|| format_error(path, &text, "expected a uuid")),
    }
}

/// `numa_node`/`target_node`: -1 means the platform gave none.
fn optional_node(path: &Path) -> Result<Option<i32>, Error> {
    match optional_text(path)? {
        None => Ok(None),
        Some(text) => match parse_i32(&text) {
            Some(n) => Ok((n >= 0).then_some(n)),
            None => Err(format_error(path, &text, "expected a node number or -1")),
        },
    }
}

fn optional_selected(path: &Path) -> Result<Option<u64>, Error> {
    match optional_text(path)? {
        None => Ok(None),
        Some(text) => parse_selected(&text).ok_or_else(|| {
            format_error(
                path,
                &text,
                "expected sizes with the chosen one in brackets",
            )
        }),
    }
}

// --- parsers for attribute text ------------------------------------------------------------

/// sysfs `mode` → ndctl's mode name.
pub fn parse_mode(s: &str) -> Option<Mode> {
    match s.trim() {
        "memory" => Some(Mode::Fsdax),
        "dax" => Some(Mode::Devdax),
        "safe" => Some(Mode::Sector),
        "raw" => Some(Mode::Raw),
        _ => None,
    }
}

fn parse_u32(s: &str) -> Option<u32> {
    parse_dec(s).and_then(|n| u32::try_from(n).ok())
}

fn parse_i32(s: &str) -> Option<i32> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let n = i64::try_from(parse_dec(digits)?).ok()?;
    i32::try_from(if neg { -n } else { n }).ok()
}

/// `queue/dax` and similar boolean attributes.
pub fn parse_flag(s: &str) -> Option<u64> {
    match s.trim() {
        "0" => Some(0),
        "1" => Some(1),
        _ => None,
    }
}

/// `MAJ:MIN` as a block device's `dev` holds it.
pub fn parse_devnum(s: &str) -> Option<DevNum> {
    let (maj, min) = s.trim().split_once(':')?;
    Some(DevNum {
        major: parse_u32(maj)?,
        minor: parse_u32(min)?,
    })
}

/// A sysfs uuid: `Some(None)` for an empty value or the nil uuid, `None` for garbage.
pub fn parse_uuid(s: &str) -> Option<Option<Uuid>> {
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    // Only the hyphenated form the kernel prints (`%pUb`), not the other forms uuid accepts.
    if s.len() != 36 {
        return None;
    }
    let u = Uuid::parse_str(s).ok()?;
    Some((!u.is_nil()).then_some(u))
}

/// The chosen size in a `sector_size` list (`512 [4096]` → 4096): `Some(None)` when none is
/// chosen yet, `None` when the text is not such a list.
pub fn parse_selected(s: &str) -> Option<Option<u64>> {
    let mut chosen = None;
    for word in s.split_whitespace() {
        match word.strip_prefix('[').and_then(|w| w.strip_suffix(']')) {
            Some(inner) => {
                if chosen.is_some() {
                    return None;
                }
                chosen = Some(parse_dec(inner)?);
            }
            None => {
                parse_dec(word)?;
            }
        }
    }
    Some(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sector_size_bracket() {
        assert_eq!(parse_selected("[512] 4096 \n"), Some(Some(512)));
        assert_eq!(parse_selected("512 [4096] "), Some(Some(4096)));
        assert_eq!(
            parse_selected("512 520 528 [4096] 4104 4160 4224 \n"),
            Some(Some(4096))
        );
        assert_eq!(parse_selected("512 4096 \n"), Some(None));
        assert_eq!(parse_selected(""), Some(None));
        assert_eq!(parse_selected("[512] [4096]"), None);
        assert_eq!(parse_selected("[abc] 4096"), None);
        assert_eq!(parse_selected("[] 4096"), None);
        assert_eq!(parse_selected("512 x"), None);
        assert_eq!(parse_selected("[512"), None);
    }

    #[test]
    fn devnum() {
        assert_eq!(
            parse_devnum("259:3\n"),
            Some(DevNum {
                major: 259,
                minor: 3
            })
        );
        assert_eq!(
            parse_devnum("259:1048575"),
            Some(DevNum {
                major: 259,
                minor: 1_048_575
            })
        );
        assert_eq!(parse_devnum("259"), None);
        assert_eq!(parse_devnum("259:"), None);
        assert_eq!(parse_devnum(":3"), None);
        assert_eq!(parse_devnum("+259:3"), None);
        assert_eq!(parse_devnum("259:3:1"), None);
        assert_eq!(parse_devnum("4294967296:0"), None);
        assert_eq!(parse_devnum("pmem1"), None);
    }

    #[test]
    fn numbers_uuids_modes() {
        assert_eq!(parse_i32("-1\n"), Some(-1));
        assert_eq!(parse_i32("3"), Some(3));
        assert_eq!(parse_i32("--1"), None);
        assert_eq!(parse_i32("2147483648"), None);
        let u = "27715d95-1bb8-478d-a466-d6e0a569746d";
        assert_eq!(
            parse_uuid(&format!("{u}\n")),
            Some(Some(Uuid::parse_str(u).unwrap()))
        );
        assert_eq!(parse_uuid("\n"), Some(None));
        assert_eq!(
            parse_uuid("00000000-0000-0000-0000-000000000000"),
            Some(None)
        );
        assert_eq!(parse_uuid("27715d951bb8478da466d6e0a569746d"), None);
        assert_eq!(parse_uuid("not-a-uuid"), None);
        assert_eq!(parse_mode("memory\n"), Some(Mode::Fsdax));
        assert_eq!(parse_mode("dax"), Some(Mode::Devdax));
        assert_eq!(parse_mode("safe"), Some(Mode::Sector));
        assert_eq!(parse_mode("raw"), Some(Mode::Raw));
        assert_eq!(parse_mode("fsdax"), None);
        assert_eq!(dev_id("namespace10.2", "namespace"), Some((10, 2)));
        assert_eq!(dev_id("namespace1", "namespace"), None);
        assert_eq!(dev_id("namespace_seed", "namespace"), None);
    }

    #[test]
    fn enxio_counts_as_absent() {
        assert!(absent(&io::Error::from_raw_os_error(ENXIO)));
        assert!(absent(&io::Error::from(io::ErrorKind::NotFound)));
        assert!(!absent(&io::Error::from(io::ErrorKind::PermissionDenied)));
    }
}
