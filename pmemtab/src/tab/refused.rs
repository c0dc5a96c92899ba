//! What a line the parser refused would have asked of the boot, read as far as its columns
//! go: its name, whether its mount point is `/` or `/usr`, whether it has `x-initrd.attach`.
//! An initramfs built while such a line is refused would lack it, so the image builders
//! must fail rather than build an image that cannot bring the root up
//! (the initrd module decides).

use super::columns::{split_columns, split_options};

/// A refused line, as far as it can be read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refused {
    /// 1-based line number.
    pub line: usize,
    /// The first column, as written.
    pub name: Option<String>,
    /// The mount point column with escapes undone and slashes collapsed (`//usr/` is
    /// `/usr`), when it is an absolute path.
    pub mount_point: Option<String>,
    /// The options column has `x-initrd.attach` or `x-initrd.mount`.
    pub initrd_attach: bool,
}

impl Refused {
    /// Reads a line's columns without judging them (`text` may come from bytes that were not
    /// UTF-8, replaced).
    pub fn read(line: usize, text: &str) -> Refused {
        let cols = split_columns(text);
        let name = cols.first().map(|f| f.text.to_string());
        let mount_point = cols.get(3).and_then(|f| {
            let path = crate::text::decode_octal(f.text).unwrap_or_else(|| f.text.to_string());
            path.starts_with('/').then(|| {
                let parts: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
                format!("/{}", parts.join("/"))
            })
        });
        let initrd_attach = cols.get(5).is_some_and(|f| {
            split_options(f.text).iter().any(|(_, _, o)| {
                let key = o.split('=').next().unwrap_or_default();
                key == "x-initrd.attach" || key == "x-initrd.mount"
            })
        });
        Refused {
            line,
            name,
            mount_point,
            initrd_attach,
        }
    }

    /// The mount point when it is one the boot itself needs: `/` or `/usr`.
    pub fn boot_mount(&self) -> Option<&str> {
        self.mount_point
            .as_deref()
            .filter(|m| *m == "/" || *m == "/usr")
    }
}

#[cfg(test)]
mod tests {
    use super::Refused;

    #[test]
    fn reads_what_the_boot_would_need() {
        let r = Refused::read(
            3,
            "root striped:2M name=a,name=b / ext4 x-systemd.device-timeout=0",
        );
        assert_eq!(r.name.as_deref(), Some("root"));
        assert_eq!(r.boot_mount(), Some("/"));
        assert!(!r.initrd_attach);
        let r = Refused::read(4, "u linear uuid=bad //usr/ ext4 -");
        assert_eq!(r.boot_mount(), Some("/usr"));
        let r = Refused::read(5, "e linear x /srv/e ext4 noatime,x-initrd.mount,user");
        assert_eq!((r.boot_mount(), r.initrd_attach), (None, true));
        let r = Refused::read(6, "e linear x /srv/e ext4 x-initrd.attachx");
        assert!(!r.initrd_attach);
        let r = Refused::read(7, "lonely");
        assert_eq!((r.name.as_deref(), r.mount_point), (Some("lonely"), None));
        // An escaped slash-free path is no mount point of the boot.
        assert_eq!(Refused::read(8, "a b c \\057 ext4").boot_mount(), Some("/"));
    }
}
