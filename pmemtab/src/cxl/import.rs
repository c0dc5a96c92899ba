//! Existing CXL regions → the pmemtab lines that declare them exactly as they are
//! (members by serial in position order, size and granularity), or why not. Every line made
//! is parsed and planned again before it is offered: it must recognise the very region.

use super::model::{Cxl, Mode, Region};
use super::plan::{plan, RegionPlan};
use crate::size::suffixed;
use crate::tab::{parse, Entry, Member};

/// What `import --cxl` says about one region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The line to add.
    Line(String),
    /// A pmemtab line declares it already.
    Declared { entry: String, line: usize },
    /// Cannot be declared as it is: why.
    Refused(String),
}

/// One outcome per pmem or ram region on the bus, in region order: pmem regions become
/// cxl-pmem lines, ram regions system-ram lines (zone= left at its default, movable).
pub fn import(cxl: &Cxl, existing: &[Entry]) -> Vec<(String, Outcome)> {
    cxl.regions
        .iter()
        .filter(|r| matches!(r.mode, Some(Mode::Pmem | Mode::Ram)))
        .map(|r| (r.name.clone(), one(cxl, r, existing)))
        .collect()
}

fn one(cxl: &Cxl, r: &Region, existing: &[Entry]) -> Outcome {
    if !r.committed {
        return Outcome::Refused("not committed (made halfway): nothing to declare".into());
    }
    let mut serials = Vec::with_capacity(r.targets.len());
    for (i, t) in r.targets.iter().enumerate() {
        let Some(m) = t.as_deref().and_then(|t| cxl.owner_of(t)) else {
            return Outcome::Refused(format!("position {i} has no device"));
        };
        if m.serial == 0 {
            return Outcome::Refused(format!(
                "{} (position {i}) has no serial, so no line can name it",
                m.name
            ));
        }
        serials.push(m.serial);
    }
    if let Some(e) = existing.iter().find(|e| {
        e.members()
            .iter()
            .any(|m| matches!(m, Member::Serial(s) if serials.contains(s)))
    }) {
        return Outcome::Declared {
            entry: e.name.to_string(),
            line: e.line,
        };
    }
    let hex: Vec<String> = serials.iter().map(|s| format!("{s:x}")).collect();
    let name = format!("cxl-{}", hex.join("-"));
    let members: Vec<String> = serials.iter().map(|s| format!("serial={s:#x}")).collect();
    let layout = if r.mode == Some(Mode::Ram) {
        "system-ram"
    } else {
        "cxl-pmem"
    };
    let line = format!(
        "{name} {layout} {} - - size={},granularity={}",
        members.join(","),
        suffixed(r.size),
        r.granularity
    );
    // The line as pmemtab will read it: it must recognise this region and no other.
    let parsed = parse(&format!("{line}\n"));
    let recognised = parsed
        .entries
        .first()
        .filter(|_| !parsed.has_errors())
        .map(|e| plan(e, cxl));
    match recognised {
        Some(Ok(RegionPlan::Recognised { region, .. })) if region == r.name => Outcome::Line(line),
        Some(Err(why)) => Outcome::Refused(why.to_string()),
        _ => {
            let why: Vec<String> = parsed
                .diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect();
            Outcome::Refused(format!(
                "the line made for it would not recognise it: {}",
                if why.is_empty() { line } else { why.join("; ") }
            ))
        }
    }
}
