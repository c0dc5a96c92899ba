//! Which mount points pmemtab accepts, and the one place they are simplified. A
//! [`MountPoint`] is only made by [`MountPoint::new`]: absolute, fstab's octal escapes
//! already decoded (the column's bytes must be UTF-8, as the whole line must), and simplified
//! as systemd names it (repeated and trailing slashes collapsed), so whoever holds one
//! compares, escapes and mounts it as it is.

use super::columns::ColumnError;
use crate::systemd;
use std::fmt;
use std::ops::Deref;

/// An absolute, simplified mount point that passed the mount-point column's rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MountPoint(String);

impl MountPoint {
    /// The mount-point column's rule, on the path it decodes to (escapes undone): the path as
    /// systemd names it, or why it cannot be one. [`crate::text::encode_octal`] writes a path
    /// back in the column's escapes.
    pub fn new(path: &str) -> Result<MountPoint, ColumnError> {
        if !path.starts_with('/') {
            return Err(ColumnError::new(
                format!("mount point '{path}' is not an absolute path"),
                Some("write - for no mount point"),
            ));
        }
        if path.split('/').any(|c| c == ".." || c == ".") {
            return Err(ColumnError::new(
                format!("mount point '{path}' contains . or .. components"),
                Some("write the path without them"),
            ));
        }
        if path.chars().any(char::is_control) {
            return Err(ColumnError::new(
                "mount point contains a control character",
                None,
            ));
        }
        if systemd::check_value(path).is_err() {
            return Err(ColumnError::new(
                format!("mount point '{path}' ends with a blank or a backslash, which a unit file cannot hold"),
                Some("systemd strips trailing blanks from Where= and reads a trailing \\ as a line continuation: choose another path"),
            ));
        }
        // Collapse repeated and trailing slashes, as systemd does before naming the mount
        // unit: the only simplification of a mount point pmemtab makes.
        let simplified: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        Ok(MountPoint(format!("/{}", simplified.join("/"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the root directory, which `root=` mounts, never pmemtab.
    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    /// `systemd-escape --path`: the path is simple already, so only escaped; `/` is `-`.
    pub fn escaped(&self) -> String {
        match self.0.strip_prefix('/') {
            Some("") | None => "-".to_string(),
            Some(rest) => systemd::escape(rest),
        }
    }
}

impl Deref for MountPoint {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for MountPoint {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl AsRef<std::path::Path> for MountPoint {
    fn as_ref(&self) -> &std::path::Path {
        std::path::Path::new(&self.0)
    }
}

impl std::borrow::Borrow<str> for MountPoint {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MountPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for MountPoint {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for MountPoint {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl From<MountPoint> for String {
    fn from(m: MountPoint) -> String {
        m.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simplified_once_and_escaped_as_systemd_does() {
        let m = MountPoint::new("//mnt//fast data/").unwrap();
        assert_eq!(m, "/mnt/fast data");
        assert_eq!(m.escaped(), "mnt-fast\\x20data");
        assert_eq!(
            m.escaped(),
            systemd::escape_path("//mnt//fast data/").unwrap()
        );
        let root = MountPoint::new("///").unwrap();
        assert!(root.is_root());
        assert_eq!(root.escaped(), "-");
        assert!(MountPoint::new("mnt").is_err());
        assert!(MountPoint::new("/mnt/./x").is_err());
        assert!(MountPoint::new("/mnt/../x").is_err());
    }
}
