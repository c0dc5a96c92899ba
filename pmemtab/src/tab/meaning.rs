//! What the options pmemtab acts on mean for an entry: the settings they make in [`Options`]
//! (pmemtab's own, the `x-systemd.*` of systemd.mount(5), `nofail`...) and the values they
//! take. Which options exist, and their kinds, is the table's ([`super::options`]).

use super::columns::Field;
use super::line::LineCtx;
use super::model::Options;
use crate::kmem;
use crate::systemd;
use crate::timeouts;
use crate::timespan;

/// The options column parsed, with where the options the cross-column checks name were written.
#[derive(Default)]
pub(super) struct OptionsResult<'a> {
    pub(super) options: Options,
    /// (option as written, field) of every option only a mount unit honours.
    pub(super) mount_unit: Vec<(String, Field<'a>)>,
    /// Where `x-systemd.idle-timeout=` was written.
    pub(super) idle: Option<Field<'a>>,
    /// Where `x-systemd.automount` was written.
    pub(super) automount: Option<Field<'a>>,
}

/// Applies one option (`key`, its `value`, `opt` as decoded) to the entry's settings; false,
/// with a diagnostic, when its value cannot be used. Options that set nothing pass.
pub(super) fn apply<'a>(
    ctx: &mut LineCtx<'_>,
    of: Field<'a>,
    key: &str,
    value: Option<&str>,
    opt: &str,
    r: &mut OptionsResult<'a>,
) -> bool {
    let o = &mut r.options;
    let unit = &mut o.systemd;
    match key {
        "nofail" => o.nofail = true,
        "noauto" => o.noauto = true,
        "_netdev" => o.netdev = true,
        "x-initrd.attach" | "x-initrd.mount" => o.initrd_attach = true,
        "mkfs" => o.mkfs = true,
        "numa-mix" => o.numa_mix = true,
        "zone" => {
            let v = value.unwrap_or_default();
            let Some(z) = kmem::Zone::parse(v) else {
                ctx.error(
                    &of,
                    format!("unknown memory zone '{v}'"),
                    Some("expected zone=movable (the default) or zone=normal".into()),
                );
                return false;
            };
            o.zone = Some(z);
        }
        "dax" => match value {
            None | Some("always") | Some("inode") => {}
            Some("never") => ctx.warn(&of, "dax=never turns DAX off for this device", None),
            Some(_) => {
                ctx.error(
                    &of,
                    format!("unknown DAX mode '{opt}'"),
                    Some("expected dax, dax=always, dax=inode or dax=never".into()),
                );
                return false;
            }
        },
        "x-systemd.device-timeout" | "x-systemd.mount-timeout" | "x-systemd.idle-timeout" => {
            let v = value.unwrap_or_default();
            let what = key.trim_start_matches("x-systemd.").replace('-', " ");
            let Some(d) = timespan::parse(v).filter(|d| !d.is_zero()) else {
                ctx.error(
                    &of,
                    format!("invalid {what} '{v}'"),
                    Some("expected a finite, positive time such as 30s, 2min or 1min30s".into()),
                );
                return false;
            };
            if let Err(limit) = timeouts::check_limit(d) {
                ctx.error(&of, format!("{what} '{v}' is {limit}"), None);
                return false;
            }
            match key {
                "x-systemd.device-timeout" => o.device_timeout = Some(d),
                "x-systemd.mount-timeout" => unit.mount_timeout = Some(d),
                _ => {
                    unit.idle_timeout = Some(d);
                    r.idle = Some(of);
                }
            }
        }
        "x-systemd.requires"
        | "x-systemd.after"
        | "x-systemd.before"
        | "x-systemd.wanted-by"
        | "x-systemd.required-by" => {
            let v = value.unwrap_or_default();
            let Ok(name) = systemd::mangle_dependency(v) else {
                ctx.error(
                    &of,
                    format!("'{v}' cannot be made a unit name"),
                    Some("name a unit (foo.service), a path, or a mount point".into()),
                );
                return false;
            };
            let list = match key {
                "x-systemd.requires" => &mut unit.requires,
                "x-systemd.after" => &mut unit.after,
                "x-systemd.before" => &mut unit.before,
                "x-systemd.wanted-by" => &mut unit.wanted_by,
                _ => &mut unit.required_by,
            };
            if !list.contains(&name) {
                list.push(name);
            }
        }
        "x-systemd.requires-mounts-for" => {
            let v = value.unwrap_or_default();
            let plain = !v.contains(|c: char| c.is_whitespace() || c == '"' || c == '\\');
            match systemd::simplify_path(v) {
                Ok(p) if plain => unit.requires_mounts_for.push(p),
                _ => {
                    ctx.error(
                        &of,
                        format!("x-systemd.requires-mounts-for= needs an absolute path without blanks, quotes or backslashes, not '{v}'"),
                        None,
                    );
                    return false;
                }
            }
        }
        "x-systemd.automount" => {
            unit.automount = true;
            r.automount = Some(of);
        }
        "x-systemd.rw-only" => unit.rw_only = true,
        _ => {}
    }
    true
}
