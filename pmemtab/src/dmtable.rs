//! A device-mapper table, typed both ways: printed as TABLE_LOAD takes it (and `dmsetup table`
//! prints it), and read back from what TABLE_STATUS returns or `dmsetup table` prints. The only
//! reading of a table's words: `import`, `status` and `up`'s "already there?" compare these
//! values, never text.

use crate::devnum::DevNum;
use crate::size::Sectors;
use std::fmt;

/// How a table names a device. The kernel reports `MAJ:MIN` ([`DevNum`]); a script's table
/// may name a node instead ([`DevRef`]).
pub trait Device: Clone + fmt::Display {
    /// The device a word of a target's parameters names, if the word can name one.
    fn from_word(word: &str) -> Option<Self>;
}

impl Device for DevNum {
    fn from_word(word: &str) -> Option<DevNum> {
        DevNum::parse(word)
    }
}

/// A device as a hand-written table names it: by number, or by any other word (a path such
/// as `/dev/pmem1`, for the reader to judge).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DevRef {
    Num(DevNum),
    Path(String),
}

impl Device for DevRef {
    fn from_word(word: &str) -> Option<DevRef> {
        Some(DevNum::parse(word).map_or_else(|| DevRef::Path(word.to_string()), DevRef::Num))
    }
}

impl fmt::Display for DevRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DevRef::Num(d) => d.fmt(f),
            DevRef::Path(p) => f.write_str(p),
        }
    }
}

/// One dm target: `start length type params`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target<D = DevNum> {
    pub start: Sectors,
    pub length: Sectors,
    pub kind: TargetKind<D>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TargetKind<D = DevNum> {
    /// dm-linear: `<dev> <offset>`.
    Linear { dev: D, offset: Sectors },
    /// dm-striped: `<#stripes> <chunk> (<dev> <offset>)...`.
    Striped {
        chunk: Sectors,
        stripes: Vec<(D, Sectors)>,
    },
    /// A linear or striped target whose parameters do not read as one. Only a hand-written
    /// table has these (the kernel prints what it parsed); kept, with why, so that the table
    /// prints back as it was and never equals a planned one.
    Malformed {
        target_type: &'static str,
        params: String,
        why: Malformed,
    },
    /// A target type pmemtab never builds (crypt, thin, error...), as reported: it prints back
    /// unchanged and never equals a planned table.
    Other { target_type: String, params: String },
}

/// Why a linear or striped target's parameters do not read as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    /// It has none.
    Missing,
    /// Its words are not the type's form.
    Form,
    /// A stripe count that is not the number of `device offset` pairs (`words` after the
    /// count and chunk).
    Count { stripes: usize, words: usize },
}

const LINEAR_FORM: &str = "device offset";
const STRIPED_FORM: &str = "#stripes chunk (device offset)...";

impl<D: Device> Target<D> {
    /// Reads a target from its four parts, as TABLE_STATUS returns them (a spec and its
    /// parameter string) or a `dmsetup table` line gives them. Total: what does not read as
    /// linear or striped is [`TargetKind::Malformed`] or [`TargetKind::Other`].
    pub fn from_parts(start: u64, length: u64, target_type: &str, params: &str) -> Target<D> {
        let words: Vec<&str> = params.split_whitespace().collect();
        let read = match target_type {
            "linear" => Some(("linear", linear(&words))),
            "striped" => Some(("striped", striped(&words))),
            _ => None,
        };
        let kind = match read {
            Some((_, Ok(kind))) => kind,
            // As given: dmsetup prints the kernel's parameter string as it is.
            Some((target_type, Err(why))) => TargetKind::Malformed {
                target_type,
                params: params.to_string(),
                why,
            },
            None => TargetKind::Other {
                target_type: target_type.to_string(),
                params: params.to_string(),
            },
        };
        Target {
            start: Sectors(start),
            length: Sectors(length),
            kind,
        }
    }

    /// Reads one line of `dmsetup table` (without a `NAME: ` prefix): `None` when it lacks
    /// `start length type`.
    pub fn parse_line(line: &str) -> Option<Target<D>> {
        let mut words = line.split_whitespace();
        let start = words.next()?.parse().ok()?;
        let length = words.next()?.parse().ok()?;
        let target_type = words.next()?;
        let params: Vec<&str> = words.collect();
        Some(Target::from_parts(
            start,
            length,
            target_type,
            &params.join(" "),
        ))
    }

    /// The member devices this target maps: by position in linear and striped targets; in
    /// other types, any word that reads like a device (`MAJ:MIN`, a path).
    pub fn devices(&self) -> Vec<D> {
        match &self.kind {
            TargetKind::Linear { dev, .. } => vec![dev.clone()],
            TargetKind::Striped { stripes, .. } => stripes.iter().map(|(d, _)| d.clone()).collect(),
            TargetKind::Malformed { .. } => Vec::new(),
            TargetKind::Other { params, .. } => params
                .split_whitespace()
                .filter(|w| w.contains(':') || w.starts_with('/'))
                .filter_map(D::from_word)
                .collect(),
        }
    }
}

/// `<dev> <offset>`.
fn linear<D: Device>(words: &[&str]) -> Result<TargetKind<D>, Malformed> {
    match words {
        [] => Err(Malformed::Missing),
        [dev, offset] => Ok(TargetKind::Linear {
            dev: D::from_word(dev).ok_or(Malformed::Form)?,
            offset: sectors(offset)?,
        }),
        _ => Err(Malformed::Form),
    }
}

/// `<#stripes> <chunk> (<dev> <offset>)...`.
fn striped<D: Device>(words: &[&str]) -> Result<TargetKind<D>, Malformed> {
    let [count, chunk, pairs @ ..] = words else {
        return Err(if words.is_empty() {
            Malformed::Missing
        } else {
            Malformed::Form
        });
    };
    let stripes: usize = count.parse().map_err(|_| Malformed::Form)?;
    let chunk = sectors(chunk)?;
    // Halved, not doubled: a count near 2^64 must not overflow.
    if pairs.len() % 2 != 0 || pairs.len() / 2 != stripes {
        return Err(Malformed::Count {
            stripes,
            words: pairs.len(),
        });
    }
    let stripes = pairs
        .chunks(2)
        .map(|p| match p {
            [dev, offset] => Ok((D::from_word(dev).ok_or(Malformed::Form)?, sectors(offset)?)),
            _ => Err(Malformed::Form),
        })
        .collect::<Result<_, _>>()?;
    Ok(TargetKind::Striped { chunk, stripes })
}

fn sectors(word: &str) -> Result<Sectors, Malformed> {
    word.parse().map(Sectors).map_err(|_| Malformed::Form)
}

impl<D> Target<D> {
    /// The kernel's target type name.
    pub fn target_type(&self) -> &str {
        match &self.kind {
            TargetKind::Linear { .. } => "linear",
            TargetKind::Striped { .. } => "striped",
            TargetKind::Malformed { target_type, .. } => target_type,
            TargetKind::Other { target_type, .. } => target_type,
        }
    }

    /// The same target with its devices named otherwise (a script's paths by their numbers).
    pub fn map<E>(&self, mut f: impl FnMut(&D) -> E) -> Target<E> {
        let kind = match &self.kind {
            TargetKind::Linear { dev, offset } => TargetKind::Linear {
                dev: f(dev),
                offset: *offset,
            },
            TargetKind::Striped { chunk, stripes } => TargetKind::Striped {
                chunk: *chunk,
                stripes: stripes.iter().map(|(d, o)| (f(d), *o)).collect(),
            },
            TargetKind::Malformed {
                target_type,
                params,
                why,
            } => TargetKind::Malformed {
                target_type,
                params: params.clone(),
                why: *why,
            },
            TargetKind::Other {
                target_type,
                params,
            } => TargetKind::Other {
                target_type: target_type.clone(),
                params: params.clone(),
            },
        };
        Target {
            start: self.start,
            length: self.length,
            kind,
        }
    }

    /// What is wrong with target number `n` (from 1) of its table as read, if its parameters
    /// do not read as its type.
    pub fn malformed(&self, n: usize) -> Option<String> {
        let TargetKind::Malformed {
            target_type,
            params,
            why,
        } = &self.kind
        else {
            return None;
        };
        let form = match *target_type {
            "striped" => STRIPED_FORM,
            _ => LINEAR_FORM,
        };
        Some(match why {
            Malformed::Missing => format!("target {n}: {target_type} without its `{form}`"),
            Malformed::Form => format!("target {n}: {target_type} takes `{form}`, not `{params}`"),
            Malformed::Count { stripes, words } => {
                format!("{stripes} stripes, but {words} devices and offsets")
            }
        })
    }
}

impl<D: fmt::Display> Target<D> {
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
            TargetKind::Malformed { params, .. } | TargetKind::Other { params, .. } => {
                params.clone()
            }
        }
    }
}

/// `start length type params`, as `dmsetup table` prints a target.
impl<D: fmt::Display> fmt::Display for Target<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            self.start,
            self.length,
            self.target_type(),
            self.params()
        )
    }
}

/// The whole table as `dmsetup table NAME` prints it: one line per target, newline-terminated.
pub fn print<D: fmt::Display>(targets: &[Target<D>]) -> String {
    targets.iter().map(|t| format!("{t}\n")).collect()
}

/// A table as `dmsetup table NAME` prints it (what [`print`] writes). Blank lines are
/// skipped; `Err` names the first line without `start length type`.
pub fn parse<D: Device>(text: &str) -> Result<Vec<Target<D>>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Target::parse_line(l).ok_or_else(|| l.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(minor: u32) -> DevNum {
        DevNum { major: 259, minor }
    }

    fn linear_pair() -> Vec<Target> {
        vec![
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
        ]
    }

    fn stripe() -> Target {
        Target {
            start: Sectors(0),
            length: Sectors(8192),
            kind: TargetKind::Striped {
                chunk: Sectors(4096),
                stripes: vec![(dev(3), Sectors(0)), (dev(2), Sectors(0))],
            },
        }
    }

    #[test]
    fn linear_and_striped_text() {
        assert_eq!(
            print(&linear_pair()),
            "0 1024 linear 259:3 0\n1024 2048 linear 259:2 8\n"
        );
        let s = stripe();
        assert_eq!(
            print(std::slice::from_ref(&s)),
            "0 8192 striped 2 4096 259:3 0 259:2 0\n"
        );
        assert_eq!(s.devices(), vec![dev(3), dev(2)]);
    }

    #[test]
    fn what_is_printed_reads_back_the_same() {
        let other = Target::<DevNum>::from_parts(8, 8, "error", "");
        let mut tables = vec![linear_pair(), vec![stripe()], vec![stripe(), other]];
        // Numbers at their limits, and a chunk device-mapper would refuse: the type reads
        // what it prints, whatever the values.
        tables.push(vec![Target {
            start: Sectors(u64::MAX),
            length: Sectors(u64::MAX),
            kind: TargetKind::Striped {
                chunk: Sectors(u64::MAX),
                stripes: vec![(
                    DevNum {
                        major: u32::MAX,
                        minor: u32::MAX,
                    },
                    Sectors(u64::MAX),
                )],
            },
        }]);
        for t in tables {
            assert_eq!(parse::<DevNum>(&print(&t)), Ok(t.clone()), "{}", print(&t));
        }
    }

    /// What a hand-written table holds, however odd, prints as what it reads as (the fuzz
    /// target checks this on any input).
    #[test]
    fn odd_tables_print_as_they_read() {
        let text = "0 8 linear /dev/pmem1 00\n+8 8 linear 259:03 8\n0 8 striped 1 8 x 0\n\
                    0 8 striped 2 8 259:3 0\n0 8 linear\n0 8 crypt  aes  -  0 8:16 0\n\
                    0 8 striped 0 8\n";
        let table = parse::<DevRef>(text).unwrap();
        assert_eq!(table.len(), 7);
        let printed = print(&table);
        assert_eq!(parse::<DevRef>(&printed).as_ref(), Ok(&table), "{printed}");
        assert_eq!(
            printed,
            "0 8 linear /dev/pmem1 0\n8 8 linear 259:3 8\n0 8 striped 1 8 x 0\n\
             0 8 striped 2 8 259:3 0\n0 8 linear \n0 8 crypt aes - 0 8:16 0\n0 8 striped 0 8\n"
        );
    }

    /// Tables as `dmsetup table` printed them on the lab's guests (tests/fixtures/dmsetup):
    /// each reads as linear or striped targets and prints back byte for byte.
    #[test]
    fn real_dmsetup_tables_read_and_print_back() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/dmsetup");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|x| x.to_str()) != Some("table") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let table = parse::<DevNum>(&text).unwrap();
            assert!(!table.is_empty(), "{}", path.display());
            for t in &table {
                assert!(
                    matches!(
                        t.kind,
                        TargetKind::Linear { .. } | TargetKind::Striped { .. }
                    ),
                    "{}: {t}",
                    path.display()
                );
            }
            assert_eq!(print(&table), text, "{}", path.display());
            read += 1;
        }
        assert!(read >= 2, "the fixtures are there");
    }

    #[test]
    fn a_script_s_table_names_nodes() {
        let t = Target::<DevRef>::parse_line("0 10 linear /dev/pmem0 0").unwrap();
        assert_eq!(t.devices(), [DevRef::Path("/dev/pmem0".into())]);
        assert_eq!(t.to_string(), "0 10 linear /dev/pmem0 0");
        // The kernel's form has numbers only: a node is not a linear target's device there.
        let k = Target::<DevNum>::parse_line("0 10 linear /dev/pmem0 0").unwrap();
        assert_eq!(
            k.malformed(1).as_deref(),
            Some("target 1: linear takes `device offset`, not `/dev/pmem0 0`")
        );
    }

    #[test]
    fn what_does_not_read_is_kept_and_said() {
        let read = |l: &str| Target::<DevNum>::parse_line(l).unwrap();
        assert!(Target::<DevNum>::parse_line("0 linear 259:3 0").is_none());
        for (line, why) in [
            ("0 8 linear", "target 1: linear without its `device offset`"),
            ("0 8 striped", "target 1: striped without its `#stripes chunk (device offset)...`"),
            ("0 8 linear 259:3", "target 1: linear takes `device offset`, not `259:3`"),
            ("0 8 linear 259:3 x", "target 1: linear takes `device offset`, not `259:3 x`"),
            ("0 8 striped 2 8 259:3 0", "2 stripes, but 2 devices and offsets"),
            ("0 8 striped 18446744073709551616 8", "target 1: striped takes `#stripes chunk (device offset)...`, not `18446744073709551616 8`"),
        ] {
            let t = read(line);
            assert_eq!(t.malformed(1).as_deref(), Some(why), "{line}");
            assert_eq!(t.to_string().trim_end(), line, "kept as it was");
        }
        // The kernel's parameter string of another type is kept as it is, spaces and all.
        let spaced = Target::<DevNum>::from_parts(0, 8, "multipath", "0 0 1 1  8:16 1 ");
        assert_eq!(spaced.to_string(), "0 8 multipath 0 0 1 1  8:16 1 ");
        // Other types: kept, their device-like words found.
        let crypt = read("0 8 crypt aes-xts-plain64 - 0 8:16 0");
        assert_eq!(crypt.target_type(), "crypt");
        assert_eq!(
            crypt.devices(),
            [DevNum {
                major: 8,
                minor: 16
            }]
        );
        assert_eq!(crypt.malformed(1), None);
        assert_eq!(crypt.to_string(), "0 8 crypt aes-xts-plain64 - 0 8:16 0");
    }
}
