//! `--write` makes grub.d 0755 and the drop-in 0644 whatever the umask, and a run that changes
//! nothing repairs them (issue 28 item 5): grub-mkconfig sources the drop-in as root, so a
//! file or directory others can write is a way to root.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// `pmemtab-memmap --size 512M --write` on the qemu-4g map and `root`, under umask 000.
fn write(root: &Path, proc: &Path) -> Output {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    Command::new("sh")
        .args(["-c", "umask 000; exec \"$@\"", "sh"])
        .arg(env!("CARGO_BIN_EXE_pmemtab-memmap"))
        .arg("--sysfs")
        .arg(fixtures.join("memmap-qemu-4g/sys"))
        .arg("--proc")
        .arg(proc)
        .arg("--root")
        .arg(root)
        .args(["--size", "512M", "--write"])
        .output()
        .unwrap()
}

#[test]
fn the_drop_in_and_its_directory_are_root_s_alone() {
    let s = testsupport::Scratch::new("memmap-modes");
    let root = s.path().join("root");
    let proc = s.path().join("proc");
    fs::create_dir_all(&proc).unwrap();
    fs::write(proc.join("cmdline"), "ro quiet\n").unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/qemu-4g-write/root");
    testsupport::copy_tree(&golden, &root);
    let dir = root.join("etc/default/grub.d");
    let file = dir.join("90-pmemtab.cfg");
    assert!(!dir.exists());

    let o = write(&root, &proc);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!((mode(&dir), mode(&file)), (0o755, 0o644));

    // Loosened by hand (or by an older run under umask 000): the next run, which changes
    // nothing else, sets them right and says so.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o666)).unwrap();
    let o = write(&root, &proc);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\nunchanged "), "{out}");
    assert!(
        out.contains("90-pmemtab.cfg to 0644 (it was 0666")
            && out.contains("grub.d to 0755 (it was 0777"),
        "{out}"
    );
    assert_eq!((mode(&dir), mode(&file)), (0o755, 0o644));

    // A directory the admin made stricter stays so; only others' write bits go.
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let o = write(&root, &proc);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    assert_eq!(mode(&dir), 0o700);
}
