//! `up` and `down` of a cxl-pmem line on a scratch copy of the synthetic CXL tree, the kernel's
//! part simulated as far as the next step reads it (the claimed region's directory, bound to
//! cxl_region): what is written, in what order, what is recorded, and that `down` takes back
//! what `up` made and only that. The real kernel's answers are the lab's (tests/lab).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Tree {
    scratch: testsupport::Scratch,
}

const RD: &str = "devices/platform/ACPI0017:00/root0/decoder0.0";

impl Tree {
    fn new(tag: &str) -> Tree {
        let scratch = testsupport::Scratch::new(tag);
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/cxl-synth-one-bridge/sys");
        assert!(Command::new("cp")
            .arg("-a")
            .arg(&fixture)
            .arg(scratch.path())
            .status()
            .unwrap()
            .success());
        let t = Tree { scratch };
        let uuid = t.path("proc/sys/kernel/random");
        fs::create_dir_all(&uuid).unwrap();
        fs::write(uuid.join("uuid"), "6a3c1f2e-8a54-4d1b-9b7e-0f1e2d3c4b5a\n").unwrap();
        fs::create_dir_all(t.path("proc/self")).unwrap();
        fs::write(t.path("proc/self/mountinfo"), "").unwrap();
        fs::write(
            t.path("pmemtab"),
            "cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - size=512M\n",
        )
        .unwrap();
        t
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.scratch.path().join(rel)
    }

    fn sys(&self, rel: &str) -> PathBuf {
        self.path("sys").join(rel)
    }

    /// The region the kernel makes on the claim, already bound (the kernel binds on the
    /// bind write; a fixture cannot).
    fn kernel_region(&self) -> PathBuf {
        let r = self.sys(RD).join("region0");
        testsupport::cxl_region_dir(&r);
        std::os::unix::fs::symlink(
            "../../../../../../bus/cxl/drivers/cxl_region",
            r.join("driver"),
        )
        .unwrap();
        std::os::unix::fs::symlink(
            format!("../../../{RD}/region0"),
            self.sys("bus/cxl/devices/region0"),
        )
        .unwrap();
        r
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_pmem-assemble"))
            .arg("--pmemtab")
            .arg(self.path("pmemtab"))
            .arg("--sysfs")
            .arg(self.path("sys"))
            .arg("--run")
            .arg(self.path("run"))
            .arg("--proc")
            .arg(self.path("proc"))
            // No modprobe: the host's kernel is not the one under test.
            .env("PATH", self.path("no-programs"))
            .args(args)
            .output()
            .unwrap()
    }
}

fn value(p: &Path) -> String {
    fs::read_to_string(p).unwrap().trim_end().to_string()
}

fn text(o: &[u8]) -> String {
    String::from_utf8_lossy(o).into_owned()
}

#[test]
fn up_creates_records_and_down_takes_back() {
    let t = Tree::new("cxl-up-down");
    let region = t.kernel_region();
    let out = t.run(&["up", "cxlpm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cxlpm: created pmem region region0 under decoder0.0: 512.00 MiB, granularity 256, serial 0x2002 (mem1 decoder3.0), 0x2003 (mem2 decoder4.0)\n"
    );
    assert_eq!(value(&region.join("size")), "0x20000000");
    assert_eq!(value(&region.join("target0")), "decoder3.0");
    assert_eq!(value(&region.join("target1")), "decoder4.0");
    assert_eq!(value(&region.join("commit")), "1");
    assert_eq!(
        value(&t.sys("bus/cxl/devices/decoder3.0/dpa_size")),
        "0x10000000"
    );
    assert_eq!(value(&t.sys("bus/cxl/devices/decoder4.0/mode")), "pmem");
    assert_eq!(
        value(&t.path("run/pmemtab/cxl/cxlpm")),
        "region0 0x2002,0x2003"
    );

    // import --cxl gives back the line that recognises it, once it is not declared.
    fs::write(t.path("pmemtab"), "").unwrap();
    let out = t.run(&["import", "--cxl"]);
    assert_eq!(
        text(&out.stdout),
        "cxl-2002-2003 cxl-pmem serial=0x2002,serial=0x2003 - - size=512M,granularity=256\n"
    );
    fs::write(
        t.path("pmemtab"),
        "cxlpm cxl-pmem serial=0x2002,serial=0x2003 - - size=512M\n",
    )
    .unwrap();
    let out = t.run(&["import", "--cxl"]);
    assert_eq!(
        text(&out.stdout),
        "# region0: already declared by 'cxlpm' on line 1\n"
    );
    // Again: recognised, nothing written.
    let out = t.run(&["up", "cxlpm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cxlpm: region0 over serial 0x2002,0x2003 exists as declared; nothing written\n"
    );
    let out = t.run(&["status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cxlpm (region0) CXL pmem region, 512.00 MiB, granularity 256, committed, bound, made by pmemtab, pmemtab line 1\n \
         ├─position 0: serial=0x2002 mem1 decoder3.0\n \
         └─position 1: serial=0x2003 mem2 decoder4.0\n"
    );
    let out = t.run(&["status", "--json", "cxlpm"]);
    assert!(
        text(&out.stdout).contains("\"regions\": [\n    {\n      \"name\": \"cxlpm\",\n      \"region\": \"region0\",\n      \"mode\": \"pmem\",\n      \"size\": 536870912,"),
        "{}",
        text(&out.stdout)
    );

    let out = t.run(&["down", "cxlpm"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "cxlpm: tore down region0 over serial 0x2002,0x2003\n"
    );
    assert_eq!(
        value(&t.sys("bus/cxl/drivers/cxl_region/unbind")),
        "region0"
    );
    assert_eq!(value(&region.join("commit")), "0");
    assert_eq!(value(&region.join("target1")), "");
    assert_eq!(value(&t.sys("bus/cxl/devices/decoder4.0/dpa_size")), "0");
    assert_eq!(value(&t.sys(RD).join("delete_region")), "region0");
    assert!(!t.path("run/pmemtab/cxl/cxlpm").exists());
}

#[test]
fn a_region_pmemtab_did_not_make_is_left_alone() {
    let t = Tree::new("cxl-foreign");
    let out = t.run(&["down", "cxlpm"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        "cxlpm: no region made by pmemtab in this boot (a region the firmware or someone else made is left alone)\n"
    );
    assert_eq!(value(&t.sys(RD).join("delete_region")), "");
}

#[test]
fn a_missing_device_is_waited_for_then_named() {
    let t = Tree::new("cxl-missing");
    fs::write(t.path("pmemtab"), "gone cxl-pmem serial=0x9999\n").unwrap();
    let out = t.run(&["up", "--timeout", "0", "gone"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).ends_with("gone: CXL memory device serial=0x9999 not found on the CXL bus (or not yet enumerated by cxl_mem); check `cxl list -M` (waited 0s)\n"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_ram_region_by_serial_is_created_with_the_policy_held_and_its_memory_checked() {
    const BS: u64 = 128 << 20;
    let t = Tree::new("cxl-ram");
    fs::write(
        t.path("pmemtab"),
        "expand system-ram serial=0x1001 - - zone=movable\n",
    )
    .unwrap();
    let region = t.kernel_region();
    // What the kernel does at the bind, with kmem the CXL dax device's default driver: its
    // dax device on node 1, bound to kmem, its two blocks onlined movable (here already).
    let dax = region.join("dax_region0/dax0.0");
    fs::create_dir_all(&dax).unwrap();
    fs::write(dax.join("target_node"), "1\n").unwrap();
    fs::write(dax.join("resource"), format!("{:#x}\n", 32 * BS)).unwrap();
    fs::write(dax.join("size"), format!("{}\n", 2 * BS)).unwrap();
    for d in ["kmem", "device_dax"] {
        fs::create_dir_all(t.sys("bus/dax/drivers").join(d)).unwrap();
    }
    fs::create_dir_all(t.sys("bus/dax/devices")).unwrap();
    std::os::unix::fs::symlink(
        format!("../../../{RD}/region0/dax_region0/dax0.0"),
        t.sys("bus/dax/devices/dax0.0"),
    )
    .unwrap();
    std::os::unix::fs::symlink(t.sys("bus/dax/drivers/kmem"), dax.join("driver")).unwrap();
    let mem = t.sys("devices/system/memory");
    fs::create_dir_all(&mem).unwrap();
    fs::write(mem.join("block_size_bytes"), format!("{BS:x}\n")).unwrap();
    fs::write(mem.join("auto_online_blocks"), "online\n").unwrap();
    for n in [32, 33] {
        let b = mem.join(format!("memory{n}"));
        fs::create_dir_all(&b).unwrap();
        fs::write(b.join("state"), "online\n").unwrap();
        fs::write(b.join("valid_zones"), "Movable\n").unwrap();
    }
    let node = t.sys("devices/system/node/node1");
    fs::create_dir_all(&node).unwrap();
    fs::write(node.join("meminfo"), "Node 1 MemTotal:  262144 kB\n").unwrap();

    let out = t.run(&["up", "expand"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "expand: created ram region region0 under decoder0.0: 256.00 MiB, granularity 256, serial 0x1001 (mem0 decoder2.0)\n\
         expand: region0 (dax0.0) is system RAM on node 1: 2 blocks of 128.00 MiB in zone movable (0 onlined now)\n"
    );
    // The policy was held at offline from the bind until the memory was onlined (it would
    // have onlined into ZONE_NORMAL), and restored.
    assert!(
        text(&out.stderr).contains("would have onlined the region's memory in a zone of its own; held it at offline until the memory was onlined here, then restored it"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(value(&mem.join("auto_online_blocks")), "online");
    assert_eq!(value(&t.sys("bus/cxl/devices/decoder2.0/mode")), "ram");
    assert_eq!(value(&region.join("uuid")), "", "a ram region has no uuid");
    assert_eq!(
        value(&t.path("run/pmemtab/kmem/expand.env")),
        "MEMKIND_DAX_KMEM_NODES=1"
    );
    assert_eq!(value(&t.path("run/pmemtab/cxl/expand")), "region0 0x1001");
}
