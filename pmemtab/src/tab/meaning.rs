//! What the options pmemtab acts on mean for an entry: the settings they make in [`Options`]
//! (pmemtab's own, the `x-systemd.*` of systemd.mount(5), `nofail`...) and the values they
//! take. Which options exist, their kinds and which setting each makes ([`Sets`]) is the
//! table's ([`super::options`]).

use super::columns::Field;
use super::line::LineCtx;
use super::model::Options;
use super::options::{Dependency, Known, Sets, Timer};
use crate::kmem;
use crate::systemd;
use crate::timespan;

/// The options column parsed, with where the options the cross-column checks name were written.
#[derive(Default)]
pub(super) struct OptionsResult<'a> {
    pub(super) options: Options,
    /// `mkfs` was given: part of the entry's filesystem, which the cross-column checks decide.
    pub(super) mkfs: bool,
    /// `zone=`: part of a system-ram entry's kind (the options table refuses it elsewhere).
    pub(super) zone: Option<kmem::Zone>,
    /// (option as written, field) of every option only a mount unit honours.
    pub(super) mount_unit: Vec<(String, Field<'a>)>,
    /// Where `x-systemd.idle-timeout=` was written.
    pub(super) idle: Option<Field<'a>>,
    /// Where `x-systemd.automount` was written.
    pub(super) automount: Option<Field<'a>>,
    /// Where `noauto` was written.
    pub(super) noauto: Option<Field<'a>>,
    /// Where `size=` was written.
    pub(super) region_size: Option<Field<'a>>,
    /// Where the first CXL region option (`size=`, `granularity=`) was written.
    pub(super) region_opts: Option<Field<'a>>,
}

/// Applies one known option (`known`, its `value`, `opt` as decoded) to the entry's settings;
/// false, with a diagnostic, when its value cannot be used.
pub(super) fn apply<'a>(
    ctx: &mut LineCtx<'_>,
    of: Field<'a>,
    known: &Known,
    value: Option<&str>,
    opt: &str,
    r: &mut OptionsResult<'a>,
) -> bool {
    let o = &mut r.options;
    let unit = &mut o.systemd;
    let v = value.unwrap_or_default();
    match known.sets {
        Sets::Nothing => {}
        Sets::Nofail => o.nofail = true,
        Sets::Noauto => {
            o.noauto = true;
            r.noauto = Some(of);
        }
        Sets::Netdev => o.netdev = true,
        Sets::InitrdAttach => o.initrd_attach = true,
        Sets::Mkfs => r.mkfs = true,
        Sets::NumaMix => o.numa_mix = true,
        Sets::Zone => {
            let Some(z) = kmem::Zone::parse(v) else {
                ctx.error(
                    &of,
                    format!("unknown memory zone '{v}'"),
                    Some("expected zone=movable (the default) or zone=normal".into()),
                );
                return false;
            };
            r.zone = Some(z);
        }
        Sets::RegionSize => {
            let Some(bytes) = crate::size::parse_bytes(v) else {
                ctx.error(
                    &of,
                    format!("invalid region size '{v}'"),
                    Some(
                        "expected bytes with an optional K, M, G or T suffix, e.g. size=512M"
                            .into(),
                    ),
                );
                return false;
            };
            o.size = Some(bytes);
            r.region_size = Some(of);
            r.region_opts.get_or_insert(of);
        }
        Sets::Granularity => {
            let Some(g) = crate::size::parse_bytes(v)
                .filter(|g| crate::interleave::GRANULARITIES.contains(g))
            else {
                ctx.error(
                    &of,
                    format!("invalid interleave granularity '{v}'"),
                    Some("expected one of 256, 512, 1K, 2K, 4K, 8K, 16K (bytes), as `cxl create-region -g` takes".into()),
                );
                return false;
            };
            o.granularity = Some(g);
            r.region_opts.get_or_insert(of);
        }
        Sets::DaxMode => match value {
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
        Sets::Timeout(timer) => {
            let what = known.key.trim_start_matches("x-systemd.").replace('-', " ");
            let Some(d) = timespan::parse(v).filter(|d| !d.is_zero()) else {
                ctx.error(
                    &of,
                    format!("invalid {what} '{v}'"),
                    Some("expected a finite, positive time such as 30s, 2min or 1min30s".into()),
                );
                return false;
            };
            if let Err(limit) = timespan::check_limit(d) {
                ctx.error(&of, format!("{what} '{v}' is {limit}"), None);
                return false;
            }
            match timer {
                Timer::Device => o.device_timeout = Some(d),
                Timer::Mount => unit.mount_timeout = Some(d),
                Timer::Idle => {
                    unit.idle_timeout = Some(d);
                    r.idle = Some(of);
                }
            }
        }
        Sets::Dependency(dep) => {
            let Ok(name) = systemd::mangle_dependency(v) else {
                ctx.error(
                    &of,
                    format!("'{v}' cannot be made a unit name"),
                    Some("name a unit (foo.service), a path, or a mount point".into()),
                );
                return false;
            };
            let list = match dep {
                Dependency::Requires => &mut unit.requires,
                Dependency::Wants => &mut unit.wants,
                Dependency::After => &mut unit.after,
                Dependency::Before => &mut unit.before,
                Dependency::WantedBy => &mut unit.wanted_by,
                Dependency::RequiredBy => &mut unit.required_by,
            };
            if !list.contains(&name) {
                list.push(name);
            }
        }
        Sets::RequiresMountsFor => {
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
        Sets::Automount => {
            unit.automount = true;
            r.automount = Some(of);
        }
        Sets::RwOnly => unit.rw_only = true,
        Sets::ValidateFs => unit.validatefs = true,
    }
    true
}
