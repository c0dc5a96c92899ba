//! `import`: pmemtab lines for the device-mapper devices built by hand (`dmsetup create`), or
//! for a table given as text. Read-only; the decisions are pmemtab::import's.

use super::common::scan;
use crate::ctx::Ctx;
use crate::error::Error;
use crate::exit::Exit;
use crate::json::Json;
use crate::{assemble, mount, nodes};
use argh::FromArgs;
use pmemtab::dmtable::{self, DevRef, Target};
use pmemtab::import::{import, parse_table, Claims, LiveMount, Outcome};
use pmemtab::text::escape_control;
use std::io::Read;
use std::path::PathBuf;

/// Print the pmemtab line that builds each live linear or striped device-mapper device over
/// pmem exactly as it is (members by uuid, its mount), or why there is none; with --table, do
/// it for a table given as text (dmsetup table output, or a script's table lines).
#[derive(FromArgs, Debug)]
#[argh(subcommand, name = "import")]
pub struct Args {
    /// machine-readable JSON
    #[argh(switch)]
    pub json: bool,
    /// read the table from FILE (- for stdin) instead of the kernel; lines without a `NAME:`
    /// prefix belong to the one name given
    #[argh(option)]
    pub table: Option<PathBuf>,
    /// print cxl-pmem lines for the CXL pmem regions instead (members by serial in position
    /// order, their size and granularity)
    #[argh(switch)]
    pub cxl: bool,
    /// device names (default: every device-mapper device)
    #[argh(positional)]
    pub names: Vec<String>,
}

/// One device to import: name, dm uuid, table, mount.
struct Found {
    name: String,
    uuid: Option<String>,
    targets: Vec<Target<DevRef>>,
    mounted: Option<LiveMount>,
}

pub fn run(ctx: &Ctx, args: Args) -> Result<(), Error> {
    if args.cxl {
        if args.table.is_some() || !args.names.is_empty() {
            return Err(Error::Usage(
                "import: --cxl takes neither --table nor names",
            ));
        }
        return run_cxl(ctx, args.json);
    }
    let found = match &args.table {
        Some(path) => from_text(path, &args.names)?,
        None => from_kernel(ctx, &args.names)?,
    };
    let namespaces = scan(ctx)?;
    // The lines are to be appended to pmemtab: planned with its entries (none when it does
    // not exist yet), whose own diagnostics are `check`'s to report.
    let existing = existing(ctx)?;
    let mut claims = Claims::new(existing, &ctx.pmemtab.display().to_string());
    let mut worst = Exit::Ok;
    let mut items = Vec::new();
    let mut text = String::new();
    for f in &found {
        let outcome = import(
            &f.name,
            f.uuid.as_deref(),
            &f.targets,
            &namespaces,
            f.mounted.as_ref(),
        );
        let outcome = claims.admit(outcome, &namespaces);
        let shown = escape_control(&f.name);
        let (status, line, reasons) = match &outcome {
            Outcome::Line { line, notes } => {
                text.push_str(line);
                text.push('\n');
                for n in notes {
                    text.push_str(&format!("#   {shown}: {n}\n"));
                }
                ("importable", Some(line.clone()), notes.clone())
            }
            Outcome::Managed => {
                text.push_str(&format!("# {shown}: already managed by pmemtab\n"));
                ("managed", None, Vec::new())
            }
            Outcome::NotPmem => {
                if !args.names.is_empty() {
                    text.push_str(&format!("# {shown}: not over pmem namespaces, skipped\n"));
                }
                ("not-pmem", None, Vec::new())
            }
            Outcome::Refused(why) => {
                worst = Exit::Refused;
                for w in why {
                    text.push_str(&format!("# {shown}: not imported: {w}\n"));
                }
                ("refused", None, why.clone())
            }
        };
        let table = dmtable::print(&f.targets);
        items.push(
            Json::obj()
                .with("name", Json::from(f.name.as_str()))
                .with("dm_uuid", f.uuid.clone().map_or(Json::Null, Json::from))
                .with("table", Json::from(table))
                .with("status", Json::from(status))
                .with("line", line.map_or(Json::Null, Json::from))
                .with(
                    "reasons",
                    Json::Arr(reasons.into_iter().map(Json::from).collect()),
                ),
        );
    }
    if text.is_empty() {
        text.push_str("# nothing to import: no device-mapper device over pmem\n");
    }
    if args.json {
        out!("{}", Json::obj().with("devices", Json::Arr(items)).pretty());
    } else {
        out!("{text}");
    }
    refused(worst)
}

/// The status of an import whose refused devices are said in its output.
fn refused(worst: Exit) -> Result<(), Error> {
    match worst {
        Exit::Ok => Ok(()),
        worst => Err(Error::Said(worst)),
    }
}

/// The entries of pmemtab that printed lines are to be appended to (none when it does not
/// exist yet); their own diagnostics are `check`'s to report.
fn existing(ctx: &Ctx) -> Result<Vec<pmemtab::tab::Entry>, Error> {
    if !ctx.pmemtab.exists() {
        return Ok(Vec::new());
    }
    super::common::load(&ctx.pmemtab)
        .map(|p| p.entries.into())
        .map_err(|e| Error::refused("import", e.to_string()))
}

fn from_text(path: &PathBuf, names: &[String]) -> Result<Vec<Found>, Error> {
    let mut text = String::new();
    let read = if path.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(path).map(|t| text = t)
    };
    if let Err(e) = read {
        return Err(Error::system(
            "import",
            format_args!("reading {}: {e}", path.display()),
        ));
    }
    let devices = parse_table(&text)
        .map_err(|e| Error::refused("import", format!("{}: {e}", path.display())))?;
    let default = match names {
        [one] => Some(one.clone()),
        _ => None,
    };
    let mut found: Vec<Found> = Vec::new();
    for (name, targets) in devices {
        let Some(name) = name.or_else(|| default.clone()) else {
            return Err(Error::TableUsage(format!(
                "{}: a line has no `NAME:` prefix; give the device's name: import --table FILE NAME",
                path.display()
            )));
        };
        match found.iter_mut().find(|f| f.name == name) {
            Some(f) => f.targets.extend(targets),
            None => found.push(Found {
                name,
                uuid: None,
                targets,
                mounted: None,
            }),
        }
    }
    // The names pick devices from the table as they pick live ones.
    if !names.is_empty() {
        found.retain(|f| names.contains(&f.name));
    }
    for n in names {
        if !found.iter().any(|f| &f.name == n) {
            return Err(Error::TableUsage(format!(
                "{}: no device named {} in it",
                path.display(),
                escape_control(n)
            )));
        }
    }
    Ok(found)
}

fn from_kernel(ctx: &Ctx, names: &[String]) -> Result<Vec<Found>, Error> {
    // Without dm_mod no device-mapper device exists: nothing to import, no module loaded.
    if !nodes::dm_loaded(&ctx.sysfs) {
        return Ok(Vec::new());
    }
    let mounts = mount::mountinfo(&ctx.proc).unwrap_or_default();
    let gathered = assemble::open_control(
        ctx,
        crate::wait::Deadline::after(pmemtab::timeouts::OPEN_CONTROL_LIMIT),
    )
    .and_then(|mut ctl| {
        let mut out = Vec::new();
        for (name, devnum) in ctl.list()? {
            if !names.is_empty() && !names.contains(&name) {
                continue;
            }
            let uuid = ctl.info(&name)?.map(|i| i.uuid);
            let targets = ctl
                .table(&name)?
                .iter()
                .map(|t| t.map(|d| DevRef::Num(*d)))
                .collect();
            let mounted = mount::mounts_of(&mounts, devnum)
                .first()
                .map(|m| LiveMount {
                    mount_point: m.mount_point.clone(),
                    fstype: m.fstype.clone(),
                    options: m.mount_opts.iter().chain(&m.super_opts).cloned().collect(),
                });
            out.push(Found {
                name,
                uuid,
                targets,
                mounted,
            });
        }
        Ok(out)
    });
    let mut found = gathered.map_err(|e| Error::assemble("import", e))?;
    found.sort_by(|a, b| a.name.cmp(&b.name));
    for n in names {
        if !found.iter().any(|f| &f.name == n) {
            return Err(Error::system(
                "import",
                format_args!("{}: no such device-mapper device", escape_control(n)),
            ));
        }
    }
    Ok(found)
}

/// `import --cxl`: a cxl-pmem line per CXL pmem region, or why not.
fn run_cxl(ctx: &Ctx, json: bool) -> Result<(), Error> {
    use pmemtab::cxl::import::{import, Outcome};
    let bus = pmemtab::cxl::scan::scan(&ctx.sysfs).map_err(|e| Error::system("import", e))?;
    let existing = existing(ctx)?;
    let mut worst = Exit::Ok;
    let mut text = String::new();
    let mut items = Vec::new();
    for (region, outcome) in import(&bus, &existing) {
        let (status, line, reason) = match outcome {
            Outcome::Line(line) => {
                text.push_str(&line);
                text.push('\n');
                ("importable", Some(line), None)
            }
            Outcome::Declared { entry, line } => {
                text.push_str(&format!(
                    "# {region}: already declared by '{entry}' on line {line}\n"
                ));
                ("managed", None, None)
            }
            Outcome::Refused(why) => {
                worst = Exit::Refused;
                text.push_str(&format!("# {region}: not imported: {why}\n"));
                ("refused", None, Some(why))
            }
        };
        items.push(
            Json::obj()
                .with("region", Json::from(region.as_str()))
                .with("status", Json::from(status))
                .with("line", line.map_or(Json::Null, Json::from))
                .with("reason", reason.map(Json::from)),
        );
    }
    if text.is_empty() {
        text.push_str("# nothing to import: no CXL pmem region\n");
    }
    if json {
        out!("{}", Json::obj().with("regions", Json::Arr(items)).pretty());
    } else {
        out!("{text}");
    }
    refused(worst)
}
