//! The options column: each option checked against the table ([`super::options`]) and the
//! entry's layout, then given its meaning ([`super::meaning`]). Refused options are reported
//! and dropped; the others stay in the order written.

use super::columns::{split_options, Field};
use super::line::LineCtx;
use super::meaning::{self, OptionsResult};
use super::model::Layout;
use super::options::{self, FormError, Value};
use std::collections::HashMap;

pub(super) fn parse_options<'a>(
    ctx: &mut LineCtx<'_>,
    f: &Field<'a>,
    layout: Option<Layout>,
) -> OptionsResult<'a> {
    let mut r = OptionsResult::default();
    if f.is_empty_marker() {
        return r;
    }
    // key -> (first decoded option with that key, as written)
    let mut first: HashMap<String, String> = HashMap::new();
    for (offset, raw, opt) in split_options(f.text) {
        let of = f.sub(offset, raw);
        if opt.is_empty() {
            ctx.error(
                &Field { text: ",", ..of },
                "empty option",
                Some("options are separated by single commas".into()),
            );
            continue;
        }
        if opt.chars().any(char::is_control) {
            ctx.error(
                &of,
                format!("option '{opt}' contains a control character"),
                Some("a unit file cannot hold it; remove it".into()),
            );
            continue;
        }
        if opt.ends_with('\\') {
            ctx.error(
                &of,
                format!("option '{opt}' ends with a backslash"),
                Some("a unit file reads a trailing \\ as a line continuation; remove it".into()),
            );
            continue;
        }
        let form = match options::mount_form(&opt) {
            Ok(form) => form,
            Err(FormError::OpenQuote) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' has a \" without its closing one"),
                    None,
                );
                continue;
            }
            Err(FormError::Comma) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' holds a comma mount(8) would split at"),
                    Some("a comma can only be in a value: key=\"a,b\" or key=a\\,b".into()),
                );
                continue;
            }
        };
        let key = options::key(&opt).to_string();
        if let Some(refused) = options::refused(&opt) {
            ctx.error(
                &of,
                format!("option '{}' is not supported", refused.key),
                Some(refused.why.into()),
            );
            continue;
        }
        if opt.starts_with("comment=systemd.") {
            ctx.error(
                &of,
                format!("'{opt}' is the old spelling of a systemd option"),
                Some(format!(
                    "write x-systemd.{}",
                    opt.trim_start_matches("comment=systemd.")
                )),
            );
            continue;
        }
        let known = options::lookup(&opt);
        if known.is_none() && key.starts_with("x-systemd.") {
            ctx.error(
                &of,
                format!("unknown systemd option '{key}'"),
                Some("pmemtab implements x-systemd.requires=, .wants=, .after=, .before=, .requires-mounts-for=, .wanted-by=, .required-by=, .automount, .idle-timeout=, .mount-timeout=, .device-timeout=, .rw-only, .validatefs and .device-bound (see pmemtab(5))".into()),
            );
            continue;
        }
        if layout == Some(Layout::SystemRam) && options::about_mounting(&opt) {
            ctx.error(
                &of,
                format!("option '{key}' is about mounting, and a system-ram entry is not mounted"),
                Some("a system-ram entry takes nofail, noauto, x-initrd.attach, x-systemd.device-timeout=, zone= and, over serial= members, size= and granularity= (see pmemtab(5))".into()),
            );
            continue;
        }
        if layout == Some(Layout::CxlPmem) && options::about_mounting(&opt) {
            ctx.error(
                &of,
                format!("option '{key}' is about mounting, and a cxl-pmem entry is a region, not mounted (its namespaces' entries are)"),
                Some("a cxl-pmem entry takes size=, granularity=, nofail, noauto, x-initrd.attach and x-systemd.device-timeout= (see pmemtab(5))".into()),
            );
            continue;
        }
        let value = opt.split_once('=').map(|(_, v)| v);
        match (known.map(|k| k.value), value) {
            (Some(Value::No), Some(_)) => {
                ctx.error(&of, format!("option '{key}' takes no value"), None);
                continue;
            }
            (Some(Value::Required), None | Some("")) => {
                ctx.error(&of, format!("option '{key}=' needs a value"), None);
                continue;
            }
            _ => {}
        }
        // Twice the same, or two different values of a setting that has one.
        match first.get(&key) {
            Some(earlier) if *earlier == opt => {
                ctx.warn(
                    &of,
                    format!("option '{opt}' is given twice"),
                    Some("remove one".into()),
                );
                continue;
            }
            Some(earlier) if known.is_some_and(|k| k.single) => {
                ctx.error(
                    &of,
                    format!("option '{opt}' contradicts '{earlier}' before it"),
                    Some("give it once".into()),
                );
                continue;
            }
            _ => {}
        }
        let contradiction = match key.as_str() {
            "auto" => first.get("noauto"),
            "noauto" => first.get("auto"),
            _ => None,
        };
        if let Some(other) = contradiction {
            ctx.error(
                &of,
                format!("option '{opt}' contradicts '{other}' before it"),
                Some("give one of them".into()),
            );
            continue;
        }
        first.entry(key.clone()).or_insert_with(|| opt.clone());
        if known.is_some_and(|k| k.unit) {
            r.mount_unit.push((opt.clone(), of));
        }
        let restriction = known.and_then(|k| k.restriction);
        if let (Some(rule), Some(layout)) = (restriction, layout) {
            if !rule.only.admits(layout) {
                ctx.error(&of, rule.message, Some(rule.hint.into()));
                continue;
            }
        }
        match known {
            Some(k) if !meaning::apply(ctx, of, k, value, &opt, &mut r) => continue,
            Some(_) => {}
            None if options::is_userspace_prefix(&opt) => {}
            None => ctx.warn(
                &of,
                format!("unknown option '{opt}', passed to mount as is"),
                None,
            ),
        }
        if options::kind_of(&opt).for_mount() {
            r.options.mount.push(form);
        }
    }
    r
}
