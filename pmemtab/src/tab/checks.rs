//! Rules across columns of one line: the members a layout takes, what a mount needs (a
//! filesystem type, a mount point for mkfs-less types) and which options need the mount unit
//! the generator writes for it. (Whether the generator can write that unit, the parser asks
//! the renderer: `units::check`.)

use super::columns::Field;
use super::line::LineCtx;
use super::meaning::OptionsResult;
use super::model::{FsType, Layout, Member};
use super::options;

/// The member count and kinds a layout needs, and the CXL region options' rules (which
/// depend on the members).
pub(super) fn check_layout_members(
    ctx: &mut LineCtx<'_>,
    layout: Layout,
    members: &[Member],
    f: &Field,
    options: &OptionsResult,
) {
    let n = members.len();
    let serials = members
        .iter()
        .filter(|m| matches!(m, Member::Serial(_)))
        .count();
    match layout {
        Layout::CxlPmem if serials != n => ctx.error(
            f,
            "a cxl-pmem entry names its CXL memory devices by serial only",
            Some("write serial=<serial> per device, in region position order (see `cxl list -M`); its namespaces go on lines of their own, by uuid=".into()),
        ),
        Layout::SystemRam if serials != 0 && serials != n => ctx.error(
            f,
            "a system-ram entry names either CXL memory devices (serial=) or devdax namespaces, not both",
            Some("write one system-ram line per kind".into()),
        ),
        Layout::SystemRam if serials == 0 => {
            if let Some(of) = &options.region_opts {
                ctx.error(
                    of,
                    "size= and granularity= apply to a system-ram entry over CXL devices (serial= members) only",
                    Some("a devdax namespace's size is its own: remove it".into()),
                );
            }
        }
        _ if serials > 0 && !layout.is_unmounted() => ctx.error(
            f,
            format!("serial= names a CXL memory device, which a {layout} entry cannot use"),
            Some("declare the region with a cxl-pmem line and name its namespaces by uuid= here; volatile CXL memory goes in a system-ram line".into()),
        ),
        _ => {}
    }
    if serials == n && serials > 0 {
        if let Err(why) = crate::interleave::check_ways(n as u64) {
            ctx.error(f, why, None);
        }
        if let (Some(size), Some(of)) = (options.options.size, &options.region_size) {
            if let Err(why) = crate::interleave::check_size(size, n as u64) {
                ctx.error(of, why, Some(crate::interleave::size_hint(n as u64)));
            }
        }
    }
    match layout {
        Layout::Striped { .. } if n < 2 => ctx.error(
            f,
            format!("striped needs at least 2 members, has {n}"),
            Some("use single for one namespace".into()),
        ),
        Layout::Single if n != 1 => ctx.error(
            f,
            format!("single takes exactly 1 member, has {n}"),
            Some("use linear or striped for several".into()),
        ),
        _ => {}
    }
}

/// Cross-column rules for the mount part; returns the filesystem type to use.
pub(super) fn check_mount(
    ctx: &mut LineCtx<'_>,
    layout: Layout,
    mount_point: Option<&str>,
    fstype: Option<FsType>,
    options: &OptionsResult,
    cols: &[Field],
) -> Option<FsType> {
    let last = cols.last().copied().unwrap_or(Field {
        text: " ",
        column: 1,
    });
    if layout.is_unmounted() {
        if let Some(f) = cols
            .get(3)
            .filter(|_| mount_point.is_some())
            .or(cols.get(4).filter(|_| fstype.is_some()))
        {
            let (message, hint) = if layout == Layout::CxlPmem {
                (
                    "a cxl-pmem entry is a region, not a filesystem",
                    "write - for mount point and fstype; mount its namespace with a line of its own (uuid=<namespace uuid>)",
                )
            } else {
                (
                    "a system-ram entry becomes memory, not a filesystem",
                    "write - for mount point and fstype",
                )
            };
            ctx.error(f, message, Some(hint.into()));
        }
        if options.mkfs {
            ctx.error(&last, format!("mkfs makes no sense for {layout}"), None);
        }
        return None;
    }
    check_mount_unit(ctx, mount_point, options);
    if let (Some(mp @ ("/" | "/usr")), Some(f)) = (mount_point, &options.noauto) {
        // The initrd must set the root up at every boot: nothing would start it with
        // root=UUID=, and initramfs-tools' scripts would skip it.
        ctx.error(
            f,
            format!(
                "{mp} cannot be noauto: the initrd sets it up at every boot, or the boot fails"
            ),
            Some("remove noauto".into()),
        );
    }
    match (mount_point, fstype) {
        // A mount point without a type: ext4, the documented default.
        (Some(_), None) => Some(FsType::Ext4),
        (None, Some(t)) if options.mkfs => Some(t),
        (None, Some(t)) => {
            if let Some(f) = cols.get(4) {
                ctx.warn(
                    f,
                    format!("fstype {t} without a mount point is only used by mkfs"),
                    None,
                );
            }
            Some(t)
        }
        (None, None) if options.mkfs => {
            ctx.error(
                &last,
                "mkfs needs a filesystem type",
                Some("give ext4 or xfs in the fstype column".into()),
            );
            None
        }
        (_, t) => t,
    }
}

/// Options that only a mount unit honours need one (a mount point other than `/`, which
/// `root=` mounts), and some need each other.
fn check_mount_unit(ctx: &mut LineCtx<'_>, mount_point: Option<&str>, options: &OptionsResult) {
    let o = &options.options;
    let unitless = match mount_point {
        None => Some("this entry has no mount point"),
        Some("/") => Some("pmemtab writes no mount unit for / (root= mounts it)"),
        Some(_) => None,
    };
    if let Some(why) = unitless {
        for (opt, f) in &options.mount_unit {
            ctx.error(
                f,
                format!(
                    "option '{}' applies to the mount unit, and {why}",
                    options::key(opt)
                ),
                Some("remove it, or give the entry a mount point".into()),
            );
        }
    }
    if let (Some(f), false) = (&options.idle, o.systemd.automount) {
        ctx.error(
            f,
            "x-systemd.idle-timeout= is the idle time of an automount",
            Some("add x-systemd.automount, or remove it".into()),
        );
    }
    if let (Some(f), true) = (&options.automount, o.initrd_attach) {
        ctx.error(
            f,
            "x-systemd.automount cannot be used with x-initrd.attach: the initrd mounts the device before switching root",
            Some("remove one of them".into()),
        );
    }
}
