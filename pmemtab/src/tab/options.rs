//! The one table of mount options. The parser classifies every option of the options column
//! with it, `pmem-assemble mount` splits options into mount(2) flags and data with it, and
//! the generator writes the mount unit's `Options=` from what the parser kept. An option means
//! here what fstab(5), mount(8) and systemd.mount(5) say it means, or it is refused.

/// Linux `MS_*` mount flags (include/uapi/linux/mount.h), as mount(2) takes them.
pub mod ms {
    pub const RDONLY: u64 = 1;
    pub const NOSUID: u64 = 2;
    pub const NODEV: u64 = 4;
    pub const NOEXEC: u64 = 8;
    pub const SYNCHRONOUS: u64 = 16;
    pub const DIRSYNC: u64 = 128;
    pub const NOSYMFOLLOW: u64 = 256;
    pub const NOATIME: u64 = 1024;
    pub const NODIRATIME: u64 = 2048;
    pub const SILENT: u64 = 32768;
    pub const RELATIME: u64 = 1 << 21;
    pub const I_VERSION: u64 = 1 << 23;
    pub const STRICTATIME: u64 = 1 << 24;
    pub const LAZYTIME: u64 = 1 << 25;
}

/// What an option is for, and so where it goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A generic mount(2) flag: `set` adds the bits (`ro`), otherwise they are cleared (`rw`).
    Flag { bits: u64, set: bool },
    /// Given to the filesystem (or the security module) in mount(2)'s data string.
    Data,
    /// For mount(8) and systemd, never for the kernel (`nofail`, `_netdev`, `x-*`,
    /// `comment=`): kept in the mount unit's `Options=`, dropped by `pmem-assemble mount`.
    Userspace,
    /// pmemtab's own (`mkfs`, `x-initrd.attach`, `x-systemd.device-timeout=`): acted on by
    /// pmemtab, neither in `Options=` nor given to the kernel.
    Pmemtab,
    /// Means nothing (`defaults`, `auto`): dropped everywhere, as mount(8) does.
    Nothing,
}

/// Whether an option takes `=value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    No,
    Required,
    Optional,
}

impl Kind {
    /// Whether the option stays in the list for mount(8) and the mount unit's `Options=`:
    /// all but pmemtab's own and those that mean nothing.
    pub fn for_mount(self) -> bool {
        !matches!(self, Kind::Pmemtab | Kind::Nothing)
    }
}

/// What an option sets in an entry (the parser's `meaning` module reads its value), if
/// anything beyond being passed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sets {
    Nothing,
    Nofail,
    Noauto,
    Netdev,
    InitrdAttach,
    Mkfs,
    NumaMix,
    Zone,
    /// `size=` of a CXL region.
    RegionSize,
    /// `granularity=` of a CXL region.
    Granularity,
    /// Checks the DAX mode; the option itself goes to the kernel.
    DaxMode,
    Timeout(Timer),
    Dependency(Dependency),
    RequiresMountsFor,
    Automount,
    RwOnly,
    /// `x-systemd.validatefs` (systemd 258): systemd-validatefs@ checks the mounted
    /// filesystem's `user.validatefs.*` constraints.
    ValidateFs,
}

/// The time limits an entry sets (`x-systemd.*-timeout=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timer {
    /// How long `up` waits for the members.
    Device,
    Mount,
    /// The automount's idle time.
    Idle,
}

/// The mount unit's dependencies an entry adds (`x-systemd.requires=`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    Requires,
    /// `x-systemd.wants=` (systemd 257): `Wants=` and `After=`, as requires= without the hard
    /// dependency.
    Wants,
    After,
    Before,
    WantedBy,
    RequiredBy,
}

/// The layouts an option is for, when not every layout that mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    /// Striped and linear entries (a device-mapper device).
    DeviceMapper,
    /// System-ram entries.
    SystemRam,
    /// CXL regions: cxl-pmem entries and system-ram entries (which must then name CXL
    /// devices by serial, as the cross-column checks say).
    Cxl,
}

impl Only {
    pub fn admits(self, layout: Layout) -> bool {
        match self {
            Only::DeviceMapper => layout.is_dm(),
            Only::SystemRam => layout == Layout::SystemRam,
            Only::Cxl => matches!(layout, Layout::CxlPmem | Layout::SystemRam),
        }
    }
}

/// An option that applies to some layouts only, and what the parser says elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restriction {
    pub only: Only,
    pub message: &'static str,
    pub hint: &'static str,
}

/// One known option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Known {
    /// The name, without `=`.
    pub key: &'static str,
    pub value: Value,
    pub kind: Kind,
    /// A setting with one value: a second, different value contradicts the first.
    pub single: bool,
    /// About the filesystem or its mount, so meaningless for a system-ram entry (which is
    /// not mounted); false for when to bring an entry up, how long to wait, and where it goes.
    pub mounting: bool,
    /// Becomes a setting of the mount unit, so needs an entry that has one.
    pub unit: bool,
    /// By reference: three options have one, and the table stays small in the boot binary.
    pub restriction: Option<&'static Restriction>,
    pub sets: Sets,
}

impl Known {
    const fn new(key: &'static str, value: Value, kind: Kind) -> Known {
        Known {
            key,
            value,
            kind,
            single: false,
            mounting: true,
            unit: false,
            restriction: None,
            sets: Sets::Nothing,
        }
    }
    const fn sets(self, sets: Sets) -> Known {
        Known { sets, ..self }
    }
    const fn single(self) -> Known {
        Known {
            single: true,
            ..self
        }
    }
    /// Also for a system-ram entry.
    const fn memory(self) -> Known {
        Known {
            mounting: false,
            ..self
        }
    }
    const fn unit(self) -> Known {
        Known { unit: true, ..self }
    }
    const fn only(self, rule: &'static Restriction) -> Known {
        Known {
            restriction: Some(rule),
            ..self
        }
    }
}

use super::model::Layout;

/// Why an option is not accepted at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    pub key: &'static str,
    /// Why, and what to write instead.
    pub why: &'static str,
}

const fn flag(key: &'static str, bits: u64, set: bool) -> Known {
    Known::new(key, Value::No, Kind::Flag { bits, set })
}

const fn data(key: &'static str, value: Value) -> Known {
    Known::new(key, value, Kind::Data)
}

const fn user(key: &'static str, value: Value) -> Known {
    Known::new(key, value, Kind::Userspace)
}

const fn own(key: &'static str, value: Value) -> Known {
    Known::new(key, value, Kind::Pmemtab)
}

const fn nothing(key: &'static str) -> Known {
    Known::new(key, Value::No, Kind::Nothing)
}

use Value::{No, Optional, Required};

/// `size=` and `granularity=`: about a CXL region.
const CXL_ONLY: Restriction = Restriction {
    only: Only::Cxl,
    message: "size= and granularity= apply to CXL regions only (cxl-pmem, or system-ram over serial= members)",
    hint: "remove it",
};

/// Every option pmemtab knows. The generic flags are those of mount(8) (libmount's Linux
/// map); the data options are ext4's and XFS's and the security modules' (`context=`...).
pub const TABLE: &[Known] = &[
    // mount(2) flags. Those an admin turns on come first, in the order `import` writes
    // them.
    flag("ro", ms::RDONLY, true),
    flag("rw", ms::RDONLY, false),
    flag("noatime", ms::NOATIME, true),
    flag("atime", ms::NOATIME, false),
    flag("nodiratime", ms::NODIRATIME, true),
    flag("diratime", ms::NODIRATIME, false),
    flag("nosuid", ms::NOSUID, true),
    flag("suid", ms::NOSUID, false),
    flag("nodev", ms::NODEV, true),
    flag("dev", ms::NODEV, false),
    flag("noexec", ms::NOEXEC, true),
    flag("exec", ms::NOEXEC, false),
    flag("sync", ms::SYNCHRONOUS, true),
    flag("async", ms::SYNCHRONOUS, false),
    flag("dirsync", ms::DIRSYNC, true),
    flag("lazytime", ms::LAZYTIME, true),
    flag("nolazytime", ms::LAZYTIME, false),
    flag("nosymfollow", ms::NOSYMFOLLOW, true),
    flag("symfollow", ms::NOSYMFOLLOW, false),
    flag("relatime", ms::RELATIME, true),
    flag("norelatime", ms::RELATIME, false),
    flag("strictatime", ms::STRICTATIME, true),
    flag("nostrictatime", ms::STRICTATIME, false),
    flag("iversion", ms::I_VERSION, true),
    flag("noiversion", ms::I_VERSION, false),
    flag("silent", ms::SILENT, true),
    flag("loud", ms::SILENT, false),
    // Nothing at all.
    nothing("defaults").memory(),
    nothing("auto").memory(),
    // mount(8) and systemd.
    user("nofail", No).memory().sets(Sets::Nofail),
    user("noauto", No).memory().sets(Sets::Noauto),
    user("nouser", No),
    user("_netdev", No).unit().sets(Sets::Netdev),
    user("x-initrd.mount", No).memory().sets(Sets::InitrdAttach),
    user("x-systemd.requires", Required).unit().sets(Sets::Dependency(Dependency::Requires)),
    user("x-systemd.wants", Required).unit().sets(Sets::Dependency(Dependency::Wants)),
    user("x-systemd.after", Required).unit().sets(Sets::Dependency(Dependency::After)),
    user("x-systemd.before", Required).unit().sets(Sets::Dependency(Dependency::Before)),
    user("x-systemd.requires-mounts-for", Required).unit().sets(Sets::RequiresMountsFor),
    user("x-systemd.wanted-by", Required).unit().sets(Sets::Dependency(Dependency::WantedBy)),
    user("x-systemd.required-by", Required).unit().sets(Sets::Dependency(Dependency::RequiredBy)),
    user("x-systemd.automount", No).unit().sets(Sets::Automount),
    user("x-systemd.idle-timeout", Required).unit().single().sets(Sets::Timeout(Timer::Idle)),
    user("x-systemd.mount-timeout", Required).unit().single().sets(Sets::Timeout(Timer::Mount)),
    user("x-systemd.rw-only", No).unit().sets(Sets::RwOnly),
    user("x-systemd.validatefs", No).unit().sets(Sets::ValidateFs),
    user("x-systemd.device-bound", No).unit().only(&Restriction {
        only: Only::DeviceMapper,
        message: "x-systemd.device-bound needs a device-mapper layout",
        hint: "a single entry's mount has no .device unit to bind to (it mounts /run/pmemtab/by-name/NAME); use linear",
    }),
    user("comment", Optional).memory(),
    // pmemtab's own.
    own("mkfs", No).sets(Sets::Mkfs),
    own("x-initrd.attach", No).memory().sets(Sets::InitrdAttach),
    own("x-systemd.device-timeout", Required).memory().single().sets(Sets::Timeout(Timer::Device)),
    own("zone", Required).memory().single().sets(Sets::Zone).only(&Restriction {
        only: Only::SystemRam,
        message: "zone= applies to system-ram entries only",
        hint: "remove it",
    }),
    own("size", Required).memory().single().sets(Sets::RegionSize).only(&CXL_ONLY),
    own("granularity", Required).memory().single().sets(Sets::Granularity).only(&CXL_ONLY),
    // About the members, not the mount: on a system-ram entry its restriction says why.
    own("numa-mix", No).memory().sets(Sets::NumaMix).only(&Restriction {
        only: Only::DeviceMapper,
        message: "numa-mix applies to striped and linear entries only",
        hint: "a single or system-ram entry interleaves nothing across nodes: remove it",
    }),
    // DAX (ext4 and XFS).
    data("dax", Optional).single().sets(Sets::DaxMode),
    // Security modules (SELinux), for any filesystem.
    data("context", Required),
    data("fscontext", Required),
    data("defcontext", Required),
    data("rootcontext", Required),
    data("seclabel", No),
    // ext4.
    data("errors", Required),
    data("data", Required),
    data("data_err", Required),
    data("commit", Required),
    data("barrier", Optional),
    data("nobarrier", No),
    data("journal_checksum", No),
    data("nojournal_checksum", No),
    data("journal_async_commit", No),
    data("journal_dev", Required),
    data("journal_path", Required),
    data("journal_ioprio", Required),
    data("noload", No),
    data("discard", No),
    data("nodiscard", No),
    data("user_xattr", No),
    data("nouser_xattr", No),
    data("acl", No),
    data("noacl", No),
    data("delalloc", No),
    data("nodelalloc", No),
    data("init_itable", Optional),
    data("noinit_itable", No),
    data("stripe", Required),
    data("resuid", Required),
    data("resgid", Required),
    data("sb", Required),
    data("grpid", No),
    data("nogrpid", No),
    data("bsdgroups", No),
    data("sysvgroups", No),
    data("quota", No),
    data("noquota", No),
    data("usrquota", No),
    data("grpquota", No),
    data("prjquota", No),
    data("usrjquota", Optional),
    data("grpjquota", Optional),
    data("jqfmt", Required),
    data("max_batch_time", Required),
    data("min_batch_time", Required),
    data("dioread_nolock", No),
    data("dioread_lock", No),
    data("auto_da_alloc", Optional),
    data("noauto_da_alloc", No),
    data("block_validity", No),
    data("noblock_validity", No),
    data("inode_readahead_blks", Required),
    data("max_dir_size_kb", Required),
    data("nombcache", No),
    data("prefetch_block_bitmaps", No),
    data("mb_optimize_scan", Required),
    data("inlinecrypt", No),
    data("i_version", No),
    data("nouid32", No),
    data("debug", No),
    // XFS (and both).
    data("allocsize", Required),
    data("attr2", No),
    data("noattr2", No),
    data("filestreams", No),
    data("ikeep", No),
    data("noikeep", No),
    data("inode32", No),
    data("inode64", No),
    data("largeio", No),
    data("nolargeio", No),
    data("logbufs", Required),
    data("logbsize", Required),
    data("logdev", Required),
    data("noalign", No),
    data("norecovery", No),
    data("nouuid", No),
    data("uquota", No),
    data("uqnoenforce", No),
    data("qnoenforce", No),
    data("pquota", No),
    data("pqnoenforce", No),
    data("gquota", No),
    data("gqnoenforce", No),
    data("sunit", Required),
    data("swidth", Required),
    data("swalloc", No),
    data("wsync", No),
    data("rtdev", Required),
];

/// Options that fstab or systemd know but pmemtab refuses, with what to do instead.
pub const REFUSED: &[Refused] = &[
    Refused {
        key: "user",
        why: "lets ordinary users mount, and implies noexec,nosuid,nodev; pmemtab mounts at boot as root: write noexec,nosuid,nodev for what it implies",
    },
    Refused {
        key: "users",
        why: "lets ordinary users mount, and implies noexec,nosuid,nodev; pmemtab mounts at boot as root: write noexec,nosuid,nodev for what it implies",
    },
    Refused {
        key: "owner",
        why: "lets the device's owner mount, and implies nosuid,nodev; pmemtab mounts at boot as root: write nosuid,nodev for what it implies",
    },
    Refused {
        key: "group",
        why: "lets the device's group mount, and implies nosuid,nodev; pmemtab mounts at boot as root: write nosuid,nodev for what it implies",
    },
    Refused {
        key: "x-systemd.makefs",
        why: "runs systemd-makefs, which does not check the members; use pmemtab's mkfs option",
    },
    Refused {
        key: "x-systemd.growfs",
        why: "a pmemtab device does not grow: its members cannot change under a filesystem; grow it by hand (resize2fs, xfs_growfs) after changing the entry",
    },
    Refused {
        key: "x-systemd.graceful-option",
        why: "asks systemd-fstab-generator to drop the option when the running kernel lacks it; pmemtab never drops an option it was given (the initramfs mounts with the kernel it boots, which the generator cannot probe): write the option itself, or leave it out",
    },
    Refused {
        key: "bind",
        why: "a pmemtab entry mounts its own device; write a bind mount in fstab(5)",
    },
    Refused {
        key: "rbind",
        why: "a pmemtab entry mounts its own device; write a bind mount in fstab(5)",
    },
    Refused {
        key: "move",
        why: "a pmemtab entry mounts its own device",
    },
    Refused {
        key: "remount",
        why: "a pmemtab entry mounts its device once; remount it by hand",
    },
];

/// The key of an option: the text before `=`.
pub fn key(option: &str) -> &str {
    option.split_once('=').map_or(option, |(k, _)| k)
}

/// The known option `option` is an instance of (`errors=remount-ro` → `errors`).
pub fn lookup(option: &str) -> Option<&'static Known> {
    let k = key(option);
    TABLE.iter().find(|o| o.key == k)
}

/// Why `option` is refused, if it is.
pub fn refused(option: &str) -> Option<&'static Refused> {
    let k = key(option);
    REFUSED.iter().find(|o| o.key == k)
}

/// Whether `option` is about the filesystem or its mount (see [`Known::mounting`]): an option
/// the table does not know is.
pub fn about_mounting(option: &str) -> bool {
    lookup(option).map_or(true, |k| k.mounting)
}

/// Options for userspace by convention: mount(8) gives `x-*` and `X-*` to no kernel.
pub fn is_userspace_prefix(option: &str) -> bool {
    option.starts_with("x-") || option.starts_with("X-")
}

/// What `option` (one already-split option as mount(8) takes it) is: its kind from the table,
/// `Userspace` for `x-*`/`X-*` options, `Data` for an option the table does not know (the
/// filesystem decides).
pub fn kind_of(option: &str) -> Kind {
    match lookup(option) {
        Some(k) => k.kind,
        None if is_userspace_prefix(option) => Kind::Userspace,
        None => Kind::Data,
    }
}

/// mount(2)'s arguments for a list of options as mount(8) would build them: flags applied in
/// order (a later `rw` clears an earlier `ro`), data options joined by commas, userspace and
/// pmemtab options dropped.
pub fn split(options: &[String]) -> (u64, String) {
    let mut flags = 0u64;
    let mut data: Vec<&str> = Vec::new();
    for o in options {
        match kind_of(o) {
            Kind::Flag { bits, set: true } => flags |= bits,
            Kind::Flag { bits, set: false } => flags &= !bits,
            Kind::Data => data.push(o),
            Kind::Userspace | Kind::Pmemtab | Kind::Nothing => {}
        }
    }
    (flags, data.join(","))
}

/// Why an option cannot be written for mount(8) and the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormError {
    /// A `"` without its closing one.
    OpenQuote,
    /// A comma that is neither inside quotes nor in a `key=value` value that can be quoted.
    Comma,
}

/// The option as mount(8) and the kernel split options: commas separate options except inside
/// double quotes, so a value holding a comma (an SELinux category list, `c1,c2`) is written
/// `key="value"`. Already quoted text is kept as it is.
pub fn mount_form(option: &str) -> Result<String, FormError> {
    let mut quoted = false;
    let mut bare_comma = false;
    for c in option.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => bare_comma = true,
            _ => {}
        }
    }
    if quoted {
        return Err(FormError::OpenQuote);
    }
    if !bare_comma {
        return Ok(option.to_string());
    }
    match option.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.contains('"') && !k.contains(',') => {
            Ok(format!("{k}=\"{v}\""))
        }
        _ => Err(FormError::Comma),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut keys: Vec<&str> = TABLE.iter().map(|k| k.key).collect();
        keys.extend(REFUSED.iter().map(|r| r.key));
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key in two places");
    }

    #[test]
    fn pmemtab_s_own_options_each_set_something() {
        for k in TABLE.iter().filter(|k| k.kind == Kind::Pmemtab) {
            assert_ne!(k.sets, Sets::Nothing, "{}", k.key);
        }
        // What a mount unit needs, and what a system-ram entry takes.
        let unit: Vec<&str> = TABLE.iter().filter(|k| k.unit).map(|k| k.key).collect();
        assert!(unit.contains(&"_netdev") && !unit.contains(&"x-systemd.device-timeout"));
        assert!(!about_mounting("nofail") && about_mounting("noatime") && about_mounting("x-y"));
    }

    #[test]
    fn flags_and_data_as_mount_8_splits_them() {
        let (flags, data) = split(&v(&[
            "dax",
            "noatime",
            "nosuid",
            "errors=remount-ro",
            "x-systemd.requires=a",
            "nofail",
            "_netdev",
            "ro",
            "rw",
            "nosymfollow",
            "strictatime",
            "nostrictatime",
            "context=\"a:b:c1,c2\"",
            "X-mount.mkdir",
            "comment=x",
            "mkfs",
        ]));
        assert_eq!(flags, ms::NOATIME | ms::NOSUID | ms::NOSYMFOLLOW);
        assert_eq!(data, "dax,errors=remount-ro,context=\"a:b:c1,c2\"");
        assert_eq!(split(&v(&["symfollow"])).0, 0);
        assert_eq!(split(&v(&["nosymfollow", "symfollow"])).0, 0);
    }

    #[test]
    fn commas_are_quoted_for_mount() {
        assert_eq!(mount_form("noatime"), Ok("noatime".into()));
        assert_eq!(
            mount_form("context=system_u:object_r:t:s0:c1,c2"),
            Ok("context=\"system_u:object_r:t:s0:c1,c2\"".into())
        );
        assert_eq!(
            mount_form("context=\"a:b:c1,c2\""),
            Ok("context=\"a:b:c1,c2\"".into())
        );
        assert_eq!(mount_form("a,b"), Err(FormError::Comma));
        assert_eq!(mount_form("k=\"a"), Err(FormError::OpenQuote));
        assert_eq!(mount_form("k=a\"b\",c"), Err(FormError::Comma));
    }

    #[test]
    fn kinds() {
        assert_eq!(kind_of("x-gvfs-show"), Kind::Userspace);
        assert_eq!(kind_of("frobnicate"), Kind::Data);
        assert_eq!(kind_of("dax=inode"), Kind::Data);
        assert_eq!(kind_of("x-systemd.device-timeout=5s"), Kind::Pmemtab);
        assert!(refused("user").is_some() && refused("nouser").is_none());
    }
}
