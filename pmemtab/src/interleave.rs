//! The rules of a CXL region's geometry that a pmemtab line is checked against and a plan
//! obeys: interleave ways, granularity, and the size's alignment (cxl/core/region.c, and
//! cxl-cli's defaults). Here, below both the parser and the CXL planner, so that each rule is
//! written once.

use crate::size::suffixed;

/// A region's size is a multiple of this per member: the kernel's
/// `SZ_256M * interleave_ways` (cxl/core/region.c), which `cxl create-region` rounds to.
pub const REGION_ALIGN: u64 = 256 << 20;

/// The interleave granularities CXL decoders encode (256 B to 16 KiB, powers of two).
pub const GRANULARITIES: [u64; 7] = [256, 512, 1 << 10, 2 << 10, 4 << 10, 8 << 10, 16 << 10];

/// The interleave ways a region may have (CXL 3.0 8.2.4.20.13: 1, 2, 4, 8, 16, 3, 6, 12).
pub const WAYS: [u64; 8] = [1, 2, 3, 4, 6, 8, 12, 16];

/// Why `size` cannot be the size of a region over `ways` devices.
pub fn check_size(size: u64, ways: u64) -> Result<(), String> {
    let unit = REGION_ALIGN.saturating_mul(ways.max(1));
    if size == 0 || size % unit != 0 {
        return Err(format!(
            "region size {} is not a multiple of {} (256 MiB per device, {ways} device{})",
            suffixed(size),
            suffixed(unit),
            if ways == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

/// What to write instead of a bad size.
pub fn size_hint(ways: u64) -> String {
    let unit = REGION_ALIGN.saturating_mul(ways.max(1));
    format!(
        "give a multiple of {}, or leave size= out for as much as every device has free",
        suffixed(unit)
    )
}

/// Why `ways` devices cannot be interleaved in one region.
pub fn check_ways(ways: u64) -> Result<(), String> {
    if WAYS.contains(&ways) {
        Ok(())
    } else {
        Err(format!(
            "a CXL region interleaves 1, 2, 3, 4, 6, 8, 12 or 16 devices, not {ways}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_sizes() {
        assert!(check_size(256 << 20, 1).is_ok());
        assert!(check_size(512 << 20, 2).is_ok());
        assert_eq!(
            check_size(256 << 20, 2),
            Err(
                "region size 256M is not a multiple of 512M (256 MiB per device, 2 devices)".into()
            )
        );
        assert!(check_size(0, 1).is_err());
        assert!(check_ways(3).is_ok() && check_ways(5).is_err());
    }
}
