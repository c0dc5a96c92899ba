//! `up` and `down` of a `single` entry through the binary: the captured sysfs tree, a scratch
//! /dev holding a block node for the namespace's pmem0 and a scratch /run (`--run`). Checks
//! the `pmemtab/by-name/<name>` link the generator's mount unit mounts. Needs root (mknod),
//! as the unit tests of the device nodes do.

// Helpers outside #[test] functions set up the scratch tree: a panic there fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A major no driver registers here (240-254 are for local use); opening the node fails
/// with ENXIO, so nothing real is ever read.
const UNUSED_MAJOR: u64 = 240;

/// The scratch machine: removed when the test ends, also when it fails.
struct Scratch(testsupport::Scratch);

impl Scratch {
    fn new(tag: &str, pmemtab: &str) -> Scratch {
        let dir = testsupport::Scratch::new(&format!("single-{tag}"));
        let root = dir.path();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::create_dir_all(root.join("run")).unwrap();
        std::fs::write(root.join("pmemtab"), pmemtab).unwrap();
        let dev = nix::sys::stat::makedev(UNUSED_MAJOR, 4242);
        nix::sys::stat::mknod(
            &root.join("dev/pmem0"),
            nix::sys::stat::SFlag::S_IFBLK,
            nix::sys::stat::Mode::from_bits_truncate(0o600),
            dev,
        )
        .expect("mknod needs root");
        Scratch(dir)
    }

    fn root(&self) -> &Path {
        self.0.path()
    }

    fn run(&self, args: &[&str]) -> Output {
        let sysfs =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/nd-sysfs-qemu-a/sys");
        Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(self.root().join("pmemtab"))
            .arg("--sysfs")
            .arg(sysfs)
            .arg("--dev")
            .arg(self.root().join("dev"))
            .arg("--run")
            .arg(self.root().join("run"))
            .args(args)
            // An empty PATH: no modprobe or mkfs from the host can run.
            .env("PATH", self.root().join("no-such-bin"))
            .output()
            .unwrap()
    }

    fn link(&self, name: &str) -> PathBuf {
        self.root().join("run/pmemtab/by-name").join(name)
    }
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}stderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const TAB: &str = "scratch single addr=0x28000000 /mnt/scratch ext4\n";

#[test]
fn up_links_down_unlinks() {
    let s = Scratch::new("cycle", TAB);
    let want = s.root().join("dev/pmem0");
    let up = s.run(&["up", "--timeout", "0", "scratch"]);
    assert_eq!(up.status.code(), Some(0), "{}", text(&up));
    assert_eq!(
        std::fs::read_link(s.link("scratch")).unwrap(),
        want,
        "{}",
        text(&up)
    );
    assert!(
        String::from_utf8_lossy(&up.stdout).contains("scratch: linked "),
        "{}",
        text(&up)
    );
    for d in ["run/pmemtab", "run/pmemtab/by-name"] {
        assert_eq!(
            std::fs::metadata(s.root().join(d)).unwrap().mode() & 0o777,
            0o755,
            "{d}"
        );
    }

    // Again: the link is right, nothing is said about it.
    let again = s.run(&["up", "--timeout", "0", "scratch"]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert!(
        !String::from_utf8_lossy(&again.stdout).contains("linked"),
        "{}",
        text(&again)
    );

    // A link left from a boot where the namespace was pmem3 is replaced.
    std::fs::remove_file(s.link("scratch")).unwrap();
    std::os::unix::fs::symlink("/dev/pmem3", s.link("scratch")).unwrap();
    let fix = s.run(&["up", "--timeout", "0", "scratch"]);
    assert_eq!(fix.status.code(), Some(0), "{}", text(&fix));
    assert_eq!(std::fs::read_link(s.link("scratch")).unwrap(), want);
    assert!(
        String::from_utf8_lossy(&fix.stdout).contains("(was -> /dev/pmem3)"),
        "{}",
        text(&fix)
    );

    // dm_mod is not loaded in the captured tree: down needs no device-mapper for this.
    let down = s.run(&["down", "scratch"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    assert!(
        std::fs::symlink_metadata(s.link("scratch")).is_err(),
        "{}",
        text(&down)
    );
    assert!(
        String::from_utf8_lossy(&down.stdout).contains("scratch: removed "),
        "{}",
        text(&down)
    );
    let again = s.run(&["down", "scratch"]);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        "scratch: not active\n",
        "{}",
        text(&again)
    );

    // --all finds the links.
    assert_eq!(s.run(&["up", "--all"]).status.code(), Some(0));
    assert!(s.link("scratch").exists());
    let all = s.run(&["down", "--all"]);
    assert_eq!(all.status.code(), Some(0), "{}", text(&all));
    assert!(
        std::fs::symlink_metadata(s.link("scratch")).is_err(),
        "{}",
        text(&all)
    );
}

#[test]
fn a_file_in_the_way_is_never_replaced() {
    let s = Scratch::new("foreign", TAB);
    std::fs::create_dir_all(s.root().join("run/pmemtab/by-name")).unwrap();
    std::fs::write(s.link("scratch"), "not ours").unwrap();
    let up = s.run(&["up", "--timeout", "0", "scratch"]);
    assert_eq!(up.status.code(), Some(3), "{}", text(&up));
    let err = String::from_utf8_lossy(&up.stderr);
    assert!(
        err.contains(":1: scratch: ")
            && err.contains("by-name/scratch exists and is not a symbolic link"),
        "{}",
        text(&up)
    );
    let down = s.run(&["down", "scratch"]);
    assert_eq!(down.status.code(), Some(0), "{}", text(&down));
    assert!(
        String::from_utf8_lossy(&down.stderr).contains("is not a symbolic link; left in place"),
        "{}",
        text(&down)
    );
    assert_eq!(
        std::fs::read_to_string(s.link("scratch")).unwrap(),
        "not ours"
    );
}

#[test]
fn failed_mkfs_publishes_no_link() {
    // The node leads nowhere, so looking for a signature fails: mkfs cannot complete.
    let s = Scratch::new(
        "mkfs",
        "scratch single addr=0x28000000 /mnt/scratch ext4 mkfs\n",
    );
    let up = s.run(&["up", "--timeout", "0", "scratch"]);
    assert_eq!(up.status.code(), Some(3), "{}", text(&up));
    assert!(
        String::from_utf8_lossy(&up.stderr).contains("to look for a filesystem"),
        "{}",
        text(&up)
    );
    assert!(
        std::fs::symlink_metadata(s.link("scratch")).is_err(),
        "{}",
        text(&up)
    );
}
