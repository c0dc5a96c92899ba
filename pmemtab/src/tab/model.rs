//! Plain data for one pmemtab line. No behaviour beyond small, obvious accessors.

use std::fmt;
use std::time::Duration;
use uuid::Uuid;

/// The stripe chunk when `striped` names none: the huge-page size, so that every chunk can be
/// mapped with one PMD fault.
pub const DEFAULT_CHUNK_BYTES: u64 = crate::size::HUGE_PAGE_BYTES;

/// One device declared in pmemtab: what every layout has, and what its layout has
/// ([`EntryKind`]). Only the parser makes one, so it holds only what the parser accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line number in the pmemtab file, for messages.
    pub line: usize,
    /// Device name: `/dev/mapper/<name>` for dm layouts.
    pub name: super::name::Name,
    pub kind: EntryKind,
    pub options: Options,
    /// Where the columns were on the line, for messages that point at them.
    pub source: Source,
}

/// An entry's layout with the members it takes and, for the layouts that are block devices,
/// its filesystem part: a system-ram or cxl-pmem entry has none to hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// One namespace used directly, no dm device.
    Single {
        member: Member,
        fs: Option<Filesystem>,
    },
    /// dm-linear concatenation, members in order.
    Linear {
        members: Members<1>,
        fs: Option<Filesystem>,
    },
    /// dm-striped with this chunk size in bytes (a multiple of 4 KiB), members in stripe
    /// order.
    Striped {
        chunk_bytes: u64,
        members: Members<2>,
        fs: Option<Filesystem>,
    },
    /// Devdax namespaces (or CXL memory devices, `serial=`) onlined as system RAM (KMEM DAX),
    /// into `zone` (`zone=`, default movable).
    SystemRam {
        members: Members<1>,
        zone: crate::kmem::Zone,
    },
    /// A CXL pmem region over memory devices named by serial, in position order; its
    /// namespaces are other entries' members.
    CxlPmem { members: Members<1> },
}

impl EntryKind {
    /// What `layout` makes of `members` and `fs`, when its rules allow them (the parser has
    /// reported why not otherwise): single takes one member, striped two or more, cxl-pmem
    /// CXL memory devices only, system-ram either those or namespaces; system-ram and
    /// cxl-pmem take no filesystem.
    pub fn new(layout: Layout, members: Vec<Member>, fs: Option<Filesystem>) -> Option<EntryKind> {
        let serials = members
            .iter()
            .filter(|m| matches!(m, Member::Serial(_)))
            .count();
        Some(match layout {
            Layout::Single => {
                let [member] = <[Member; 1]>::try_from(members).ok()?;
                EntryKind::Single { member, fs }
            }
            Layout::Linear => EntryKind::Linear {
                members: Members::new(members)?,
                fs,
            },
            Layout::Striped { chunk_bytes } => EntryKind::Striped {
                chunk_bytes,
                members: Members::new(members)?,
                fs,
            },
            Layout::SystemRam if fs.is_none() && (serials == 0 || serials == members.len()) => {
                EntryKind::SystemRam {
                    members: Members::new(members)?,
                    zone: crate::kmem::Zone::default(),
                }
            }
            Layout::CxlPmem if fs.is_none() && serials == members.len() => EntryKind::CxlPmem {
                members: Members::new(members)?,
            },
            Layout::SystemRam | Layout::CxlPmem => return None,
        })
    }
}

/// An entry's members in the order given, at least `MIN` of them (a layout's count rule,
/// proved once when the entry is made).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Members<const MIN: usize>(Vec<Member>);

impl<const MIN: usize> Members<MIN> {
    /// `members`, when there are at least `MIN`.
    pub fn new(members: Vec<Member>) -> Option<Members<MIN>> {
        (members.len() >= MIN.max(1)).then_some(Members(members))
    }

    pub fn as_slice(&self) -> &[Member] {
        &self.0
    }
}

/// What a block layout's entry puts on its device: a filesystem type (given, or ext4 for a
/// mount point without one), whether to make it, and where to mount it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filesystem {
    pub fstype: FsType,
    /// `mkfs`: create the filesystem when the device holds no filesystem signature.
    pub mkfs: bool,
    pub mount: Option<super::mount_point::MountPoint>,
}

/// A stretch of a line: 1-based column (in characters) and width.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub column: usize,
    pub width: usize,
}

/// The line an entry was read from, and where its columns are.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Source {
    pub text: String,
    pub name: Span,
    /// The whole members column.
    pub members_column: Span,
    /// Each member, in entry order.
    pub members: Vec<Span>,
}

/// The layout column: an entry's [`EntryKind`] without its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// dm-linear concatenation, members in order.
    Linear,
    /// dm-striped with this chunk size in bytes (a multiple of 4 KiB).
    Striped { chunk_bytes: u64 },
    /// One namespace used directly, no dm device.
    Single,
    /// A devdax namespace onlined as system RAM (KMEM DAX).
    SystemRam,
    /// A CXL pmem region over memory devices named by serial, in position order; its
    /// namespaces are other entries' members.
    CxlPmem,
}

impl Layout {
    /// Layouts whose result is a block device that must do DAX.
    pub fn is_dax_block(self) -> bool {
        !matches!(self, Layout::SystemRam | Layout::CxlPmem)
    }
    /// Layouts that are not mounted: memory, or a region other entries use.
    pub fn is_unmounted(self) -> bool {
        matches!(self, Layout::SystemRam | Layout::CxlPmem)
    }
    /// Layouts built as a device-mapper device.
    pub fn is_dm(self) -> bool {
        matches!(self, Layout::Linear | Layout::Striped { .. })
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layout::Linear => f.write_str("linear"),
            Layout::Striped { chunk_bytes } => {
                write!(f, "striped:{}", crate::size::suffixed(*chunk_bytes))
            }
            Layout::Single => f.write_str("single"),
            Layout::SystemRam => f.write_str("system-ram"),
            Layout::CxlPmem => f.write_str("cxl-pmem"),
        }
    }
}

/// Why a stripe chunk cannot be used: the one rule for pmemtab's `striped:` and for the
/// tables `import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadChunk {
    /// Zero, or not a multiple of 4 KiB (the page size DAX maps).
    NotMultiple,
    /// More sectors than device-mapper's 32-bit chunk field holds.
    TooLarge,
}

/// Bytes a stripe chunk must be a multiple of.
pub const CHUNK_UNIT_BYTES: u64 = crate::size::PAGE_BYTES;

/// Checks a stripe chunk, in bytes.
pub fn check_chunk(chunk_bytes: u64) -> Result<(), BadChunk> {
    if chunk_bytes == 0 || chunk_bytes % CHUNK_UNIT_BYTES != 0 {
        return Err(BadChunk::NotMultiple);
    }
    if chunk_bytes / crate::size::SECTOR_BYTES > u64::from(u32::MAX) {
        return Err(BadChunk::TooLarge);
    }
    Ok(())
}

/// How a member namespace is named.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Member {
    /// `uuid=`: matches ndctl's "uuid" (pfn/dax/btt uuid) or "raw_uuid" (the namespace's).
    Uuid(Uuid),
    /// `name=`: the namespace's ndctl name (`alt_name`).
    Name(String),
    /// `addr=`: physical start of a legacy (memmap=) namespace, as in /proc/iomem.
    Addr(u64),
    /// `/dev/pmemN`: accepted with a warning, not stable across boots.
    DevPath(String),
    /// `serial=`: a CXL type-3 memory device by its serial (PCIe DSN, never 0), as
    /// `/sys/bus/cxl/devices/memX/serial` shows it.
    Serial(u64),
}

impl fmt::Display for Member {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Member::Uuid(u) => write!(f, "uuid={u}"),
            Member::Name(n) => write!(f, "name={n}"),
            Member::Addr(a) => write!(f, "addr={a:#x}"),
            Member::DevPath(p) => f.write_str(p),
            Member::Serial(s) => write!(f, "serial={s:#x}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FsType {
    Ext4,
    Xfs,
}

impl FsType {
    pub fn as_str(self) -> &'static str {
        match self {
            FsType::Ext4 => "ext4",
            FsType::Xfs => "xfs",
        }
    }
}

impl fmt::Display for FsType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The options column, split into what pmemtab itself acts on and what goes to mount.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Failure of this entry does not fail the boot.
    pub nofail: bool,
    /// Not assembled or mounted automatically.
    pub noauto: bool,
    /// Assembled in the initrd and left running across switch-root (`x-initrd.attach`, or
    /// fstab's `x-initrd.mount`).
    pub initrd_attach: bool,
    /// `x-systemd.device-timeout=`: how long to wait for members.
    pub device_timeout: Option<Duration>,
    /// `size=` of a CXL region (cxl-pmem, or system-ram by serial): its bytes, a multiple of
    /// 256 MiB per member; `None`: as large as every member allows.
    pub size: Option<u64>,
    /// `granularity=` of a CXL region: interleave granularity in bytes; `None`: the root
    /// decoder's, as `cxl create-region` chooses.
    pub granularity: Option<u64>,
    /// `numa-mix` of a striped or linear entry: its members sit on different NUMA nodes on
    /// purpose; `check` and `up` do not warn about it.
    pub numa_mix: bool,
    /// `_netdev`: systemd treats the mount as a network mount (after the network, in
    /// remote-fs.target).
    pub netdev: bool,
    /// What fstab-generator turns into settings of the mount unit.
    pub systemd: MountUnitOptions,
    /// Options for mount(8), in the order written, in the form mount(8) and the kernel split
    /// (a value holding a comma is quoted): mount(2) flags, filesystem data and the userspace
    /// options systemd and mount(8) read (`nofail`, `_netdev`, `x-systemd.*`), without
    /// pmemtab's own (`mkfs`, `x-initrd.attach`, `x-systemd.device-timeout=`). `dax` is not
    /// added here: see [`Entry::mount_options`].
    pub mount: Vec<String>,
}

/// The `x-systemd.*` options of systemd.mount(5), as fstab-generator applies them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MountUnitOptions {
    /// `x-systemd.requires=`: `Requires=` and `After=` (unit names, mangled).
    pub requires: Vec<String>,
    /// `x-systemd.wants=`: `Wants=` and `After=`.
    pub wants: Vec<String>,
    /// `x-systemd.after=`.
    pub after: Vec<String>,
    /// `x-systemd.before=`.
    pub before: Vec<String>,
    /// `x-systemd.requires-mounts-for=`: absolute paths.
    pub requires_mounts_for: Vec<String>,
    /// `x-systemd.wanted-by=`: these units want the mount, instead of its target.
    pub wanted_by: Vec<String>,
    /// `x-systemd.required-by=`.
    pub required_by: Vec<String>,
    /// `x-systemd.automount`: an automount unit is started instead of the mount.
    pub automount: bool,
    /// `x-systemd.idle-timeout=` of the automount.
    pub idle_timeout: Option<Duration>,
    /// `x-systemd.mount-timeout=`: the mount unit's `TimeoutSec=`.
    pub mount_timeout: Option<Duration>,
    /// `x-systemd.rw-only`: `ReadWriteOnly=yes`.
    pub rw_only: bool,
    /// `x-systemd.validatefs`: the mount wants `systemd-validatefs@` of its mount point.
    pub validatefs: bool,
}

impl MountUnitOptions {
    /// Whether any option that only a mount unit can honour was given.
    pub fn any(&self) -> bool {
        *self != MountUnitOptions::default()
    }
}

/// What the options ask of DAX.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DaxWant {
    /// `dax` or `dax=always` (or nothing: pmemtab adds `dax`): every file DAX; the mount
    /// must show it.
    Always,
    /// `dax=inode`: per-file; only "not off" can be checked.
    Inode,
    /// `dax=never`: the user turned it off.
    Never,
}

impl DaxWant {
    /// From a list of mount options (the last `dax`/`dax=` wins, as in the kernel).
    pub fn of(options: &[String]) -> DaxWant {
        match options
            .iter()
            .rev()
            .find(|o| *o == "dax" || o.starts_with("dax="))
            .map(String::as_str)
        {
            Some("dax=never") => DaxWant::Never,
            Some("dax=inode") => DaxWant::Inode,
            _ => DaxWant::Always,
        }
    }
}

impl Entry {
    pub fn layout(&self) -> Layout {
        match &self.kind {
            EntryKind::Single { .. } => Layout::Single,
            EntryKind::Linear { .. } => Layout::Linear,
            EntryKind::Striped { chunk_bytes, .. } => Layout::Striped {
                chunk_bytes: *chunk_bytes,
            },
            EntryKind::SystemRam { .. } => Layout::SystemRam,
            EntryKind::CxlPmem { .. } => Layout::CxlPmem,
        }
    }

    /// The members in entry order (stripe order matters); never empty.
    pub fn members(&self) -> &[Member] {
        match &self.kind {
            EntryKind::Single { member, .. } => std::slice::from_ref(member),
            EntryKind::Linear { members, .. } | EntryKind::SystemRam { members, .. } => {
                members.as_slice()
            }
            EntryKind::Striped { members, .. } => members.as_slice(),
            EntryKind::CxlPmem { members } => members.as_slice(),
        }
    }

    /// The filesystem part, for the layouts that are block devices and were given one.
    pub fn fs(&self) -> Option<&Filesystem> {
        match &self.kind {
            EntryKind::Single { fs, .. }
            | EntryKind::Linear { fs, .. }
            | EntryKind::Striped { fs, .. } => fs.as_ref(),
            EntryKind::SystemRam { .. } | EntryKind::CxlPmem { .. } => None,
        }
    }

    /// Where the entry is mounted; `None` for `-`.
    pub fn mount_point(&self) -> Option<&super::mount_point::MountPoint> {
        self.fs().and_then(|f| f.mount.as_ref())
    }

    pub fn fstype(&self) -> Option<FsType> {
        self.fs().map(|f| f.fstype)
    }

    /// Where a system-ram entry's memory is onlined; `None` for the other layouts.
    pub fn zone(&self) -> Option<crate::kmem::Zone> {
        match &self.kind {
            EntryKind::SystemRam { zone, .. } => Some(*zone),
            _ => None,
        }
    }

    /// Whether `mkfs` was given (only an entry with a filesystem type can hold it).
    pub fn mkfs(&self) -> bool {
        self.fs().is_some_and(|f| f.mkfs)
    }

    /// Options to mount with, as mount(8) takes them: the entry's mount options, with `dax`
    /// added for DAX layouts unless the user chose a `dax`/`dax=` option.
    pub fn mount_options(&self) -> Vec<String> {
        let mut opts = Vec::with_capacity(self.options.mount.len() + 1);
        let has_dax = self
            .options
            .mount
            .iter()
            .any(|o| o == "dax" || o.starts_with("dax="));
        if self.layout().is_dax_block() && !has_dax {
            opts.push("dax".to_string());
        }
        opts.extend(self.options.mount.iter().cloned());
        opts
    }

    /// What DAX the mount must show.
    pub fn dax_want(&self) -> DaxWant {
        DaxWant::of(&self.mount_options())
    }

    /// Whether the members are CXL memory devices (`serial=`): a cxl-pmem entry, or a
    /// system-ram entry over a CXL ram region.
    pub fn is_cxl(&self) -> bool {
        matches!(self.kind, EntryKind::CxlPmem { .. })
            || self
                .members()
                .iter()
                .any(|m| matches!(m, Member::Serial(_)))
    }

    /// The device path users and units see: `/dev/mapper/<name>` for dm layouts.
    pub fn mapper_path(&self) -> String {
        format!("/dev/mapper/{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(n: u64) -> Member {
        Member::Addr(n << 30)
    }

    fn fs() -> Option<Filesystem> {
        Some(Filesystem {
            fstype: FsType::Ext4,
            mkfs: true,
            mount: None,
        })
    }

    #[test]
    fn a_kind_holds_only_what_its_layout_takes() {
        let striped = Layout::Striped {
            chunk_bytes: DEFAULT_CHUNK_BYTES,
        };
        // The member counts the parser proves.
        assert_eq!(
            EntryKind::new(Layout::Single, vec![ns(1), ns(2)], None),
            None
        );
        assert_eq!(EntryKind::new(striped, vec![ns(1)], None), None);
        assert_eq!(EntryKind::new(Layout::Linear, vec![], None), None);
        assert!(EntryKind::new(striped, vec![ns(1), ns(2)], fs()).is_some());
        // No filesystem for memory or a region, and a region over CXL devices only.
        assert_eq!(EntryKind::new(Layout::SystemRam, vec![ns(1)], fs()), None);
        assert_eq!(
            EntryKind::new(Layout::SystemRam, vec![ns(1), Member::Serial(7)], None),
            None
        );
        assert_eq!(EntryKind::new(Layout::CxlPmem, vec![ns(1)], None), None);
        let region = EntryKind::new(Layout::CxlPmem, vec![Member::Serial(7)], None);
        assert!(matches!(region, Some(EntryKind::CxlPmem { .. })));
    }
}
