//! The firmware memory map as plain data.
//!
//! `/sys/firmware/memmap/N/{start,end,type}` is the map the firmware (or the boot loader)
//! handed the kernel, before `memmap=` or `mem=` changed anything: the same on every boot, so
//! a proposal made after the proposed range is already in use is the same proposal. Ends are
//! inclusive there and in the boot log; [`MapEntry`] keeps half-open spans. Types are named as
//! sysfs names them; the boot log's names (`usable`, `ACPI NVS`, ...) are translated.

use super::PhysRange;
use crate::error::Error;
use crate::sysfs;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

/// What a map entry is, as far as placing pmem is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// "System RAM" (e820 type 1): the only place pmem may be carved from.
    Ram,
    /// "Persistent Memory" (type 7) or "Persistent Memory (legacy)" (type 12): pmem that
    /// exists already.
    Persistent,
    /// Reserved, ACPI tables or NVS, unusable, soft-reserved, anything else.
    Other,
}

/// One entry of the map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    pub span: PhysRange,
    pub kind: Kind,
    /// The type as /sys/firmware/memmap names it ("System RAM", "ACPI Non-volatile Storage").
    pub label: String,
}

impl MapEntry {
    fn new(start: u64, last: u64, label: &str) -> Option<MapEntry> {
        if last < start {
            return None;
        }
        let kind = match label {
            "System RAM" => Kind::Ram,
            "Persistent Memory" | "Persistent Memory (legacy)" => Kind::Persistent,
            _ => Kind::Other,
        };
        Some(MapEntry {
            // An entry ending at the last byte of the address space: the end saturates.
            span: PhysRange {
                start,
                end: last.saturating_add(1),
            },
            kind,
            label: label.to_string(),
        })
    }
}

/// Where the map was read from, for messages.
pub const SYSFS_MEMMAP: &str = "firmware/memmap";
/// Where the memory-block size is, under the sysfs root.
pub const BLOCK_SIZE: &str = "devices/system/memory/block_size_bytes";

fn read_attr(path: &Path) -> Result<String, Error> {
    sysfs::read_line(path).map_err(|e| Error::read(path, e))
}

fn hex(path: &Path, text: &str) -> Result<u64, Error> {
    sysfs::parse_hex(text).ok_or_else(|| Error::Format {
        path: path.to_path_buf(),
        content: text.to_string(),
        what: "expected a hexadecimal number",
    })
}

/// Reads `<sysfs>/firmware/memmap/*/{start,end,type}`, sorted by start.
pub fn read_sysfs(sysfs: &Path) -> Result<Vec<MapEntry>, Error> {
    let dir = sysfs.join(SYSFS_MEMMAP);
    let list = fs::read_dir(&dir).map_err(|e| Error::read(&dir, e))?;
    let mut out = Vec::new();
    for item in list {
        let item = item.map_err(|e| Error::read(&dir, e))?;
        let path = item.path();
        // Entries are numbered directories; anything else is not an entry.
        if !item
            .file_name()
            .to_str()
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        {
            continue;
        }
        let start_path = path.join("start");
        let end_path = path.join("end");
        let start = hex(&start_path, &read_attr(&start_path)?)?;
        let last = hex(&end_path, &read_attr(&end_path)?)?;
        let label = read_attr(&path.join("type"))?;
        let entry = MapEntry::new(start, last, &label).ok_or_else(|| Error::Format {
            path: end_path.clone(),
            content: format!("{last:#x}"),
            what: "the entry ends before it starts",
        })?;
        out.push(entry);
    }
    if out.is_empty() {
        return Err(Error::Empty {
            path: dir,
            what: "no memory map entries",
        });
    }
    out.sort_by_key(|e| e.span);
    Ok(out)
}

/// The boot log's type names, as sysfs names the same types.
fn sysfs_label(log: &str) -> String {
    match log {
        "usable" => "System RAM",
        "reserved" => "Reserved",
        "ACPI data" => "ACPI Tables",
        "ACPI NVS" => "ACPI Non-volatile Storage",
        "unusable" => "Unusable memory",
        "soft reserved" => "Soft Reserved",
        "persistent (type 7)" => "Persistent Memory",
        "persistent (type 12)" => "Persistent Memory (legacy)",
        other => other,
    }
    .to_string()
}

/// The type of a boot-log line: newer kernels print the range's size before it, right-aligned
/// (`]  638 KB usable`, `]   13   GB usable`), older ones do not (`] usable`). Blanks of any
/// number and kind separate the words; the type comes back with single spaces.
fn log_type(rest: &str) -> String {
    let words: Vec<&str> = rest.split_whitespace().collect();
    let sized = |n: &str, unit: &str| {
        !n.is_empty()
            && n.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && matches!(unit, "bytes" | "KB" | "MB" | "GB" | "TB" | "PB" | "EB")
    };
    match words.as_slice() {
        [n, unit, kind @ ..] if !kind.is_empty() && sized(n, unit) => kind.join(" "),
        all => all.join(" "),
    }
}

/// The map a boot log gives: the last boot's, since a log file (`/var/log/kern.log`,
/// `journalctl -k -b all`) can hold several boots, each listing its whole map again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogMap {
    pub entries: Vec<MapEntry>,
    /// How many boots the log holds (boots without e820 lines not counted).
    pub boots: usize,
    /// The 1-based line where the boot that was used starts.
    pub line: usize,
}

/// Lines that begin a boot in a kernel log.
const BOOT_STARTS: [&str; 2] = ["Linux version ", "BIOS-provided physical RAM map"];

/// Parses the `BIOS-e820: [mem 0xSTART-0xLAST] TYPE` lines of a kernel boot log (`dmesg`,
/// `journalctl -k`); every other line (`[gap ...]`, `e820: update`, ...) is ignored. A new
/// boot starts at a `Linux version` or `BIOS-provided physical RAM map` line, or where the
/// current boot's first e820 line appears again, once the current boot has e820 lines; only
/// the last boot's map is kept (merging two boots' maps would mix RAM of both). `path` names
/// the file in messages.
pub fn parse_e820_log(text: &str, path: &Path) -> Result<LogMap, Error> {
    let mut out = Vec::new();
    // The current boot's first e820 line, and where the current boot began.
    let mut first: Option<&str> = None;
    let mut marker: Option<usize> = None;
    let mut boots = 0;
    let mut boot_line = 1;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        if BOOT_STARTS.iter().any(|m| line.contains(m)) {
            if first.is_some() {
                out.clear();
                first = None;
                marker = None;
            }
            marker.get_or_insert(number);
            continue;
        }
        let Some((_, rest)) = line.split_once("BIOS-e820: [mem ") else {
            continue;
        };
        if first == Some(rest) {
            out.clear();
            first = None;
            marker = None;
        }
        if first.is_none() {
            first = Some(rest);
            boots += 1;
            boot_line = marker.take().unwrap_or(number);
        }
        let bad = |what| Error::Format {
            path: path.to_path_buf(),
            content: line.trim().to_string(),
            what,
        };
        let (range, label) = rest
            .split_once(']')
            .ok_or_else(|| bad("expected '[mem 0xSTART-0xLAST] TYPE'"))?;
        let (start, last) = range
            .split_once('-')
            .ok_or_else(|| bad("expected '[mem 0xSTART-0xLAST] TYPE'"))?;
        let num = |s: &str| {
            s.strip_prefix("0x")
                .and_then(|d| u64::from_str_radix(d, 16).ok())
                .ok_or_else(|| bad("expected hexadecimal addresses"))
        };
        let entry = MapEntry::new(num(start)?, num(last)?, &sysfs_label(&log_type(label)))
            .ok_or_else(|| bad("the entry ends before it starts"))?;
        out.push(entry);
    }
    if out.is_empty() {
        return Err(Error::Empty {
            path: path.to_path_buf(),
            what: "no 'BIOS-e820: [mem ...]' lines (the kernel's boot log, as dmesg prints it)",
        });
    }
    out.sort_by_key(|e| e.span);
    Ok(LogMap {
        entries: out,
        boots,
        line: boot_line,
    })
}

/// The memory-block size (`block_size_bytes`, hexadecimal without `0x`), `None` where sysfs
/// has no memory blocks (no hotplug support, or a tree without it).
pub fn read_block_size(sysfs: &Path) -> Result<Option<u64>, Error> {
    let path = sysfs.join(BLOCK_SIZE);
    match sysfs::read_line(&path) {
        Ok(text) => {
            let size = hex(&path, &text)?;
            if size == 0 || !size.is_power_of_two() {
                return Err(Error::Format {
                    path,
                    content: text.to_string(),
                    what: "not a power of two",
                });
            }
            Ok(Some(size))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::read(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_log_lines() {
        let log = "\
[    0.000000] BIOS-provided physical RAM map:
[    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable
[    0.000000] BIOS-e820: [mem 0x00000000000f0000-0x00000000000fffff] reserved
[    0.000000] BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff] ACPI NVS
[    0.000000] BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff] persistent (type 12)
[    0.000000] user: [mem 0x0000000100000000-0x000000017fffffff] persistent (type 12)
";
        let map = parse_e820_log(log, Path::new("log")).unwrap().entries;
        assert_eq!(map.len(), 4);
        assert_eq!(
            map[0].span,
            PhysRange {
                start: 0,
                end: 0x9fc00
            }
        );
        assert_eq!(map[0].kind, Kind::Ram);
        assert_eq!(map[0].label, "System RAM");
        assert_eq!(map[2].label, "ACPI Non-volatile Storage");
        assert_eq!(map[3].kind, Kind::Persistent);
        assert!(parse_e820_log("nothing here\n", Path::new("log")).is_err());
        let bad = parse_e820_log("BIOS-e820: [mem 0x10-0xzz] usable\n", Path::new("log"));
        assert!(matches!(bad, Err(Error::Format { .. })), "{bad:?}");
        // Since Linux 6.16 each line carries the size, and the holes are listed as gaps.
        let sized = "\
BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff]  639 KB usable
BIOS-e820: [gap 0x00000000000a0000-0x00000000000effff]  320 KB
BIOS-e820: [mem 0x000000007ffe0000-0x000000007fffffff]  128 KB ACPI NVS
BIOS-e820: [mem 0x0000000100000000-0x000000017fffffff]    2 GB persistent (type 12)
";
        let map = parse_e820_log(sized, Path::new("log")).unwrap().entries;
        let labels: Vec<&str> = map.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "System RAM",
                "ACPI Non-volatile Storage",
                "Persistent Memory (legacy)"
            ]
        );
        let backwards = parse_e820_log("BIOS-e820: [mem 0x10-0x0f] usable\n", Path::new("log"));
        assert!(backwards.is_err());
    }

    /// The kernel right-aligns the size: any number of blanks, before and after it.
    #[test]
    fn sized_lines_with_any_spacing() {
        for line in [
            "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff]   13   GB usable",
            "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff]    13 GB usable",
            "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff] 13 GB  usable",
            "BIOS-e820: [mem 0x0000000100000000-0x000000043fffffff]\t13\tGB\tusable",
        ] {
            let map = parse_e820_log(line, Path::new("log")).unwrap().entries;
            assert_eq!(map[0].kind, Kind::Ram, "{line:?}");
            assert_eq!(map[0].label, "System RAM", "{line:?}");
        }
        let acpi = "BIOS-e820: [mem 0x7ffe0000-0x7fffffff]   128   KB ACPI NVS";
        let map = parse_e820_log(acpi, Path::new("log")).unwrap().entries;
        assert_eq!(map[0].label, "ACPI Non-volatile Storage");
    }

    /// A log of several boots gives the last boot's map, not the union of all of them.
    #[test]
    fn last_boot_only() {
        let boot = |ram_last: &str| {
            format!(
                "kernel: [    0.000000] Linux version 6.1.0\n\
                 kernel: [    0.000000] BIOS-provided physical RAM map:\n\
                 kernel: [    0.000000] BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable\n\
                 kernel: [    0.000000] BIOS-e820: [mem 0x0000000100000000-{ram_last}] usable\n\
                 kernel: [    1.000000] e820: update [mem 0x57a3e018-0x57a4c857] usable ==> usable\n"
            )
        };
        let two = format!(
            "{}{}",
            boot("0x000000023fffffff"),
            boot("0x000000013fffffff")
        );
        let map = parse_e820_log(&two, Path::new("log")).unwrap();
        assert_eq!(map.boots, 2);
        assert_eq!(map.line, 6);
        assert_eq!(map.entries.len(), 2);
        assert_eq!(map.entries[1].span.end, 0x1_4000_0000);
        // Without the Linux version and RAM map lines: the first e820 line again.
        let bare: String = two
            .lines()
            .filter(|l| l.contains("BIOS-e820"))
            .map(|l| format!("{l}\n"))
            .collect();
        let map = parse_e820_log(&bare, Path::new("log")).unwrap();
        assert_eq!((map.boots, map.line, map.entries.len()), (2, 3, 2));
        assert_eq!(map.entries[1].span.end, 0x1_4000_0000);
        // One boot: its Linux version line is where it starts.
        let one = parse_e820_log(&boot("0x000000013fffffff"), Path::new("log")).unwrap();
        assert_eq!((one.boots, one.line), (1, 1));
    }
}
