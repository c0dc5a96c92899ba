//! Sizes in bytes and in device-mapper sectors, kept apart: device-mapper speaks 512-byte
//! sectors, sysfs and users speak bytes.

use std::fmt;

/// Bytes in one device-mapper sector.
pub const SECTOR_BYTES: u64 = 512;
/// 2 MiB: the PMD page size on x86_64. Offsets and lengths that are multiples of it let DAX
/// faults use huge pages.
pub const HUGE_PAGE_BYTES: u64 = 2 << 20;

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

/// Human-readable size with binary units, as `ndctl list -u` prints them ("502.00 MiB").
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes >> (10 * (unit + 1)) > 0 {
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} B");
    }
    // Hundredths, rounded half to even as `{:.2}` of the exact quotient would: integers
    // only, because float formatting costs the static binary about 10 KB.
    let d = 1u128 << (10 * unit);
    let n = u128::from(bytes) * 100;
    let (mut q, r) = (n / d, n % d);
    if 2 * r > d || (2 * r == d && q % 2 == 1) {
        q += 1;
    }
    format!("{}.{:02} {}", q / 100, q % 100, UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
