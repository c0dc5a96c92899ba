//! What the initrd does for pmemtab, in one place: which entries it sets up (the generator in
//! a systemd initrd, `pmem-assemble up --initrd` in initramfs-tools' scripts), what an
//! initramfs builder must put in the image for them and when it must refuse to build one
//! (`pmem-assemble initramfs`, which the dracut module and the initramfs-tools hook ask
//! instead of reading pmemtab themselves), and whether the running system's `/` or `/usr`
//! sits on a device pmemtab sets up (which also decides whether the package may be removed).

use crate::cmdline::{boot_devices, boot_name, BootDevices, BootName, Cmdline};
use crate::tab::{Diagnostic, Entry, FsType, Layout, Member, Parsed, Refused};

mod contents;
mod held;
pub mod targets;
pub use contents::{missing, Check, Missing};
pub use held::{held, uncovered, BootMount, Held};

/// Whether the initrd has units for `entry` and keeps it across switch-root: `x-initrd.attach`
/// (or `x-initrd.mount`), or the boot needs it (`/`, `/usr`, or named by
/// `root=`/`mount.usr=`).
///
/// And every cxl-pmem region that is not `noauto`: which entries stand on its namespaces
/// cannot be known before it exists (a namespace is named by its uuid, which only its label
/// area holds), and creating it early costs nothing.
pub fn sets_up(entry: &Entry, boot: &BootDevices<'_>) -> bool {
    entry.options.initrd_attach || boot.names.contains(&entry.name.as_str()) || early_region(entry)
}

/// A cxl-pmem region the initrd creates before anything else (see [`sets_up`]).
pub fn early_region(entry: &Entry) -> bool {
    entry.layout() == Layout::CxlPmem && !entry.options.noauto
}

/// Whether the initrd sets `entry` up without being asked (what initramfs-tools' scripts run,
/// what pmemtab.target pulls in): what the boot needs always (the parser refuses `noauto` on
/// `/` and `/usr`; one named by `root=` is pulled in by its device), an `x-initrd.attach`
/// entry unless it is `noauto`.
pub fn starts(entry: &Entry, boot: &BootDevices<'_>) -> bool {
    boot.names.contains(&entry.name.as_str())
        || (entry.options.initrd_attach && !entry.options.noauto)
        || early_region(entry)
}

/// Whether the boot needs `entry` first: `/`, `/usr` or a device `root=`/`mount.usr=` name.
/// The initrd sets these up before other entries, and `nofail` entries never delay them.
pub fn boot_needs(entry: &Entry, boot: &BootDevices<'_>) -> bool {
    boot.names.contains(&entry.name.as_str())
}

/// The entries an initrd without systemd (initramfs-tools) sets up, in the order it sets
/// them up, each with whether it waits for the entry's members: what the boot needs (`/`,
/// `/usr`, what `root=`/`mount.usr=` name) first, then the other entries it [`starts`], in
/// file order, `nofail` ones last and without waiting: a `nofail` entry never holds the boot
/// up (the booted system's unit waits for it after switch-root, in parallel with the boot).
/// CXL pmem regions come before all of these: the namespaces the others name may be theirs.
pub fn schedule<'a>(entries: &'a [Entry], boot: &BootDevices<'_>) -> Vec<(&'a Entry, bool)> {
    let rank = |e: &Entry| {
        if e.layout() == Layout::CxlPmem && !e.options.nofail {
            0
        } else if boot_needs(e, boot) {
            1
        } else if e.options.nofail {
            3
        } else {
            2
        }
    };
    let mut out: Vec<(&Entry, bool)> = entries
        .iter()
        .filter(|e| starts(e, boot))
        .map(|e| (e, rank(e) < 3))
        .collect();
    // Stable: file order within each rank.
    out.sort_by_key(|(e, _)| rank(e));
    out
}

/// Kernel modules every pmemtab initrd carries: the NFIT bus, the pmem, btt and legacy
/// (memmap=) namespace drivers, DAX, and device-mapper (dm-linear and dm-striped are part
/// of dm_mod). Forced: host-only detection leaves the nvdimm drivers out.
pub const BASE_MODULES: [&str; 7] = [
    "nfit",
    "nd_pmem",
    "nd_btt",
    "nd_e820",
    "dax_pmem",
    "device_dax",
    "dm_mod",
];

/// The modules an entry cannot be set up without.
fn entry_modules(e: &Entry) -> Vec<&'static str> {
    let mut out = Vec::new();
    for m in e.members() {
        let bus = match m {
            Member::Uuid(_) | Member::Name(_) => "nfit",
            Member::Addr(_) => "nd_e820",
            // /dev/pmemN: either bus; both are carried as optional modules.
            Member::DevPath(_) => continue,
            // The CXL modules below, cxl_acpi first.
            Member::Serial(_) => continue,
        };
        if !out.contains(&bus) {
            out.push(bus);
        }
    }
    match e.layout() {
        Layout::Linear | Layout::Striped { .. } => out.extend(["nd_pmem", "dm_mod"]),
        Layout::Single => out.push("nd_pmem"),
        Layout::SystemRam if e.is_cxl() => out.extend(crate::cxl::RAM_MODULES),
        Layout::SystemRam => out.extend(["dax_pmem", "device_dax", "kmem"]),
        Layout::CxlPmem => out.extend(crate::cxl::PMEM_MODULES),
    }
    out
}

/// A line the parser refused that the initrd would have set up: an image built without it
/// cannot bring up what the line declares, so it must not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken<'a> {
    pub refused: &'a Refused,
    /// Why the initrd needs it: "its mount point is /", "it has x-initrd.attach", ...
    pub why: String,
}

/// What an initramfs needs for pmemtab, for every command line the target may boot with.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Image<'a> {
    /// The entries the initrd sets up, in file order.
    pub entries: Vec<&'a Entry>,
    /// Kernel modules the entries cannot do without (their members' bus and namespace
    /// drivers, device-mapper, kmem, each filesystem's): an image without one of them
    /// cannot set the entries up.
    pub modules: Vec<String>,
    /// The rest of [`BASE_MODULES`], carried when the kernel has them, so that any pmemtab
    /// device can be set up from the image (all of them for an image that has pmemtab only
    /// because it was asked to, `dracut --add pmemtab`).
    pub optional_modules: Vec<String>,
    /// Programs the initrd runs besides pmem-assemble: `mkfs.<fs>` for `mkfs` entries.
    pub programs: Vec<String>,
    /// Filesystems of `/` and `/usr` entries, which the initrd checks before it mounts them
    /// (fsck and `fsck.<type>`), as it checks any other root.
    pub fsck: Vec<FsType>,
    /// Whether `/` or `/usr` is among the entries.
    pub root: bool,
    /// Refused lines the initrd needs: the image must not be built while there are any.
    pub broken: Vec<Broken<'a>>,
    /// What a target command line names that the initrd could never set up (`root=` naming
    /// a `single` entry, which has no `/dev/mapper/` device): the boot would wait in vain, so
    /// the image must not be built either.
    pub boot_errors: Vec<Diagnostic>,
}

/// What the image needs: the entries any of `cmdlines` (the lines the target may boot with;
/// none at all counts as an empty line) makes the initrd set up, with their modules and
/// programs, and the refused lines it would have set up.
pub fn image<'a>(parsed: &'a Parsed, cmdlines: &'a [Cmdline]) -> Image<'a> {
    let empty = [Cmdline::default()];
    let cmdlines = if cmdlines.is_empty() {
        &empty[..]
    } else {
        cmdlines
    };
    let boots: Vec<BootDevices<'_>> = cmdlines
        .iter()
        .map(|c| boot_devices(&parsed.entries, c))
        .collect();
    let mut out = Image::default();
    for e in &parsed.entries {
        if boots.iter().any(|b| sets_up(e, b)) {
            out.entries.push(e);
        }
    }
    for b in &boots {
        for d in b.problems.iter().filter(|d| d.is_error()) {
            if !out.boot_errors.contains(d) {
                out.boot_errors.push(d.clone());
            }
        }
    }
    for r in &parsed.refused {
        if let Some(why) = needed_refused(r, cmdlines) {
            out.broken.push(Broken { refused: r, why });
        }
    }
    let add = |list: &mut Vec<String>, item: &str| {
        if !list.iter().any(|x| x == item) {
            list.push(item.to_string());
        }
    };
    for e in &out.entries {
        for m in entry_modules(e) {
            add(&mut out.modules, m);
        }
        let boot_mount = matches!(e.mount_point().map(|m| m.as_str()), Some("/" | "/usr"));
        out.root |= boot_mount;
        let Some(fs) = e.fstype() else {
            continue;
        };
        add(&mut out.modules, fs.as_str());
        if e.mkfs() {
            add(&mut out.programs, &format!("mkfs.{}", fs.as_str()));
        }
        if boot_mount && !out.fsck.contains(&fs) {
            out.fsck.push(fs);
        }
    }
    for m in BASE_MODULES {
        if !out.modules.iter().any(|x| x == m) {
            add(&mut out.optional_modules, m);
        }
    }
    out
}

/// Why the initrd would set up a refused line, if it would.
fn needed_refused(r: &Refused, cmdlines: &[Cmdline]) -> Option<String> {
    if let Some(mp) = r.boot_mount() {
        return Some(format!("its mount point is {mp}"));
    }
    if r.initrd_attach {
        return Some("it has x-initrd.attach".into());
    }
    let name = r.name.as_deref()?;
    for c in cmdlines {
        for (key, dev) in [("root", &c.root), ("mount.usr", &c.usr)] {
            if let Some(BootName::Mapper(n)) = dev.as_deref().map(boot_name) {
                if n == name {
                    return Some(format!(
                        "{key}={} names it",
                        dev.as_deref().unwrap_or_default()
                    ));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline;

    fn image_of(tab: &str, cmds: &[&str]) -> (Vec<String>, Vec<String>, Vec<String>, Vec<String>) {
        let parsed = crate::tab::parse(tab);
        let cmds: Vec<Cmdline> = cmds.iter().map(|c| cmdline::parse(c, false)).collect();
        let n = image(&parsed, &cmds);
        (
            n.entries.iter().map(|e| e.name.to_string()).collect(),
            n.modules,
            n.programs,
            n.broken
                .iter()
                .map(|b| format!("{}: {}", b.refused.line, b.why))
                .collect(),
        )
    }

    #[test]
    fn what_the_initrd_sets_up_and_needs() {
        let tab = "root striped:2M name=a,name=b / ext4 -\n\
                   early linear name=c /srv/early xfs mkfs,x-initrd.attach\n\
                   late linear name=d /srv/late ext4 mkfs\n\
                   m linear name=e /srv/m ext4 x-initrd.mount\n\
                   ram system-ram name=f - - x-initrd.attach\n";
        let (entries, modules, programs, broken) = image_of(tab, &["root=UUID=1 rootflags=dax"]);
        assert_eq!(entries, ["root", "early", "m", "ram"]);
        assert_eq!(
            modules,
            [
                "nfit",
                "nd_pmem",
                "dm_mod",
                "ext4",
                "xfs",
                "dax_pmem",
                "device_dax",
                "kmem"
            ]
        );
        // late's mkfs runs after switch-root, with the booted system's mkfs.
        assert_eq!(programs, ["mkfs.xfs"]);
        assert!(broken.is_empty());
        let parsed = crate::tab::parse(tab);
        let img = image(&parsed, &[]);
        assert_eq!(img.fsck, [FsType::Ext4]);
        assert_eq!(img.optional_modules, ["nd_btt", "nd_e820"]);
    }

    /// The bus a member is on brings its driver: addr= is legacy (memmap=) pmem.
    #[test]
    fn members_bring_their_bus() {
        let (_, modules, _, _) = image_of(
            "s single addr=0x28000000 /srv/s ext4 x-initrd.attach\n",
            &[],
        );
        assert_eq!(modules, ["nd_e820", "nd_pmem", "ext4"]);
        let parsed = crate::tab::parse("s single /dev/pmem0 /srv/s xfs x-initrd.attach\n");
        let img = image(&parsed, &[]);
        assert_eq!(img.modules, ["nd_pmem", "xfs"]);
        assert_eq!(
            img.optional_modules,
            [
                "nfit",
                "nd_btt",
                "nd_e820",
                "dax_pmem",
                "device_dax",
                "dm_mod"
            ]
        );
    }

    #[test]
    fn nothing_for_the_initrd_needs_nothing() {
        let (entries, modules, programs, broken) = image_of(
            "late linear name=d /srv/late ext4 mkfs\n",
            &["root=/dev/sda1"],
        );
        assert!(
            entries.is_empty() && modules.is_empty() && programs.is_empty() && broken.is_empty()
        );
    }

    /// What the old awk in the dracut module got wrong is the parser's: CRLF lines, `/usr/`
    /// and `//`, and fstype `none`.
    #[test]
    fn the_parser_decides_what_a_line_says() {
        let tab = "a linear name=a /usr/ xfs x-initrd.attach\r\nb linear name=b /srv/b none x-initrd.attach\r\n";
        let (entries, modules, _, _) = image_of(tab, &[""]);
        assert_eq!(entries, ["a", "b"]);
        assert!(modules.iter().any(|m| m == "xfs"), "{modules:?}");
        assert!(
            !modules
                .iter()
                .any(|m| m.contains("none") || m.contains('\r')),
            "{modules:?}"
        );
    }

    /// A refused line the initrd would set up breaks the image; one it would not only costs
    /// itself (issue 31).
    #[test]
    fn refused_lines_the_initrd_needs() {
        let tab = "root striped:2M name=alpha,name=beta / ext4 x-systemd.device-timeout=0\n\
                   u linear uuid=nope //usr// ext4 -\n\
                   e linear name=e /srv/e ext4 user,x-initrd.attach\n\
                   n linear uuid=zz - - noauto\n\
                   late linear name=l /srv/late ext4 user\n\
                   root2 linear name=x / ext4 noauto\n";
        let (entries, _, _, broken) = image_of(tab, &["root=UUID=1", "root=/dev/mapper/n"]);
        assert!(entries.is_empty(), "{entries:?}");
        assert_eq!(
            broken,
            [
                "1: its mount point is /",
                "2: its mount point is /usr",
                "3: it has x-initrd.attach",
                "4: root=/dev/mapper/n names it",
                "6: its mount point is /",
            ]
        );
        // Named only by a line the target does not boot with: not the image's concern.
        let (_, _, _, broken) = image_of("n linear uuid=zz - -\n", &["root=UUID=1"]);
        assert!(broken.is_empty());
        // A second / line (the first wins) is refused, and concerns the root.
        let (entries, _, _, broken) =
            image_of("r linear name=a / ext4\nr2 linear name=b / ext4\n", &[]);
        assert_eq!(
            (entries, broken),
            (
                vec!["r".to_string()],
                vec!["2: its mount point is /".to_string()]
            )
        );
    }

    /// A target line that names what the initrd cannot set up is an error for the image.
    #[test]
    fn a_target_line_naming_a_single_entry() {
        let parsed = crate::tab::parse("c single name=c - -\n");
        let cmds = [
            cmdline::parse("root=UUID=1", false),
            cmdline::parse("root=/dev/mapper/c", false),
        ];
        let img = image(&parsed, &cmds);
        assert_eq!(img.boot_errors.len(), 1, "{:?}", img.boot_errors);
        assert!(img.boot_errors[0]
            .message
            .starts_with("root=/dev/mapper/c names 'c', a single entry"));
    }

    /// The union of every command line the target may boot with decides.
    #[test]
    fn every_target_line_counts() {
        let tab = "a linear name=a\nb linear name=b\n";
        let (entries, _, _, _) = image_of(
            tab,
            &["root=/dev/mapper/a", "root=UUID=2 mount.usr=/dev/mapper/b"],
        );
        assert_eq!(entries, ["a", "b"]);
    }

    /// initramfs-tools' local-top: the root first, whatever its place in the file; `nofail`
    /// entries last and not waited for; `noauto` ones not at all (issue 31).
    #[test]
    fn the_root_first_nofail_never_waited_for() {
        let parsed = crate::tab::parse(
            "spare linear name=s /srv/s ext4 nofail,x-initrd.attach\n\
             early linear name=e /srv/e ext4 x-initrd.attach\n\
             manual linear name=m /srv/m ext4 noauto,x-initrd.attach\n\
             late linear name=l /srv/l ext4\n\
             usr linear name=u /usr ext4 nofail\n\
             root striped:2M name=a,name=b / ext4\n",
        );
        let cmd = cmdline::parse("root=UUID=1 rootflags=dax", true);
        let boot = boot_devices(&parsed.entries, &cmd);
        let got: Vec<(String, bool)> = schedule(&parsed.entries, &boot)
            .into_iter()
            .map(|(e, w)| (e.name.to_string(), w))
            .collect();
        let want = [
            ("usr", true),
            ("root", true),
            ("early", true),
            ("spare", false),
        ];
        assert_eq!(got, want.map(|(n, w)| (n.to_string(), w)));
    }

    #[test]
    fn noauto_attach_is_not_started() {
        let parsed = crate::tab::parse(
            "a linear name=a /srv/a ext4 noauto,x-initrd.attach\nb linear name=b - - noauto\n",
        );
        let cmd = cmdline::parse("root=/dev/mapper/b", true);
        let boot = boot_devices(&parsed.entries, &cmd);
        let (a, b) = (&parsed.entries[0], &parsed.entries[1]);
        assert!(sets_up(a, &boot) && !starts(a, &boot));
        // root= pulls b in, noauto or not, as its device unit does in systemd.
        assert!(starts(b, &boot) && boot_needs(b, &boot));
    }
}
