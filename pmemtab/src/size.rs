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
    let mut value = bytes as f64;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_and_bytes() {
        assert_eq!(Sectors::from_bytes(1023).0, 1);
        assert_eq!(Sectors(4096).bytes(), HUGE_PAGE_BYTES);
        assert_eq!(Sectors(u64::MAX).bytes(), u64::MAX);
        assert_eq!(human_bytes(526385152), "502.00 MiB");
        assert_eq!(human_bytes(512), "512 B");
    }
}
