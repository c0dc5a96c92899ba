//! Assembling an entry's device-mapper device in the running kernel: it is built, verified
//! (live table = plan, queue/dax = 1) and given its node, or torn down again; `down` removes
//! only devices carrying the pmemtab dm uuid prefix, retrying a busy one for a bounded time.
//! The commands call these; nothing else changes the system (besides mount and mkfs).

use crate::ctx::Ctx;
use crate::dm::control::{BuildError, Control, ControlFile, DmError, Info, Transport};
use crate::wait::{self, Deadline};
use crate::{mount, nodes};
use nix::errno::Errno;
use pmemtab::devnum::DevNum;
use pmemtab::dmtable;
use pmemtab::plan::{Device, Plan, DM_UUID_PREFIX};
use pmemtab::timeouts::Wait;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("device-mapper is not available ({0}); load it with `modprobe dm_mod` or boot a kernel with CONFIG_BLK_DEV_DM")]
    NoDm(String),
    /// `up_dm` was given the plan of an entry that is no device-mapper device (a bug of the
    /// caller: nothing to load, and device-mapper is not what is missing).
    #[error("'{name}' is planned as a {layout} entry, not as a device-mapper device, so there is no table to load; this is a bug in pmem-assemble: please report it with the output of `pmem-assemble check {name}`")]
    NotDm { name: String, layout: String },
    #[error(
        "cannot open {path}: {source}; pmem-assemble must run as root with device-mapper loaded"
    )]
    Control {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Dm(#[from] DmError),
    #[error("{0}")]
    Build(#[from] BuildError),
    #[error("a device-mapper device '{name}' exists that pmemtab did not create (dm uuid '{uuid}'); rename the entry or remove that device")]
    Foreign { name: String, uuid: String },
    #[error("'{name}' is active with a different table; a live device is never reloaded: run `pmem-assemble down {name}` first if the new table is wanted")]
    Differs {
        name: String,
        live: String,
        want: String,
    },
    #[error("'{name}' is suspended with the planned table live but another table loaded behind it (an interrupted reload); resuming would make that one live: compare `dmsetup table --inactive {name}`, then `dmsetup clear {name}` and run up again")]
    SuspendedWithInactive { name: String },
    #[error("'{name}' exists without a live table and is open, so it cannot be rebuilt; close it and run `dmsetup remove {name}`")]
    Stale { name: String },
    #[error("the kernel's table for '{name}' is not the planned one (live: {live:?}, planned: {want:?}); the device was removed{leftover}")]
    Mismatch {
        name: String,
        live: String,
        want: String,
        leftover: String,
    },
    #[error("'{name}' ({dm}) cannot do DAX although its members should (queue/dax is 0); the device was removed{leftover}; check the members with `pmem-assemble list`")]
    NotDax {
        name: String,
        dm: String,
        leftover: String,
    },
    #[error("cannot create {path}: {source}; the device was removed{leftover}")]
    Node {
        path: PathBuf,
        source: std::io::Error,
        leftover: String,
    },
    #[error("device is busy ({holders}) and was left in place; stop its users, then run `pmem-assemble down {name}` again")]
    Busy { name: String, holders: String },
}

/// Loads a kernel module with modprobe when there is one (the initramfs may have none, or the
/// driver may be built in), until `by` at the latest. True when modprobe ran and succeeded;
/// callers decide what a failure means, since the driver may be there anyway.
pub fn modprobe(module: &str, by: Deadline) -> bool {
    let path = std::env::var("PATH").ok();
    let Some(prog) = crate::mkfs::find_program("modprobe", path.as_deref()) else {
        return false;
    };
    let by = by.cap(Wait::Modprobe);
    matches!(wait::run(Command::new(prog).args(["-q", module]), by), Ok(s) if s.success())
}

/// Opens `/dev/mapper/control`, loading dm_mod and making the node if needed (until `by`),
/// and checks the interface version.
pub fn open_control(ctx: &Ctx, by: Deadline) -> Result<Control<ControlFile>, AssembleError> {
    if !nodes::dm_loaded(&ctx.sysfs) {
        // After a successful modprobe the misc device shows up promptly; after a failed one
        // there is nothing to wait for.
        let loaded = modprobe("dm_mod", by);
        let appeared = if loaded {
            wait::poll(by.cap(Wait::DmAppear), || {
                nodes::dm_loaded(&ctx.sysfs).then_some(())
            })
            .is_some()
        } else {
            nodes::dm_loaded(&ctx.sysfs)
        };
        if !appeared {
            let how = if loaded {
                "modprobe dm_mod succeeded but"
            } else {
                "modprobe dm_mod failed or is missing, and"
            };
            return Err(AssembleError::NoDm(format!(
                "{how} {} does not exist",
                ctx.sysfs.join("class/misc/device-mapper").display()
            )));
        }
    }
    let path =
        nodes::ensure_control(&ctx.dev, &ctx.sysfs).map_err(|source| AssembleError::Control {
            path: nodes::control_path(&ctx.dev),
            source,
        })?;
    let file = ControlFile::open(&path).map_err(|source| AssembleError::Control {
        path: path.clone(),
        source,
    })?;
    Ok(Control::new(file)?)
}

/// What `up` did with a dm entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Up {
    Created {
        devnum: DevNum,
        node: PathBuf,
    },
    /// Active already with the planned table: nothing changed.
    Unchanged {
        devnum: DevNum,
        node: PathBuf,
        /// It was suspended (an interrupted reload) and was resumed.
        resumed: bool,
    },
}

fn rollback<T: Transport>(ctl: &mut Control<T>, name: &str) -> String {
    match ctl.remove(name) {
        Ok(()) => String::new(),
        Err(e) => format!(", but removing it failed ({e}): remove it with `dmsetup remove {name}`"),
    }
}

/// Builds the plan's dm device (or accepts it if it is already there exactly as planned),
/// its node by `by`.
pub fn up_dm<T: Transport>(
    ctl: &mut Control<T>,
    ctx: &Ctx,
    plan: &Plan,
    by: Deadline,
) -> Result<Up, AssembleError> {
    let Device::Dm { uuid, targets, .. } = &plan.device else {
        return Err(AssembleError::NotDm {
            name: plan.name.to_string(),
            layout: plan.layout.to_string(),
        });
    };
    let name = plan.name.as_str();
    let udev = nodes::udev_running(&ctx.run);
    if let Some(info) = ctl.info(name)? {
        if !info.uuid.starts_with(DM_UUID_PREFIX) {
            return Err(AssembleError::Foreign {
                name: name.into(),
                uuid: info.uuid,
            });
        }
        if info.active {
            let live = ctl.table(name)?;
            if live != *targets {
                return Err(AssembleError::Differs {
                    name: name.into(),
                    live: dmtable::print(&live),
                    want: dmtable::print(targets),
                });
            }
            // What an interrupted reload leaves: every I/O to it (a mount at boot) would
            // block. Resumed when only the planned live table would come back; with another
            // table loaded behind it, resuming would switch to that one instead.
            let resumed = info.suspended;
            if resumed {
                if info.inactive {
                    return Err(AssembleError::SuspendedWithInactive { name: name.into() });
                }
                ctl.resume(name)?;
            }
            let node = nodes::ensure_mapper_node(&ctx.dev, &ctx.sysfs, name, info.devnum, udev, by)
                .map_err(|source| AssembleError::Node {
                    path: nodes::mapper_path(&ctx.dev, name),
                    source,
                    leftover: " (not: it was already active)".into(),
                })?;
            if udev {
                // Built before udev ran (initramfs): let udev process it now so that
                // /dev/disk/by-* links and systemd's .device unit appear.
                let _ = nodes::send_change(&ctx.sysfs, info.devnum);
            }
            return Ok(Up::Unchanged {
                devnum: info.devnum,
                node,
                resumed,
            });
        }
        // Created but never resumed: what a crash between DEV_CREATE and resume leaves.
        if info.open_count > 0 {
            return Err(AssembleError::Stale { name: name.into() });
        }
        ctl.remove(name)?;
    }
    let devnum = ctl.build(name, uuid, targets)?;
    let live = match ctl.table(name) {
        Ok(t) => t,
        Err(e) => {
            rollback(ctl, name);
            return Err(e.into());
        }
    };
    if live != *targets {
        let leftover = rollback(ctl, name);
        return Err(AssembleError::Mismatch {
            name: name.into(),
            live: dmtable::print(&live),
            want: dmtable::print(targets),
            leftover,
        });
    }
    if plan.layout.is_dax_block() && !nodes::queue_dax(&ctx.sysfs, devnum).unwrap_or(false) {
        let dm = nodes::kernel_name(&ctx.sysfs, devnum).unwrap_or_else(|| devnum.to_string());
        let leftover = rollback(ctl, name);
        return Err(AssembleError::NotDax {
            name: name.into(),
            dm,
            leftover,
        });
    }
    match nodes::ensure_mapper_node(&ctx.dev, &ctx.sysfs, name, devnum, udev, by) {
        Ok(node) => Ok(Up::Created { devnum, node }),
        Err(source) => {
            let leftover = rollback(ctl, name);
            Err(AssembleError::Node {
                path: nodes::mapper_path(&ctx.dev, name),
                source,
                leftover,
            })
        }
    }
}

/// After a later step of `up` (mkfs) failed: removes the device if this run created it, so
/// nothing half-built stays; a device that was active before is left as it was. Returns the
/// clause the error line ends with.
pub fn undo<T: Transport>(
    ctl: &mut Control<T>,
    ctx: &Ctx,
    name: &str,
    up: &Up,
    by: Deadline,
) -> String {
    match up {
        Up::Unchanged { .. } => {
            "; the device was active before this run and was left in place".into()
        }
        Up::Created { .. } => match down_dm(ctl, ctx, name, by) {
            Ok(_) => "; the device this run created was removed again".into(),
            Err(e) => format!("; removing the device this run created failed too ({e})"),
        },
    }
}

/// What `down` did with one name.
#[derive(Debug, PartialEq, Eq)]
pub enum Down {
    Removed,
    NotActive,
}

/// Who holds a device: mounts, stacked devices, else the open count.
pub fn describe_holders(ctx: &Ctx, info: &Info) -> String {
    let mut what = Vec::new();
    if let Ok(mounts) = mount::mountinfo(&ctx.proc) {
        for m in mount::mounts_of(&mounts, info.devnum) {
            what.push(format!(
                "mounted on {}",
                pmemtab::text::escape_path(&m.mount_point)
            ));
        }
    }
    for h in nodes::holders(&ctx.sysfs, info.devnum) {
        what.push(format!("used by {h}"));
    }
    if what.is_empty() {
        what.push(format!(
            "open {} time(s); `fuser -vm {}` shows by whom",
            info.open_count,
            nodes::mapper_path(&ctx.dev, &info.name).display()
        ));
    }
    what.join(", ")
}

/// Removes a pmemtab device; refuses others; retries while busy (until `by`, at most
/// [`Wait::Busy`]), then reports the holders.
pub fn down_dm<T: Transport>(
    ctl: &mut Control<T>,
    ctx: &Ctx,
    name: &str,
    by: Deadline,
) -> Result<Down, AssembleError> {
    let Some(info) = ctl.info(name)? else {
        return Ok(Down::NotActive);
    };
    if !info.uuid.starts_with(DM_UUID_PREFIX) {
        return Err(AssembleError::Foreign {
            name: name.into(),
            uuid: info.uuid,
        });
    }
    let removed = wait::retry(by.cap(Wait::Busy), || match ctl.remove(name) {
        Err(e) if e.errno() == Some(Errno::EBUSY) => Err(e),
        other => Ok(other),
    });
    match removed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.into()),
        Err(_busy) => {
            let info = ctl.info(name)?.unwrap_or(info);
            return Err(AssembleError::Busy {
                name: name.into(),
                holders: describe_holders(ctx, &info),
            });
        }
    }
    let _ = nodes::remove_mapper_node(&ctx.dev, name, nodes::udev_running(&ctx.run), by);
    Ok(Down::Removed)
}

/// Every active device carrying the pmemtab prefix, in name order.
pub fn ours<T: Transport>(ctl: &mut Control<T>) -> Result<Vec<Info>, DmError> {
    let mut out = Vec::new();
    for (name, _) in ctl.list()? {
        if let Some(info) = ctl.info(&name)? {
            if info.uuid.starts_with(DM_UUID_PREFIX) {
                out.push(info);
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Used by commands that only need to know whether a path exists as a block device.
pub fn is_block(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path)
        .map(|m| m.file_type().is_block_device())
        .unwrap_or(false)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    /// A deadline far enough for a test's fake kernel.
    pub(crate) fn soon() -> Deadline {
        Deadline::after(Duration::from_secs(5))
    }
    use crate::dm::control::fake::FakeKernel;
    use pmemtab::ns::{Mode, Namespace};
    use pmemtab::tab::{Entry, EntryKind, Layout, Member, Options};
    use std::os::unix::fs::FileTypeExt;

    fn ns(i: u32) -> Namespace {
        Namespace {
            dev: format!("namespace{i}.0"),
            region: format!("region{i}"),
            provider: Some("ACPI.NFIT".into()),
            mode: Mode::Fsdax,
            legacy: false,
            active: true,
            uuid: Some(uuid::Uuid::from_u128(0x1000 + u128::from(i))),
            raw_uuid: Some(uuid::Uuid::from_u128(0x2000 + u128::from(i))),
            name: None,
            blockdev: Some(format!("pmem{i}")),
            devnum: Some(DevNum {
                major: 259,
                minor: i,
            }),
            chardev: None,
            size: 510 << 20,
            resource: Some(0x1_0000_0000 + u64::from(i) * (1 << 30)),
            data_start: Some(0x1_0020_0000 + u64::from(i) * (1 << 30)),
            dax: true,
            numa_node: Some(0),
            target_node: Some(0),
            align: Some(2 << 20),
            sector_size: Some(512),
        }
    }

    pub(crate) fn plan_for(name: &str, chunk: u64) -> Plan {
        let nss = vec![ns(0), ns(1)];
        let entry = Entry {
            line: 3,
            name: pmemtab::tab::name::Name::new(name).unwrap(),
            kind: EntryKind::new(
                Layout::Striped { chunk_bytes: chunk },
                nss.iter().map(|n| Member::Uuid(n.uuid.unwrap())).collect(),
                None,
            )
            .unwrap(),
            options: Options::default(),
            source: Default::default(),
        };
        pmemtab::plan::plan(&entry, &nss).unwrap()
    }

    /// A scratch tree with sysfs for dm-0 (queue/dax as given), /dev and /run.
    pub(crate) fn scratch_ctx(tag: &str, dax: &str) -> Ctx {
        let root = std::env::temp_dir().join(format!("pmem-assemble-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("sys/dev/block")).unwrap();
        for minor in 0..2 {
            let dm = root.join(format!("sys/devices/virtual/block/dm-{minor}"));
            std::fs::create_dir_all(dm.join("queue")).unwrap();
            std::fs::write(dm.join("queue/dax"), dax).unwrap();
            std::os::unix::fs::symlink(
                format!("../../devices/virtual/block/dm-{minor}"),
                root.join(format!("sys/dev/block/253:{minor}")),
            )
            .unwrap();
        }
        std::fs::create_dir_all(root.join("proc/self")).unwrap();
        std::fs::write(
            root.join("proc/self/mountinfo"),
            "41 22 253:0 / /mnt/fast rw - ext4 /dev/mapper/fast0 rw,dax=always\n",
        )
        .unwrap();
        Ctx {
            pmemtab: root.join("pmemtab"),
            sysfs: root.join("sys"),
            dev: root.join("dev"),
            run: root.join("run"),
            proc: root.join("proc"),
        }
    }

    #[test]
    fn a_plan_without_a_table_is_no_missing_device_mapper() {
        let r = scratch_ctx("up-not-dm", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let mut plan = plan_for("fast0", 2 << 20);
        plan.device = Device::Kmem { devs: Vec::new() };
        let e = up_dm(&mut ctl, &r, &plan, soon()).unwrap_err();
        assert!(matches!(e, AssembleError::NotDm { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(
            msg.starts_with(
                "'fast0' is planned as a striped:2M entry, not as a device-mapper device"
            ) && !msg.contains("modprobe"),
            "{msg}"
        );
        assert!(ctl.transport().devs.is_empty(), "nothing built");
    }

    #[test]
    fn up_creates_then_is_idempotent() {
        let r = scratch_ctx("up", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let plan = plan_for("fast0", 2 << 20);
        let up = up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        let Up::Created { devnum, node } = up else {
            panic!("{up:?}")
        };
        assert_eq!(
            devnum,
            DevNum {
                major: 253,
                minor: 0
            }
        );
        assert!(std::fs::metadata(&node)
            .unwrap()
            .file_type()
            .is_block_device());
        let calls = ctl.transport().calls.len();
        // Second run: same table, no create/load/resume.
        assert!(matches!(
            up_dm(&mut ctl, &r, &plan, soon()).unwrap(),
            Up::Unchanged { .. }
        ));
        let new_calls = &ctl.transport().calls[calls..];
        assert!(
            !new_calls.iter().any(|c| matches!(
                c,
                crate::dm::ioctl::Cmd::DevCreate
                    | crate::dm::ioctl::Cmd::TableLoad
                    | crate::dm::ioctl::Cmd::DevSuspend
            )),
            "{new_calls:?}"
        );
    }

    #[test]
    fn suspended_device_with_the_planned_table_is_resumed() {
        let r = scratch_ctx("suspended", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let plan = plan_for("fast0", 2 << 20);
        up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        ctl.transport().devs.get_mut("fast0").unwrap().suspended = true;
        let up = up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        assert!(matches!(up, Up::Unchanged { resumed: true, .. }), "{up:?}");
        assert!(!ctl.info("fast0").unwrap().unwrap().suspended);
        // Resumed once: the next run finds it running.
        let up = up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        assert!(matches!(up, Up::Unchanged { resumed: false, .. }), "{up:?}");
    }

    #[test]
    fn suspended_device_with_another_table_behind_it_is_not_resumed() {
        let r = scratch_ctx("suspended-inactive", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let plan = plan_for("fast0", 2 << 20);
        up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        // dmsetup load (another chunk) + suspend, interrupted before resume.
        ctl.load("fast0", plan_for("fast0", 4 << 20).targets())
            .unwrap();
        ctl.transport().devs.get_mut("fast0").unwrap().suspended = true;
        let e = up_dm(&mut ctl, &r, &plan, soon()).unwrap_err();
        assert!(
            matches!(e, AssembleError::SuspendedWithInactive { .. }),
            "{e}"
        );
        let info = ctl.info("fast0").unwrap().unwrap();
        assert!(info.suspended && info.inactive, "left exactly as it was");
        assert_eq!(ctl.table("fast0").unwrap(), plan.targets());
    }

    #[test]
    fn up_with_another_table_refuses_and_shows_both() {
        let r = scratch_ctx("differs", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap();
        let e = up_dm(&mut ctl, &r, &plan_for("fast0", 4 << 20), soon()).unwrap_err();
        let AssembleError::Differs { live, want, .. } = &e else {
            panic!("{e}")
        };
        assert!(
            live.contains("striped 2 4096 ") && want.contains("striped 2 8192 "),
            "{live} / {want}"
        );
        // The live device kept its table.
        assert_eq!(dmtable::print(&ctl.table("fast0").unwrap()), *live);
    }

    #[test]
    fn a_live_table_that_does_not_read_as_planned_is_refused_as_it_is() {
        // What a hand's `dmsetup load` can leave under our uuid: a linear target whose
        // parameters are not `device offset`, and a type pmemtab never builds. Neither is
        // read as a plan's table, neither panics: up refuses, showing them as they are.
        use pmemtab::dmtable::Target;
        for (ty, params) in [("linear", "259:3"), ("error", "")] {
            let r = scratch_ctx(&format!("unread-{ty}"), "1\n");
            let mut ctl = Control::new(FakeKernel::default()).unwrap();
            ctl.build(
                "fast0",
                "PMEMTAB-fast0",
                &[Target::from_parts(0, 8, ty, params)],
            )
            .unwrap();
            let e = up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap_err();
            let AssembleError::Differs { live, .. } = &e else {
                panic!("{e}")
            };
            assert_eq!(*live, format!("0 8 {ty} {params}\n"));
            assert_eq!(ctl.table("fast0").unwrap().len(), 1, "left as it was");
        }
    }

    #[test]
    fn non_dax_result_is_torn_down() {
        let r = scratch_ctx("nodax", "0\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let e = up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap_err();
        assert!(matches!(e, AssembleError::NotDax { .. }), "{e}");
        assert!(e.to_string().contains("(dm-0)"), "{e}");
        assert!(ctl.transport().devs.is_empty(), "nothing left behind");
        assert!(!nodes::mapper_path(&r.dev, "fast0").exists());
    }

    #[test]
    fn foreign_devices_are_left_alone() {
        let r = scratch_ctx("foreign", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        ctl.create("fast0", "LVM-abc").unwrap();
        assert!(matches!(
            up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()),
            Err(AssembleError::Foreign { .. })
        ));
        assert!(matches!(
            down_dm(&mut ctl, &r, "fast0", Deadline::after(Duration::ZERO)),
            Err(AssembleError::Foreign { .. })
        ));
        assert!(ctl.info("fast0").unwrap().is_some());
        assert!(ours(&mut ctl).unwrap().is_empty());
    }

    #[test]
    fn stale_unresumed_device_is_rebuilt() {
        let r = scratch_ctx("stale", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        ctl.create("fast0", "PMEMTAB-fast0").unwrap();
        assert!(matches!(
            up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap(),
            Up::Created { .. }
        ));
        assert!(ctl.info("fast0").unwrap().unwrap().active);
    }

    #[test]
    fn down_busy_names_the_mount_and_keeps_the_device() {
        let r = scratch_ctx("busy", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap();
        ctl.transport().devs.get_mut("fast0").unwrap().open_count = 1;
        let start = std::time::Instant::now();
        let e = down_dm(
            &mut ctl,
            &r,
            "fast0",
            Deadline::after(Duration::from_millis(200)),
        )
        .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert!(
            e.to_string().contains("busy (mounted on /mnt/fast)")
                && e.to_string().contains("down fast0"),
            "{e}"
        );
        assert!(ctl.info("fast0").unwrap().is_some());
        assert!(nodes::mapper_path(&r.dev, "fast0").exists());
        // Released: removed, node gone; again: not active.
        ctl.transport().devs.get_mut("fast0").unwrap().open_count = 0;
        assert_eq!(
            down_dm(&mut ctl, &r, "fast0", soon()).unwrap(),
            Down::Removed
        );
        assert!(!nodes::mapper_path(&r.dev, "fast0").exists());
        assert_eq!(
            down_dm(&mut ctl, &r, "fast0", soon()).unwrap(),
            Down::NotActive
        );
    }

    #[test]
    fn undo_removes_only_what_this_run_created() {
        let r = scratch_ctx("undo", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let plan = plan_for("fast0", 2 << 20);
        let created = up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        assert!(matches!(created, Up::Created { .. }));
        // Active before the next run: a failure then leaves it.
        let again = up_dm(&mut ctl, &r, &plan, soon()).unwrap();
        assert!(matches!(again, Up::Unchanged { .. }));
        let kept = undo(&mut ctl, &r, "fast0", &again, soon());
        assert!(
            kept.contains("active before this run and was left in place"),
            "{kept}"
        );
        assert!(ctl.info("fast0").unwrap().is_some_and(|i| i.active));
        assert!(nodes::mapper_path(&r.dev, "fast0").exists());
        // Created by this run: removed, node and all.
        let gone = undo(&mut ctl, &r, "fast0", &created, soon());
        assert!(gone.contains("created was removed again"), "{gone}");
        assert!(ctl.transport().devs.is_empty(), "nothing left behind");
        assert!(!nodes::mapper_path(&r.dev, "fast0").exists());
    }

    #[test]
    fn undo_that_cannot_remove_says_so() {
        let r = scratch_ctx("undo-busy", "1\n");
        let mut ctl = Control::new(FakeKernel::default()).unwrap();
        let created = up_dm(&mut ctl, &r, &plan_for("fast0", 2 << 20), soon()).unwrap();
        ctl.transport().devs.get_mut("fast0").unwrap().open_count = 1;
        let msg = undo(
            &mut ctl,
            &r,
            "fast0",
            &created,
            Deadline::after(Duration::from_millis(100)),
        );
        assert!(
            msg.contains("removing the device this run created failed too")
                && msg.contains("down fast0"),
            "{msg}"
        );
    }
}

/// Two processes on one entry, at ioctl granularity: each thread has its own control handle
/// on one shared fake kernel, as two pmem-assemble processes have on the real one.
#[cfg(test)]
mod races {
    use super::tests::{plan_for, scratch_ctx, soon};
    use super::*;
    use crate::dm::control::fake::FakeKernel;
    use crate::dm::ioctl::Cmd;
    use crate::lock;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[derive(Clone)]
    struct Shared(Arc<Mutex<FakeKernel>>);

    impl Transport for Shared {
        fn call(&mut self, cmd: Cmd, buf: &mut [u8]) -> Result<(), Errno> {
            let r = self.0.lock().unwrap().call(cmd, buf);
            // Let the other thread in between two ioctls.
            std::thread::yield_now();
            r
        }
    }

    fn up_locked(k: Shared, r: Ctx, plan: Plan) -> Result<Up, String> {
        let _held = lock::acquire(
            &r.run,
            &plan.name,
            "up",
            Deadline::after(Duration::from_secs(10)),
        )
        .map_err(|e| e.to_string())?;
        let mut ctl = Control::new(k).map_err(|e| e.to_string())?;
        up_dm(&mut ctl, &r, &plan, soon()).map_err(|e| e.to_string())
    }

    fn down_locked(k: Shared, r: Ctx, name: &str) -> Result<Down, String> {
        let _held = lock::acquire(
            &r.run,
            name,
            "down",
            Deadline::after(Duration::from_secs(10)),
        )
        .map_err(|e| e.to_string())?;
        let mut ctl = Control::new(k).map_err(|e| e.to_string())?;
        down_dm(&mut ctl, &r, name, Deadline::after(Duration::ZERO)).map_err(|e| e.to_string())
    }

    #[test]
    fn two_ups_at_once_both_succeed_and_one_builds() {
        for round in 0..20 {
            let r = scratch_ctx(&format!("race-up-{round}"), "1\n");
            let k = Shared(Arc::new(Mutex::new(FakeKernel::default())));
            let plan = plan_for("s", 2 << 20);
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let (k, r, plan) = (k.clone(), r.clone(), plan.clone());
                    std::thread::spawn(move || up_locked(k, r, plan))
                })
                .collect();
            let ups: Vec<Up> = threads
                .into_iter()
                .map(|t| {
                    t.join()
                        .unwrap()
                        .unwrap_or_else(|e| panic!("round {round}: {e}"))
                })
                .collect();
            let created = ups
                .iter()
                .filter(|u| matches!(u, Up::Created { .. }))
                .count();
            assert_eq!(created, 1, "round {round}: {ups:?}");
            let kernel = k.0.lock().unwrap();
            assert_eq!(kernel.devs.len(), 1);
            assert!(kernel.devs["s"].live.is_some());
        }
    }

    #[test]
    fn up_racing_down_ends_in_a_clean_state() {
        for round in 0..20 {
            let r = scratch_ctx(&format!("race-down-{round}"), "1\n");
            let k = Shared(Arc::new(Mutex::new(FakeKernel::default())));
            let plan = plan_for("s", 2 << 20);
            up_locked(k.clone(), r.clone(), plan.clone()).unwrap();
            let (k1, r1) = (k.clone(), r.clone());
            let down = std::thread::spawn(move || down_locked(k1, r1, "s"));
            let up = std::thread::spawn({
                let (k, r, plan) = (k.clone(), r.clone(), plan.clone());
                move || up_locked(k, r, plan)
            });
            let (down, up) = (down.join().unwrap(), up.join().unwrap());
            assert!(down.is_ok() && up.is_ok(), "round {round}: {down:?} {up:?}");
            // Either down came last (nothing left) or up did (built, with the planned table).
            let kernel = k.0.lock().unwrap();
            match kernel.devs.get("s") {
                None => assert!(matches!(up, Ok(Up::Unchanged { .. }))),
                Some(d) => {
                    assert!(d.live.is_some() && d.inactive.is_none(), "round {round}");
                    assert!(matches!(up, Ok(Up::Created { .. })));
                }
            }
        }
    }
}
