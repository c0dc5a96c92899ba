//! Block device numbers.

use std::fmt;

/// A block device number as sysfs `dev` files and dm tables write it (`MAJ:MIN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DevNum {
    pub major: u32,
    pub minor: u32,
}

impl DevNum {
    /// Parses `MAJ:MIN` (trailing newline allowed, as read from sysfs).
    pub fn parse(s: &str) -> Option<DevNum> {
        let (maj, min) = s.trim().split_once(':')?;
        Some(DevNum {
            major: maj.parse().ok()?,
            minor: min.parse().ok()?,
        })
    }
}

impl fmt::Display for DevNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.major, self.minor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devnum_round_trip() {
        let d = DevNum::parse("259:3\n").unwrap();
        assert_eq!(
            d,
            DevNum {
                major: 259,
                minor: 3
            }
        );
        assert_eq!(d.to_string(), "259:3");
        assert_eq!(DevNum::parse("259"), None);
        assert_eq!(DevNum::parse("a:b"), None);
    }
}
