//! `/proc/self/mountinfo`, read as bytes: the kernel leaves bytes of 0x80 and above
//! unescaped, so a mount point that is not UTF-8 (a USB stick's `/media/Ger\xe4t`) is an
//! ordinary line, kept exactly; a line without its fields is skipped and costs the others
//! nothing. What each mount does with DAX, as its superblock options say.

use crate::devnum::DevNum;
use crate::tab::DaxWant;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};

/// One line of /proc/self/mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    pub devnum: Option<DevNum>,
    /// Exactly as the kernel has it, text or not.
    pub mount_point: PathBuf,
    /// These are for messages and option checks: bytes that are not UTF-8 read as U+FFFD,
    /// which matches no option pmemtab looks for.
    pub fstype: String,
    pub source: String,
    pub mount_opts: Vec<String>,
    pub super_opts: Vec<String>,
}

impl MountEntry {
    /// What this mount does with DAX, as its superblock options say: `always`, `never`, or
    /// `inode` (dax=inode, and ext4's and XFS's default: DAX only for files flagged so).
    pub fn dax_mode(&self) -> &'static str {
        let has = |s: &str| self.super_opts.iter().any(|o| o == s);
        if has("dax=always") || has("dax") {
            "always"
        } else if has("dax=never") {
            "never"
        } else {
            "inode"
        }
    }

    /// Does the superblock say DAX is on as `want` requires?
    pub fn dax_ok(&self, want: DaxWant) -> bool {
        let has = |s: &str| self.super_opts.iter().any(|o| o == s);
        match want {
            DaxWant::Always => has("dax=always") || has("dax"),
            DaxWant::Inode => !has("dax=never"),
            DaxWant::Never => true,
        }
    }
}

/// mountinfo's octal escapes (`\040` for space, ...) undone. The kernel writes no bad escape;
/// should one appear, the field is kept as written rather than guessed at.
fn unescape(field: &[u8]) -> Vec<u8> {
    crate::text::decode_octal_bytes(field).unwrap_or_else(|| field.to_vec())
}

fn lossy(field: &[u8]) -> String {
    String::from_utf8_lossy(field).into_owned()
}

/// Every line of mountinfo that has its fields (`ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS
/// [OPTIONAL...] - FSTYPE SOURCE SUPER-OPTIONS`); a line that does not is skipped, and costs
/// the others nothing.
pub fn parse(text: &[u8]) -> Vec<MountEntry> {
    let opts = |s: &[u8]| s.split(|&b| b == b',').map(lossy).collect();
    let mut out = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        let mut f = line.split(|&b| b == b' ');
        let (Some(_), Some(_), Some(devnum), Some(_), Some(mp), Some(mount_opts)) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let mut f = f.skip_while(|x| *x != b"-").skip(1);
        let (Some(fstype), Some(source), Some(super_opts)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        out.push(MountEntry {
            devnum: std::str::from_utf8(devnum).ok().and_then(DevNum::parse),
            mount_point: PathBuf::from(OsString::from_vec(unescape(mp))),
            fstype: lossy(fstype),
            source: lossy(&unescape(source)),
            mount_opts: opts(mount_opts),
            super_opts: opts(super_opts),
        });
    }
    out
}

/// The mounts `<proc>/self/mountinfo` lists.
pub fn read(proc: &Path) -> std::io::Result<Vec<MountEntry>> {
    Ok(parse(&std::fs::read(proc.join("self/mountinfo"))?))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Lines as a 6.1 kernel prints them (ext4 with -o dax, XFS that turned DAX off).
    const INFO: &str = "\
22 1 253:0 / / rw,relatime shared:1 - ext4 /dev/mapper/root rw,dax=always
30 22 0:5 / /dev rw,nosuid shared:2 - devtmpfs devtmpfs rw,size=4096k
41 22 253:1 / /mnt/fast\\040data rw,noatime shared:20 - ext4 /dev/mapper/fast0 rw,dax=always,stripe=512
42 22 259:0 / /mnt/xfs rw,relatime shared:21 - xfs /dev/pmem0 rw,attr2,dax=never,inode64,noquota
";

    #[test]
    fn mountinfo_parsing_and_dax() {
        let m = parse(INFO.as_bytes());
        assert_eq!(m.len(), 4);
        assert_eq!(m[2].mount_point, Path::new("/mnt/fast data"));
        assert_eq!(
            m[2].devnum,
            Some(DevNum {
                major: 253,
                minor: 1
            })
        );
        assert_eq!(m[2].fstype, "ext4");
        assert_eq!(m[2].source, "/dev/mapper/fast0");
        assert!(m[2].dax_ok(DaxWant::Always));
        assert!(!m[3].dax_ok(DaxWant::Always));
        assert!(!m[3].dax_ok(DaxWant::Inode));
        assert!(m[3].dax_ok(DaxWant::Never));
        assert!(!m[1].dax_ok(DaxWant::Always));
        assert!(parse(b"garbage line\n").is_empty());
    }

    /// A byte that is not UTF-8 anywhere in mountinfo (issue 28): its line is read like any
    /// other, kept exactly, and the other lines are all there.
    #[test]
    fn bytes_that_are_not_utf8_cost_nothing() {
        let mut info =
            b"50 22 8:17 / /media/Ger\xe4t rw,nosuid - vfat /dev/sdb1 rw,iocharset=\xff\n".to_vec();
        info.extend_from_slice(INFO.as_bytes());
        let m = parse(&info);
        assert_eq!(m.len(), 5);
        use std::os::unix::ffi::OsStrExt;
        assert_eq!(m[0].mount_point.as_os_str().as_bytes(), b"/media/Ger\xe4t");
        assert_eq!(m[0].super_opts, ["rw", "iocharset=\u{fffd}"]);
        assert_eq!(m[3].mount_point, Path::new("/mnt/fast data"));
        assert!(m[3].dax_ok(DaxWant::Always));
    }
}
