//! What the initrd does for pmemtab, in one place: which entries it sets up (the generator in
//! a systemd initrd, `pmem-assemble up --initrd` in initramfs-tools' scripts), and what an
//! initramfs builder must put in the image for them (`pmem-assemble initramfs`, which the
//! dracut module and the initramfs-tools hook read instead of parsing pmemtab themselves).

use crate::cmdline::BootDevices;
use crate::tab::{Entry, Layout};

/// Whether the initrd sets `entry` up: `x-initrd.attach` (or `x-initrd.mount`), or the boot
/// needs it (`/`, `/usr`, or named by `root=`/`mount.usr=`).
pub fn sets_up(entry: &Entry, boot: &BootDevices<'_>) -> bool {
    entry.options.initrd_attach || boot.names.contains(&entry.name.as_str())
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

/// What an initramfs needs for the entries the initrd sets up.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs<'a> {
    /// The entries, in file order.
    pub entries: Vec<&'a Entry>,
    /// Kernel modules: [`BASE_MODULES`], `kmem` for system-ram, each filesystem's.
    pub modules: Vec<String>,
    /// Programs the initrd runs besides pmem-assemble: `mkfs.<fs>` for `mkfs` entries.
    pub programs: Vec<String>,
}

/// The entries of `entries` the initrd sets up, and what they need in the image. Empty
/// when there are none.
pub fn needs<'a>(entries: &'a [Entry], boot: &BootDevices<'_>) -> Needs<'a> {
    let mut out = Needs::default();
    let add = |list: &mut Vec<String>, item: &str| {
        if !list.iter().any(|x| x == item) {
            list.push(item.to_string());
        }
    };
    for e in entries.iter().filter(|e| sets_up(e, boot)) {
        out.entries.push(e);
    }
    if out.entries.is_empty() {
        return out;
    }
    for m in BASE_MODULES {
        add(&mut out.modules, m);
    }
    for e in &out.entries {
        if e.layout == Layout::SystemRam {
            add(&mut out.modules, "kmem");
        }
        let Some(fs) = e.fstype.as_ref() else {
            continue;
        };
        add(&mut out.modules, fs.as_str());
        if e.options.mkfs {
            add(&mut out.programs, &format!("mkfs.{}", fs.as_str()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmdline;

    fn needs_of(tab: &str, cmd: &str) -> (Vec<String>, Vec<String>, Vec<String>) {
        let parsed = crate::tab::parse(tab);
        assert!(
            parsed.diagnostics.iter().all(|d| !d.is_error()),
            "{:?}",
            parsed.diagnostics
        );
        let cmd = cmdline::parse(cmd, true);
        let boot = cmdline::boot_devices(&parsed.entries, &cmd);
        let n = needs(&parsed.entries, &boot);
        (
            n.entries.iter().map(|e| e.name.to_string()).collect(),
            n.modules,
            n.programs,
        )
    }

    #[test]
    fn what_the_initrd_sets_up_and_needs() {
        let tab = "root striped:2M name=a,name=b / ext4 -\n\
                   early linear name=c /srv/early xfs mkfs,x-initrd.attach\n\
                   late linear name=d /srv/late ext4 mkfs\n\
                   m linear name=e /srv/m ext4 x-initrd.mount\n\
                   ram system-ram name=f - - x-initrd.attach\n";
        let (entries, modules, programs) = needs_of(tab, "root=UUID=1 rootflags=dax");
        assert_eq!(entries, ["root", "early", "m", "ram"]);
        let mut want = BASE_MODULES.to_vec();
        want.extend(["ext4", "xfs", "kmem"]);
        assert_eq!(modules, want);
        // late's mkfs runs after switch-root, with the booted system's mkfs.
        assert_eq!(programs, ["mkfs.xfs"]);
    }

    #[test]
    fn nothing_for_the_initrd_needs_nothing() {
        let (entries, modules, programs) =
            needs_of("late linear name=d /srv/late ext4 mkfs\n", "root=/dev/sda1");
        assert!(entries.is_empty() && modules.is_empty() && programs.is_empty());
    }

    /// What the old awk in the dracut module got wrong is the parser's: CRLF lines, `/usr/`
    /// and `//`, and fstype `none`.
    #[test]
    fn the_parser_decides_what_a_line_says() {
        let tab = "a linear name=a /usr/ xfs x-initrd.attach\r\nb linear name=b /srv/b none x-initrd.attach\r\n";
        let (entries, modules, _) = needs_of(tab, "");
        assert_eq!(entries, ["a", "b"]);
        assert!(modules.iter().any(|m| m == "xfs"), "{modules:?}");
        assert!(
            !modules
                .iter()
                .any(|m| m.contains("none") || m.contains('\r')),
            "{modules:?}"
        );
    }
}
