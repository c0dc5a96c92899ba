//! Sizes in bytes and in device-mapper sectors, kept apart: device-mapper speaks 512-byte
//! sectors, sysfs and users speak bytes. And every way pmemtab prints a size: [`suffixed`] where
//! it is read back (pmemtab's `striped:64K`, the kernel's `memmap=`), [`human_bytes`] beside
//! ndctl's numbers, [`honest_bytes`] where a size must not read rounder than it is.

use nom::branch::alt;
use nom::bytes::complete::tag;
use nom::character::complete::{digit1, one_of};
use nom::combinator::{all_consuming, map_res, opt};
use nom::sequence::pair;
use nom::IResult;
use std::fmt;

/// Bytes in one device-mapper sector.
pub const SECTOR_BYTES: u64 = 512;
/// 2 MiB: the PMD page size on x86_64. Offsets and lengths that are multiples of it let DAX
/// faults use huge pages.
pub const HUGE_PAGE_BYTES: u64 = 2 << 20;
/// 4 KiB: the base page size DAX maps, and so the filesystem block size DAX needs.
pub const PAGE_BYTES: u64 = 4096;

/// `512`, `4K`, `2M`, `1G`, `1T`, `2MiB`, `2MB`: bytes (binary multiples, as `striped:2M`
/// and the kernel's sizes mean them). The one reading of a size written in pmemtab.
pub fn bytes(i: &str) -> IResult<&str, u64> {
    map_res(
        pair(
            digit1,
            opt(pair(one_of("KkMmGgTt"), opt(alt((tag("iB"), tag("B")))))),
        ),
        |(digits, unit): (&str, Option<(char, Option<&str>)>)| {
            let n: u64 = digits.parse().map_err(|_| "number too large")?;
            let shift = match unit.map(|(c, _)| c.to_ascii_uppercase()) {
                None => 0,
                Some('K') => 10,
                Some('M') => 20,
                Some('G') => 30,
                _ => 40,
            };
            n.checked_mul(1u64 << shift).ok_or("size too large")
        },
    )(i)
}

/// [`bytes`], the whole of `s`.
pub fn parse_bytes(s: &str) -> Option<u64> {
    all_consuming(bytes)(s).ok().map(|(_, n)| n)
}

/// A count of 512-byte sectors.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sectors(pub u64);

impl Sectors {
    /// Whole sectors in `bytes` (rounded down).
    pub const fn from_bytes(bytes: u64) -> Sectors {
        Sectors(bytes / SECTOR_BYTES)
    }
    /// Bytes in these sectors, saturating (a u64 of sectors can exceed u64 bytes).
    pub const fn bytes(self) -> u64 {
        self.0.saturating_mul(SECTOR_BYTES)
    }
}

impl fmt::Display for Sectors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// Sizes as pmemtab and the kernel's `memparse` read them: `2M`, `4K`, `1G` (the largest of
/// T, G, M, K that divides it), or plain bytes.
pub fn suffixed(bytes: u64) -> String {
    const SUFFIXES: [(u64, &str); 4] = [
        (1 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ];
    for (unit, suffix) in SUFFIXES {
        if bytes != 0 && bytes % unit == 0 {
            return format!("{}{suffix}", bytes / unit);
        }
    }
    bytes.to_string()
}

/// Human-readable size with binary units, as `ndctl list -u` prints them ("502.00 MiB").
pub fn human_bytes(bytes: u64) -> String {
    in_unit(bytes, largest_unit(bytes)).text
}

/// The largest of [`UNITS`] that `bytes` holds one of.
fn largest_unit(bytes: u64) -> usize {
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >> (10 * (unit + 1)) > 0 {
        unit += 1;
    }
    unit
}

/// A size written in one unit.
struct InUnit {
    text: String,
    /// The text is the value itself, not rounded.
    exact: bool,
}

/// `bytes` in `UNITS[unit]` with two decimals.
fn in_unit(bytes: u64, unit: usize) -> InUnit {
    if unit == 0 {
        return InUnit {
            text: format!("{bytes} B"),
            exact: true,
        };
    }
    // Hundredths, rounded half to even as `{:.2}` of the exact quotient would: integers
    // only, because float formatting costs the static binary about 10 KB.
    let d = 1u128 << (10 * unit);
    let n = u128::from(bytes) * 100;
    let (mut q, r) = (n / d, n % d);
    if 2 * r > d || (2 * r == d && q % 2 == 1) {
        q += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("B");
    InUnit {
        text: format!("{}.{:02} {name}", q / 100, q % 100),
        exact: r == 0,
    }
}

/// A size that never reads rounder than it is: [`human_bytes`] when its two decimals are
/// exact ("2.00 GiB", "1.50 GiB") or visibly not round ("29.98 GiB"); when they would show a
/// round value that is not the value ("2.00 GiB" for 2044 MiB, "16384.00 PiB" for a range to
/// the top of the address space), the same in the next smaller unit, down to bytes
/// ("2044.00 MiB", "4095.50 MiB").
pub fn honest_bytes(bytes: u64) -> String {
    let mut unit = largest_unit(bytes);
    loop {
        let shown = in_unit(bytes, unit);
        if shown.exact || unit == 0 || !shown.text.contains(".00 ") {
            return shown.text;
        }
        unit -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_bytes("512"), Some(512));
        assert_eq!(parse_bytes("1K"), Some(1024));
        assert_eq!(parse_bytes("512M"), Some(512 << 20));
        assert_eq!(parse_bytes("2GiB"), Some(2 << 30));
        assert_eq!(parse_bytes("2GB"), Some(2 << 30));
        assert_eq!(parse_bytes("2x"), None);
        assert_eq!(parse_bytes("M"), None);
        assert_eq!(parse_bytes(""), None);
        assert_eq!(parse_bytes("99999999999T"), None);
    }

    #[test]
    fn human_bytes_matches_float_formatting() {
        let float = |b: u64| {
            let mut v = b as f64;
            let mut u = 0;
            while v >= 1024.0 && u < 5 {
                v /= 1024.0;
                u += 1;
            }
            if u == 0 {
                format!("{b} B")
            } else {
                format!("{v:.2} {}", ["B", "KiB", "MiB", "GiB", "TiB", "PiB"][u])
            }
        };
        let mut b: u64 = 1;
        for _ in 0..4000 {
            for x in [
                b,
                b + 1,
                b.saturating_sub(1),
                1152,
                1023,
                1024,
                1048575,
                526385152,
            ] {
                assert_eq!(human_bytes(x), float(x), "{x}");
            }
            b = b
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 13;
        }
    }

    #[test]
    fn sectors_and_bytes() {
        assert_eq!(Sectors::from_bytes(1023).0, 1);
        assert_eq!(Sectors(4096).bytes(), HUGE_PAGE_BYTES);
        assert_eq!(Sectors(u64::MAX).bytes(), u64::MAX);
        assert_eq!(human_bytes(526385152), "502.00 MiB");
        assert_eq!(human_bytes(512), "512 B");
    }

    #[test]
    fn honest_bytes_is_never_falsely_round() {
        const MIB: u64 = 1 << 20;
        assert_eq!(honest_bytes(2044 * MIB), "2044.00 MiB");
        assert_eq!(honest_bytes(32764 * MIB), "32764.00 MiB");
        assert_eq!(honest_bytes(2048 * MIB), "2.00 GiB");
        assert_eq!(honest_bytes(1536 * MIB), "1.50 GiB");
        assert_eq!(honest_bytes(1020 * MIB), "1020.00 MiB");
        assert_eq!(honest_bytes(30700 * MIB), "29.98 GiB");
        assert_eq!(honest_bytes(4 * 1024 * MIB - 513 * 1024), "4095.50 MiB");
        assert_eq!(honest_bytes(512), "512 B");
        // A range from 1 GiB to the top of the address space, 2 MiB guard each side.
        let top = (u64::MAX - 2 * MIB) / (2 * MIB) * (2 * MIB) - (1 << 30);
        assert_eq!(honest_bytes(top), "17592186043388.00 MiB");
        assert_eq!(honest_bytes(u64::MAX), "18446744073709551615 B");
        assert_eq!(honest_bytes((2 << 30) + 1), "2147483649 B");
        // Whatever reads round is exact.
        let mut b: u64 = 1;
        for _ in 0..4000 {
            let t = honest_bytes(b);
            if let Some((num, unit)) = t.split_once(' ') {
                if num.ends_with(".00") || !num.contains('.') {
                    let i = UNITS.iter().position(|u| *u == unit).unwrap();
                    let whole: u64 = num.trim_end_matches(".00").parse().unwrap();
                    assert_eq!(u128::from(whole) << (10 * i), u128::from(b), "{b}: {t}");
                }
            }
            b = b
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407)
                >> 7;
        }
    }
}
