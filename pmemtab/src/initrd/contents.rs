//! The check after an image is put together: what the entries need is really in it. Run on
//! the builder's staging tree (dracut's `$initdir`, initramfs-tools' `$DESTDIR`) just before
//! it is packed, it costs a few dozen `stat` calls and one walk of the image's module tree,
//! and a failure still stops the build, so the old image stays: both builders' module lookups
//! skip a module they cannot find (`instmods` without `-c`, `manual_add_modules` through
//! `modprobe --quiet`), and a file can be left out by a mistake in a hook.

use super::Image;
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

/// What to look for, and where.
#[derive(Debug, Clone)]
pub struct Check<'a> {
    /// The image's root.
    pub dir: &'a Path,
    /// Look for the files: pmem-assemble, pmemtab (with `pmemtab`'s bytes), the udev rule,
    /// the programs (mkfs) and, optionally, fsck.
    pub files: bool,
    /// Also pmemtab-generator (dracut's systemd initrd runs it; initramfs-tools' does not).
    pub generator: bool,
    /// The pmemtab the image must carry, as read; `None` when there is none.
    pub pmemtab: Option<&'a [u8]>,
    /// Look for the kernel modules of this kernel version.
    pub kver: Option<&'a str>,
    /// Where the build host keeps its modules (`/lib/modules`): its `KVER/modules.builtin`
    /// names the modules built into the kernel when the image has no copy of that list.
    pub host_modules: &'a Path,
}

/// Something the image lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    /// What, as a user knows it: `pmem-assemble (/usr/sbin/pmem-assemble)`, `kernel module
    /// dm_mod`, `mkfs.xfs`.
    pub what: String,
    /// Without it the entries cannot be set up; otherwise the image only works less well
    /// (no fsck of the root).
    pub required: bool,
}

/// Where binaries may be in an image (merged /usr or not).
const BIN_DIRS: [&str; 4] = ["usr/sbin", "usr/bin", "sbin", "bin"];

/// What `image` needs and `c.dir` lacks.
pub fn missing(c: &Check<'_>, image: &Image<'_>) -> Vec<Missing> {
    let mut out = Vec::new();
    let mut need = |what: String, required: bool, found: bool| {
        if !found {
            out.push(Missing { what, required });
        }
    };
    if c.files {
        need(
            "pmem-assemble (/usr/sbin/pmem-assemble)".into(),
            true,
            is_file(c.dir, "usr/sbin/pmem-assemble"),
        );
        if let Some(want) = c.pmemtab {
            let got = resolve(c.dir, "etc/pmemtab").and_then(|p| std::fs::read(p).ok());
            let what = match got {
                None => "/etc/pmemtab",
                Some(g) if g != want => "/etc/pmemtab as it is now (the image has another one)",
                Some(_) => "",
            };
            need(what.into(), true, what.is_empty());
        }
        need(
            "the udev rule 09-pmemtab.rules".into(),
            true,
            [
                "usr/lib/udev/rules.d",
                "lib/udev/rules.d",
                "etc/udev/rules.d",
            ]
            .iter()
            .any(|d| is_file(c.dir, &format!("{d}/09-pmemtab.rules"))),
        );
        if c.generator {
            need(
                "pmemtab-generator".into(),
                true,
                [
                    "usr/lib/systemd/system-generators",
                    "lib/systemd/system-generators",
                ]
                .iter()
                .any(|d| is_file(c.dir, &format!("{d}/pmemtab-generator"))),
            );
        }
        for p in &image.programs {
            need(p.clone(), true, has_program(c.dir, p));
        }
        if !image.fsck.is_empty() {
            need("fsck".into(), false, has_program(c.dir, "fsck"));
        }
        for fs in &image.fsck {
            let p = format!("fsck.{fs}");
            let found = has_program(c.dir, &p);
            need(p, false, found);
        }
    }
    if let Some(kver) = c.kver {
        let have = modules_in(c.dir, c.host_modules, kver);
        for m in &image.modules {
            need(
                format!("kernel module {m} (for {kver})"),
                true,
                have.contains(&module_key(m)),
            );
        }
    }
    out
}

fn has_program(dir: &Path, name: &str) -> bool {
    BIN_DIRS
        .iter()
        .any(|d| is_file(dir, &format!("{d}/{name}")))
}

fn is_file(dir: &Path, rel: &str) -> bool {
    resolve(dir, rel).is_some_and(|p| p.is_file())
}

/// `rel` inside the image at `dir`, its symbolic links followed inside the image (an
/// absolute link points into the image, not at the build host's file of that name); `None`
/// when it does not exist or leaves the image.
fn resolve(dir: &Path, rel: &str) -> Option<PathBuf> {
    // Components still to walk, in order, and the path inside the image walked so far.
    let mut todo: Vec<String> = rel.split('/').rev().map(str::to_string).collect();
    let mut at: Vec<String> = Vec::new();
    let mut hops = 0;
    while let Some(part) = todo.pop() {
        match part.as_str() {
            "" | "." => continue,
            ".." => {
                at.pop();
                continue;
            }
            _ => {}
        }
        let here = dir.join(at.join("/")).join(&part);
        let meta = std::fs::symlink_metadata(&here).ok()?;
        if !meta.file_type().is_symlink() {
            at.push(part);
            continue;
        }
        hops += 1;
        if hops > 32 {
            return None;
        }
        let target = std::fs::read_link(&here).ok()?;
        if target.is_absolute() {
            at.clear();
        }
        for c in target.components().rev() {
            if let Component::Normal(n) = c {
                todo.push(n.to_str()?.to_string());
            } else if c == Component::ParentDir {
                todo.push("..".into());
            }
        }
    }
    Some(dir.join(at.join("/")))
}

/// A module name as the kernel compares them: `-` and `_` are the same.
fn module_key(name: &str) -> String {
    name.replace('-', "_")
}

/// The modules of `kver` the image holds (`NAME.ko`, `.ko.xz`, `.ko.zst`, `.ko.gz` anywhere
/// under its module tree) or the kernel has built in (`modules.builtin`, the image's copy or
/// the build host's).
fn modules_in(dir: &Path, host_modules: &Path, kver: &str) -> HashSet<String> {
    let mut have = HashSet::new();
    let mut builtin_lists = Vec::new();
    for base in ["lib/modules", "usr/lib/modules"] {
        if let Some(root) = resolve(dir, &format!("{base}/{kver}")) {
            walk_modules(&root, &mut have, 0);
            builtin_lists.push(root.join("modules.builtin"));
        }
    }
    builtin_lists.push(host_modules.join(kver).join("modules.builtin"));
    for list in builtin_lists {
        let Ok(text) = std::fs::read(&list) else {
            continue;
        };
        for line in String::from_utf8_lossy(&text).lines() {
            if let Some(name) = module_file_name(line.rsplit('/').next().unwrap_or_default()) {
                have.insert(name);
            }
        }
    }
    have
}

fn walk_modules(dir: &Path, have: &mut HashSet<String>, depth: usize) {
    // Module trees are a handful of levels deep; the bound keeps a loop of links finite.
    if depth > 12 {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            walk_modules(&e.path(), have, depth + 1);
        } else if let Some(name) = e.file_name().to_str().and_then(module_file_name) {
            have.insert(name);
        }
    }
}

/// `dm-mod.ko.xz` → `dm_mod`.
fn module_file_name(file: &str) -> Option<String> {
    [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .filter(|n| !n.is_empty())
        .map(module_key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::initrd::image;
    use std::fs;

    fn put(root: &Path, rel: &str, body: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, body).unwrap();
    }

    #[test]
    fn an_image_with_everything_and_one_without() {
        let tab = "root striped:2M uuid=27715d95-1bb8-478d-a466-d6e0a569746d,uuid=e3fe0190-5c02-43c9-a08a-5958561ac30a / ext4\n\
                   early linear name=c /srv/early xfs mkfs,x-initrd.attach\n";
        let parsed = crate::tab::parse(tab);
        let img = image(&parsed, &[]);
        let d = testsupport::Scratch::new("initrd-contents");
        let host = d.join("host");
        let dir = d.join("image");
        put(&dir, "usr/sbin/pmem-assemble", "x");
        put(&dir, "etc/pmemtab", tab);
        put(&dir, "usr/lib/udev/rules.d/09-pmemtab.rules", "x");
        put(
            &dir,
            "usr/lib/systemd/system-generators/pmemtab-generator",
            "x",
        );
        // merged /usr: sbin is a link into usr, mkfs.xfs reached through it.
        std::os::unix::fs::symlink("usr/sbin", dir.join("sbin")).unwrap();
        put(&dir, "usr/sbin/mkfs.xfs", "x");
        put(&dir, "usr/sbin/fsck", "x");
        put(&dir, "usr/sbin/e2fsck", "x");
        // An absolute link, as initramfs-tools' copy_exec leaves them: inside the image.
        std::os::unix::fs::symlink("/usr/sbin/e2fsck", dir.join("usr/sbin/fsck.ext4")).unwrap();
        for m in [
            "kernel/drivers/acpi/nfit/nfit.ko",
            "kernel/drivers/nvdimm/nd_pmem.ko.xz",
            "kernel/fs/xfs/xfs.ko.zst",
        ] {
            put(&dir, &format!("lib/modules/6.1.0-57-amd64/{m}"), "");
        }
        put(
            &dir,
            "usr/lib/modules/6.1.0-57-amd64/kernel/drivers/md/dm-mod.ko",
            "",
        );
        put(
            &host,
            "6.1.0-57-amd64/modules.builtin",
            "kernel/fs/ext4/ext4.ko\n",
        );
        let check = |kver, files, generator| Check {
            dir: &dir,
            files,
            generator,
            pmemtab: Some(tab.as_bytes()),
            kver,
            host_modules: &host,
        };
        let m = missing(&check(Some("6.1.0-57-amd64"), true, true), &img);
        assert!(m.is_empty(), "{m:?}");

        fs::remove_file(dir.join("usr/sbin/mkfs.xfs")).unwrap();
        fs::remove_file(dir.join("usr/sbin/e2fsck")).unwrap();
        fs::remove_file(dir.join("usr/lib/modules/6.1.0-57-amd64/kernel/drivers/md/dm-mod.ko"))
            .unwrap();
        fs::remove_file(dir.join("usr/lib/systemd/system-generators/pmemtab-generator")).unwrap();
        fs::write(dir.join("etc/pmemtab"), "old\n").unwrap();
        let what = |v: Vec<Missing>| -> Vec<(String, bool)> {
            v.into_iter().map(|m| (m.what, m.required)).collect()
        };
        assert_eq!(
            what(missing(&check(Some("6.1.0-57-amd64"), true, true), &img)),
            [
                (
                    "/etc/pmemtab as it is now (the image has another one)".to_string(),
                    true
                ),
                ("pmemtab-generator".to_string(), true),
                ("mkfs.xfs".to_string(), true),
                ("fsck.ext4".to_string(), false),
                (
                    "kernel module dm_mod (for 6.1.0-57-amd64)".to_string(),
                    true
                ),
            ]
        );
        // Only what was asked for: the modules alone (dracut --kernel-only), no generator.
        assert_eq!(
            missing(&check(Some("6.1.0-57-amd64"), false, false), &img).len(),
            1
        );
        assert_eq!(missing(&check(None, true, false), &img).len(), 3);
        // A link out of the image does not count.
        std::os::unix::fs::symlink("../../../../host/x", dir.join("usr/sbin/mkfs.xfs")).unwrap();
        put(&d, "host/x", "x");
        assert!(!has_program(&dir, "mkfs.xfs"));
    }

    #[test]
    fn module_names() {
        assert_eq!(module_file_name("dm-mod.ko.xz").as_deref(), Some("dm_mod"));
        assert_eq!(module_file_name("nd_pmem.ko").as_deref(), Some("nd_pmem"));
        assert_eq!(module_file_name("modules.dep"), None);
        assert_eq!(module_file_name(".ko"), None);
    }
}
