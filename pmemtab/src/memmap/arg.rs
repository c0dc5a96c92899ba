//! The kernel's `memmap=` and `mem=` syntax (Documentation/admin-guide/kernel-parameters.txt,
//! arch/x86/kernel/e820.c), read and written in one place.
//!
//! Numbers are the kernel's `memparse`: `0x` hexadecimal, a leading `0` octal, else decimal,
//! then an optional K, M, G, T, P or E (either case). A `memmap=` value is a comma list of
//! `SIZE!START` (persistent memory), `SIZE$START` (reserved), `SIZE#START` (ACPI data),
//! `SIZE@START` (RAM), `SIZE%START-OLD+NEW` (a type change), a bare `SIZE` (RAM ends there,
//! as `mem=`) or `exactmap`.

use super::PhysRange;
use crate::size::suffixed;

/// What one `memmap=`/`mem=` item does to the memory map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// `SIZE!START`: legacy pmem.
    Pmem(PhysRange),
    /// `SIZE$START`, `SIZE#START` or `SIZE%START-...`: no longer RAM for the kernel.
    Taken(PhysRange),
    /// `SIZE@START`: RAM that the firmware may not have listed (it adds nothing we may use).
    Ram(PhysRange),
    /// `mem=SIZE` or a bare `memmap=SIZE`: no RAM at or above SIZE.
    Limit(u64),
    /// `memmap=exactmap`: the command line replaces the firmware map.
    ExactMap,
}

const SUFFIXES: [(char, u32); 6] = [
    ('K', 10),
    ('M', 20),
    ('G', 30),
    ('T', 40),
    ('P', 50),
    ('E', 60),
];

/// `memparse`: the number at the start of `s` and what follows it; `None` when `s` does not
/// start with a number or it overflows.
pub fn memparse(s: &str) -> Option<(u64, &str)> {
    let (radix, digits) = if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (16, h)
    } else if s.len() > 1 && s.starts_with('0') && s.as_bytes()[1].is_ascii_digit() {
        (8, &s[1..])
    } else {
        (10, s)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return None;
    }
    let value = u64::from_str_radix(&digits[..end], radix).ok()?;
    let rest = &digits[end..];
    let mut chars = rest.chars();
    if let Some(c) = chars.next() {
        if let Some((_, shift)) = SUFFIXES.iter().find(|(s, _)| c.eq_ignore_ascii_case(s)) {
            let scaled = value.checked_mul(1u64 << shift)?;
            return Some((scaled, chars.as_str()));
        }
    }
    Some((value, rest))
}

/// `SIZE!START` for one pmem range.
pub fn pmem_item(span: PhysRange) -> String {
    format!("{}!{}", suffixed(span.len()), suffixed(span.start))
}

/// The one kernel argument for all the ranges: `memmap=A!B,C!D` (one argument, so that
/// grubby, which keys arguments by name, keeps them together).
pub fn kernel_argument(spans: &[PhysRange]) -> String {
    let items: Vec<String> = spans.iter().map(|s| pmem_item(*s)).collect();
    format!("memmap={}", items.join(","))
}

fn span(start: u64, size: u64) -> Option<PhysRange> {
    Some(PhysRange {
        start,
        end: start.checked_add(size)?,
    })
}

/// One item of a `memmap=` value.
pub fn parse_item(item: &str) -> Option<Claim> {
    if item == "exactmap" {
        return Some(Claim::ExactMap);
    }
    let (size, rest) = memparse(item)?;
    let Some(op) = rest.chars().next() else {
        return Some(Claim::Limit(size));
    };
    // The operator may be any character (the kernel stops at the first it cannot read).
    let (start, tail) = memparse(&rest[op.len_utf8()..])?;
    let s = span(start, size)?;
    match op {
        '!' if tail.is_empty() => Some(Claim::Pmem(s)),
        '$' | '#' if tail.is_empty() => Some(Claim::Taken(s)),
        '@' if tail.is_empty() => Some(Claim::Ram(s)),
        '%' => Some(Claim::Taken(s)),
        _ => None,
    }
}

/// Every `memmap=` and `mem=` claim of a command line (words as [`crate::cmdline::words`]
/// splits them), with the items that could not be read (`(item, why)`) for a warning.
pub fn claims(cmdline: impl AsRef<[u8]>) -> (Vec<Claim>, Vec<String>) {
    let f = foreign(cmdline, &[]);
    (f.claims, f.unreadable)
}

/// What a command line holds that is not ours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Foreign {
    /// Its `memmap=` and `mem=` claims.
    pub claims: Vec<Claim>,
    /// The items that could not be read (`memmap=4x`, `mem=x`), for a warning.
    pub unreadable: Vec<String>,
    /// Its `memmap=` items as written, readable or not, in order: what an argument that
    /// replaces every `memmap=` word (grubby's `--args`) must carry.
    pub memmap_items: Vec<String>,
}

/// [`claims`] of a command line (its bytes, as /proc/cmdline holds them), less one occurrence
/// of each of `ours` (the claims our own configuration made: they are not someone else's).
/// A word that is not UTF-8 costs nothing unless it is a `memmap=` or `mem=` word, which is
/// then unreadable.
pub fn foreign(cmdline: impl AsRef<[u8]>, ours: &[Claim]) -> Foreign {
    let mut ours: Vec<&Claim> = ours.iter().collect();
    let mut out = Foreign::default();
    for bytes in crate::cmdline::words(cmdline) {
        if !bytes.starts_with(b"memmap=") && !bytes.starts_with(b"mem=") {
            continue;
        }
        let word = String::from_utf8_lossy(&bytes);
        if let Some(value) = word.strip_prefix("memmap=") {
            for item in value.split(',') {
                match parse_item(item) {
                    Some(c) => {
                        if let Some(i) = ours.iter().position(|o| **o == c) {
                            ours.remove(i);
                            continue;
                        }
                        out.claims.push(c);
                    }
                    None => out.unreadable.push(format!("memmap={item}")),
                }
                out.memmap_items.push(item.to_string());
            }
        } else if let Some(value) = word.strip_prefix("mem=") {
            match memparse(value) {
                Some((n, "")) => out.claims.push(Claim::Limit(n)),
                _ if value == "nopentium" => {}
                _ => out.unreadable.push(word.to_string()),
            }
        }
    }
    out
}

/// The one `memmap=` argument that replaces every `memmap=` word of a command line: its
/// `foreign` items first, as written, then ours. The kernel reads a comma list in one
/// `memmap=` as it reads several words.
pub fn replacing_argument(foreign: &[String], spans: &[PhysRange]) -> String {
    let items: Vec<String> = foreign
        .iter()
        .cloned()
        .chain(spans.iter().map(|s| pmem_item(*s)))
        .collect();
    format!("memmap={}", items.join(","))
}

/// x86's COMMAND_LINE_SIZE: the kernel keeps this many bytes of its command line, less the
/// terminating NUL, and cuts the rest off.
pub const COMMAND_LINE_SIZE: usize = 2048;

/// The length of the command line `cmdline` (as /proc/cmdline shows it) once every `memmap=`
/// word is replaced by the one word `replacing` ([`replacing_argument`]: theirs and ours).
pub fn command_line_len(cmdline: &[u8], replacing: &str) -> usize {
    let line = cmdline.strip_suffix(b"\n").unwrap_or(cmdline);
    let memmap: usize = crate::cmdline::words(line)
        .iter()
        .filter(|w| w.starts_with(b"memmap="))
        .map(|w| w.len() + 1)
        .sum();
    let blank = usize::from(!line.is_empty());
    line.len().saturating_sub(memmap) + blank + replacing.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memmap::{GIB, MIB};

    #[test]
    fn memparse_is_the_kernels() {
        assert_eq!(memparse("512M"), Some((512 * MIB, "")));
        assert_eq!(memparse("0x28000000!"), Some((0x2800_0000, "!")));
        assert_eq!(memparse("4g"), Some((4 * GIB, "")));
        assert_eq!(memparse("010"), Some((8, "")));
        assert_eq!(memparse("0"), Some((0, "")));
        assert_eq!(memparse("M"), None);
        assert_eq!(memparse("99999999999999999999"), None);
        assert_eq!(memparse("16E"), None);
    }

    #[test]
    fn suffixed_round_trips() {
        for n in [
            0,
            1,
            4096,
            2 * MIB,
            4480 * MIB,
            5 * GIB,
            1 << 40,
            3 << 40,
            12345,
        ] {
            assert_eq!(memparse(&suffixed(n)), Some((n, "")), "{n}");
        }
        assert_eq!(suffixed(4480 * MIB), "4480M");
        assert_eq!(suffixed(5 * GIB), "5G");
    }

    #[test]
    fn argument_text() {
        let a = PhysRange {
            start: 5 * GIB,
            end: 6 * GIB,
        };
        let b = PhysRange {
            start: 4 * GIB + 128 * MIB,
            end: 4 * GIB + 384 * MIB,
        };
        assert_eq!(kernel_argument(&[a]), "memmap=1G!5G");
        assert_eq!(kernel_argument(&[a, b]), "memmap=1G!5G,256M!4224M");
    }

    #[test]
    fn command_line_claims() {
        let (c, bad) = claims(
            "ro memmap=128M!640M,64M$0x30000000 memmap=exactmap mem=3G memmap=1G memmap=2G@4G memmap=1x2 memmap=4K%0x1000-1+12 mem=nopentium",
        );
        assert_eq!(
            c,
            vec![
                Claim::Pmem(PhysRange {
                    start: 640 * MIB,
                    end: 768 * MIB
                }),
                Claim::Taken(PhysRange {
                    start: 0x3000_0000,
                    end: 0x3000_0000 + 64 * MIB
                }),
                Claim::ExactMap,
                Claim::Limit(3 * GIB),
                Claim::Limit(GIB),
                Claim::Ram(PhysRange {
                    start: 4 * GIB,
                    end: 6 * GIB
                }),
                Claim::Taken(PhysRange {
                    start: 0x1000,
                    end: 0x2000
                }),
            ]
        );
        assert_eq!(bad, vec!["memmap=1x2".to_string()]);
    }

    /// Found by the fuzz target once /proc/cmdline was read as bytes (issue 28): a character of
    /// more than one byte where the operator goes panicked (`é`, or U+FFFD for a byte that is
    /// not UTF-8); it is an item that cannot be read.
    #[test]
    fn any_character_as_the_operator_is_unreadable() {
        assert_eq!(parse_item("5é2M!4480M"), None);
        let f = foreign(b"ro memmap=5\xe02M!4480M,1G$4G", &[]);
        assert_eq!(f.unreadable, ["memmap=5\u{fffd}2M!4480M"]);
        assert_eq!(f.claims.len(), 1);
    }

    #[test]
    fn command_line_length() {
        assert_eq!(command_line_len(b"ro quiet\n", "memmap=1G!5G"), 21);
        assert_eq!(
            command_line_len(b"ro memmap=1G$4G quiet", "memmap=1G$4G,1G!5G"),
            "ro quiet memmap=1G$4G,1G!5G".len()
        );
        assert_eq!(command_line_len(b"", "memmap=1G!5G"), 12);
        // Counted in bytes, as the kernel counts them, not in characters.
        assert_eq!(command_line_len(b"ro \xe4", "memmap=1G!5G"), 17);
    }

    #[test]
    fn foreign_items_are_carried() {
        let ours = [Claim::Pmem(PhysRange {
            start: 4480 * MIB,
            end: 4992 * MIB,
        })];
        let f = foreign(
            "ro memmap=1G$4G memmap=512M!4480M,4x mem=62G memmap=512M!4480M",
            &ours,
        );
        // Ours counted once: the second 512M!4480M is someone else's.
        assert_eq!(f.memmap_items, ["1G$4G", "4x", "512M!4480M"]);
        assert_eq!(f.unreadable, ["memmap=4x"]);
        assert_eq!(f.claims.len(), 3);
        let new = PhysRange {
            start: 2 * GIB,
            end: 2 * GIB + 512 * MIB,
        };
        assert_eq!(
            replacing_argument(&["1G$4G".into()], &[new]),
            "memmap=1G$4G,512M!2G"
        );
        assert_eq!(replacing_argument(&[], &[new]), kernel_argument(&[new]));
    }
}
