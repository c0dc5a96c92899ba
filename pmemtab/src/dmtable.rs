//! A plan's device-mapper targets and their text exactly as `dmsetup table` prints it.

use crate::devnum::DevNum;
use crate::size::Sectors;

/// One dm target: `start length type params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub start: Sectors,
    pub length: Sectors,
    pub kind: TargetKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// dm-linear: `<dev> <offset>`.
    Linear { dev: DevNum, offset: Sectors },
    /// dm-striped: `<#stripes> <chunk> (<dev> <offset>)...`.
    Striped {
        chunk: Sectors,
        stripes: Vec<(DevNum, Sectors)>,
    },
}

impl Target {
    /// The kernel's target type name.
    pub fn target_type(&self) -> &'static str {
        match self.kind {
            TargetKind::Linear { .. } => "linear",
            TargetKind::Striped { .. } => "striped",
        }
    }

    /// The parameter string, as given to TABLE_LOAD and as the kernel reports it back.
    pub fn params(&self) -> String {
        match &self.kind {
            TargetKind::Linear { dev, offset } => format!("{dev} {offset}"),
            TargetKind::Striped { chunk, stripes } => {
                let mut s = format!("{} {}", stripes.len(), chunk);
                for (dev, offset) in stripes {
                    s.push_str(&format!(" {dev} {offset}"));
                }
                s
            }
        }
    }

    /// The member devices this target maps.
    pub fn devices(&self) -> Vec<DevNum> {
        match &self.kind {
            TargetKind::Linear { dev, .. } => vec![*dev],
            TargetKind::Striped { stripes, .. } => stripes.iter().map(|(d, _)| *d).collect(),
        }
    }
}

/// The whole table as `dmsetup table NAME` prints it: one line per target, newline-terminated.
pub fn dmsetup_table(targets: &[Target]) -> String {
    let mut out = String::new();
    for t in targets {
        out.push_str(&format!(
            "{} {} {} {}\n",
            t.start,
            t.length,
            t.target_type(),
            t.params()
        ));
    }
    out
}

/// One target of a live table, as TABLE_STATUS reports it and `dmsetup table` prints it (or
/// as a script writes it, for `import --table`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveTarget {
    pub start: u64,
    pub length: u64,
    pub target_type: String,
    pub params: String,
}

/// A live table as `dmsetup table` prints it (the same form as [`dmsetup_table`]).
pub fn table_text(targets: &[LiveTarget]) -> String {
    targets
        .iter()
        .map(|t| format!("{} {} {} {}\n", t.start, t.length, t.target_type, t.params))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(minor: u32) -> DevNum {
        DevNum { major: 259, minor }
    }

    #[test]
    fn linear_and_striped_text() {
        let t = vec![
            Target {
                start: Sectors(0),
                length: Sectors(1024),
                kind: TargetKind::Linear {
                    dev: dev(3),
                    offset: Sectors(0),
                },
            },
            Target {
                start: Sectors(1024),
                length: Sectors(2048),
                kind: TargetKind::Linear {
                    dev: dev(2),
                    offset: Sectors(8),
                },
            },
        ];
        assert_eq!(
            dmsetup_table(&t),
            "0 1024 linear 259:3 0\n1024 2048 linear 259:2 8\n"
        );
        let s = Target {
            start: Sectors(0),
            length: Sectors(8192),
            kind: TargetKind::Striped {
                chunk: Sectors(4096),
                stripes: vec![(dev(3), Sectors(0)), (dev(2), Sectors(0))],
            },
        };
        assert_eq!(
            dmsetup_table(std::slice::from_ref(&s)),
            "0 8192 striped 2 4096 259:3 0 259:2 0\n"
        );
        assert_eq!(s.devices(), vec![dev(3), dev(2)]);
    }
}
