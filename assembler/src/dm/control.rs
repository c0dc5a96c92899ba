//! Device-mapper operations over `/dev/mapper/control`: version check, create, load, resume,
//! remove, status, live table, list. `build` creates a device all-or-nothing: if any step
//! fails, what was created is removed again.
//!
//! The ioctl itself sits behind [`Transport`], so the sequencing, rollback and buffer growth
//! are unit-tested against a simulated kernel; the real one is [`ControlFile`].

use super::ioctl::*;
use nix::errno::Errno;
use pmemtab::devnum::DevNum;
use pmemtab::dmtable::Target;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

/// Issues one dm ioctl on a message buffer.
pub trait Transport {
    fn call(&mut self, cmd: Cmd, buf: &mut [u8]) -> Result<(), Errno>;
}

/// The real control node.
pub struct ControlFile(File);

impl ControlFile {
    pub fn open(path: &Path) -> std::io::Result<ControlFile> {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .map(ControlFile)
    }
}

impl Transport for ControlFile {
    fn call(&mut self, cmd: Cmd, buf: &mut [u8]) -> Result<(), Errno> {
        if buf.len() < HEADER_SIZE {
            return Err(Errno::EINVAL);
        }
        // SAFETY: buf is a valid, writable buffer of at least the header size, and the header's
        // data_size (set by Msg) never exceeds buf.len(), so the kernel stays inside it.
        let rc = unsafe { nix::libc::ioctl(self.0.as_raw_fd(), cmd.request(), buf.as_mut_ptr()) };
        Errno::result(rc).map(drop)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DmError {
    #[error("device-mapper {op} of '{name}' failed: {errno} ({})", errno.desc())]
    Ioctl {
        op: &'static str,
        name: String,
        errno: Errno,
    },
    #[error("the kernel's device-mapper interface is version {0}.{1}.{2}, this tool speaks 4.x")]
    Version(u32, u32, u32),
    #[error(
        "'{0}' cannot be a device-mapper name (1-127 bytes, no '/', not '.', '..' or 'control')"
    )]
    BadName(String),
    #[error("dm uuid '{0}' is longer than device-mapper's 128 bytes")]
    BadUuid(String),
    #[error("device-mapper returned malformed data for {op} of '{name}'")]
    Decode { op: &'static str, name: String },
}

impl DmError {
    pub fn errno(&self) -> Option<Errno> {
        match self {
            DmError::Ioctl { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// What DEV_STATUS tells about a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub name: String,
    pub uuid: String,
    pub devnum: DevNum,
    pub open_count: i32,
    pub target_count: u32,
    /// A live table is loaded.
    pub active: bool,
    /// A table is loaded but not yet resumed.
    pub inactive: bool,
    pub suspended: bool,
    pub read_only: bool,
}

/// First data-area size for queries; doubled on DM_BUFFER_FULL up to `MAX_DATA`.
const FIRST_DATA: usize = 16 << 10;
const MAX_DATA: usize = 16 << 20;

pub struct Control<T: Transport> {
    t: T,
}

/// Checks a name as the kernel would (dm-ioctl.c `invalid_str`/`check_name`).
pub fn check_name(name: &str) -> Result<(), DmError> {
    let bad = name.is_empty()
        || name.len() >= NAME_LEN
        || name.contains('/')
        || name.contains('\0')
        || matches!(name, "." | ".." | "control");
    if bad {
        Err(DmError::BadName(name.to_string()))
    } else {
        Ok(())
    }
}

impl<T: Transport> Control<T> {
    /// Wraps a transport after checking the kernel speaks interface version 4.
    pub fn new(mut t: T) -> Result<Control<T>, DmError> {
        let mut msg = Msg::new(0);
        t.call(Cmd::Version, msg.bytes_mut())
            .map_err(|errno| DmError::Ioctl {
                op: "VERSION",
                name: String::new(),
                errno,
            })?;
        let v = msg.header().version;
        if v[0] != DM_VERSION[0] {
            return Err(DmError::Version(v[0], v[1], v[2]));
        }
        Ok(Control { t })
    }

    #[cfg(test)]
    pub fn transport(&mut self) -> &mut T {
        &mut self.t
    }

    fn call(&mut self, cmd: Cmd, name: &str, msg: &mut Msg) -> Result<(), DmError> {
        self.t
            .call(cmd, msg.bytes_mut())
            .map_err(|errno| DmError::Ioctl {
                op: cmd.name(),
                name: name.to_string(),
                errno,
            })
    }

    fn named(name: &str, data: &[u8]) -> Result<Msg, DmError> {
        check_name(name)?;
        Msg::named(name, data).ok_or_else(|| DmError::BadName(name.to_string()))
    }

    /// Runs a read-type command, growing the buffer while the kernel says it was too small.
    fn query(&mut self, cmd: Cmd, name: &str, flags: u32) -> Result<Msg, DmError> {
        let mut size = FIRST_DATA;
        loop {
            let mut msg = if name.is_empty() {
                Msg::new(size)
            } else {
                Self::named(name, &vec![0; size])?
            };
            msg.set_flags(flags);
            self.call(cmd, name, &mut msg)?;
            if msg.header().flags & DM_BUFFER_FULL_FLAG == 0 {
                return Ok(msg);
            }
            if size >= MAX_DATA {
                return Err(DmError::Decode {
                    op: cmd.name(),
                    name: name.to_string(),
                });
            }
            size *= 2;
        }
    }

    /// DEV_STATUS; `None` when no device has this name.
    pub fn info(&mut self, name: &str) -> Result<Option<Info>, DmError> {
        let mut msg = Self::named(name, &[])?;
        match self.call(Cmd::DevStatus, name, &mut msg) {
            Err(DmError::Ioctl {
                errno: Errno::ENXIO,
                ..
            }) => return Ok(None),
            r => r?,
        }
        let h = msg.header();
        Ok(Some(Info {
            name: get_cstr(&h.name),
            uuid: get_cstr(&h.uuid),
            devnum: decode_dev(h.dev),
            open_count: h.open_count,
            target_count: h.target_count,
            active: h.flags & DM_ACTIVE_PRESENT_FLAG != 0,
            inactive: h.flags & DM_INACTIVE_PRESENT_FLAG != 0,
            suspended: h.flags & DM_SUSPEND_FLAG != 0,
            read_only: h.flags & DM_READONLY_FLAG != 0,
        }))
    }

    /// The live table (TABLE_STATUS with DM_STATUS_TABLE_FLAG), typed.
    pub fn table(&mut self, name: &str) -> Result<Vec<Target>, DmError> {
        let msg = self.query(Cmd::TableStatus, name, DM_STATUS_TABLE_FLAG)?;
        let count = msg.header().target_count;
        decode_specs(msg.out_data(), count).ok_or_else(|| DmError::Decode {
            op: "TABLE_STATUS",
            name: name.to_string(),
        })
    }

    /// Every dm device: (name, devnum).
    pub fn list(&mut self) -> Result<Vec<(String, DevNum)>, DmError> {
        let msg = self.query(Cmd::ListDevices, "", 0)?;
        decode_names(msg.out_data()).ok_or_else(|| DmError::Decode {
            op: "LIST_DEVICES",
            name: String::new(),
        })
    }

    /// DEV_CREATE with a name and a dm uuid; returns the new device number.
    pub fn create(&mut self, name: &str, uuid: &str) -> Result<DevNum, DmError> {
        let mut msg = Self::named(name, &[])?;
        if !msg.set_uuid(uuid) {
            return Err(DmError::BadUuid(uuid.to_string()));
        }
        self.call(Cmd::DevCreate, name, &mut msg)?;
        Ok(decode_dev(msg.header().dev))
    }

    /// TABLE_LOAD into the inactive slot.
    pub fn load(&mut self, name: &str, targets: &[Target]) -> Result<(), DmError> {
        let mut msg = Self::named(name, &encode_targets(targets))?;
        msg.set_target_count(targets.len() as u32);
        self.call(Cmd::TableLoad, name, &mut msg)
    }

    /// DEV_SUSPEND without the suspend flag: makes the loaded table live. No udev cookie
    /// (event_nr 0): nothing waits on a udev semaphore. True when the kernel sent a uevent.
    pub fn resume(&mut self, name: &str) -> Result<bool, DmError> {
        let mut msg = Self::named(name, &[])?;
        self.call(Cmd::DevSuspend, name, &mut msg)?;
        Ok(msg.header().flags & DM_UEVENT_GENERATED_FLAG != 0)
    }

    pub fn remove(&mut self, name: &str) -> Result<(), DmError> {
        let mut msg = Self::named(name, &[])?;
        self.call(Cmd::DevRemove, name, &mut msg)
    }

    /// Create, load, resume, as `dmsetup create` does. On failure after creation the device is
    /// removed again; a failed removal is reported beside the original error.
    pub fn build(
        &mut self,
        name: &str,
        uuid: &str,
        targets: &[Target],
    ) -> Result<DevNum, BuildError> {
        let devnum = self.create(name, uuid).map_err(|e| BuildError {
            cause: e,
            leftover: None,
        })?;
        let rest = self.load(name, targets).and_then(|()| self.resume(name));
        match rest {
            Ok(_) => Ok(devnum),
            Err(cause) => {
                let leftover = self.remove(name).err();
                Err(BuildError { cause, leftover })
            }
        }
    }
}

/// A failed `build`: why, and whether cleaning up failed too (then a device is left over).
#[derive(Debug)]
pub struct BuildError {
    pub cause: DmError,
    pub leftover: Option<DmError>,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.cause)?;
        if let Some(e) = &self.leftover {
            write!(f, "; removing the half-built device also failed ({e}): remove it with `dmsetup remove`")?;
        }
        Ok(())
    }
}

impl std::error::Error for BuildError {}

#[cfg(test)]
pub mod fake {
    //! A simulated kernel: enough of dm-ioctl.c to exercise sequencing, rollback and buffer
    //! growth. Answers are written the way the kernel writes them (see dm-ioctl.c).
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug, Default)]
    pub struct Dev {
        pub uuid: String,
        pub minor: u32,
        pub live: Option<Vec<(u64, u64, String, String)>>,
        pub inactive: Option<Vec<(u64, u64, String, String)>>,
        pub open_count: i32,
        /// `dmsetup suspend` was run on it.
        pub suspended: bool,
    }

    #[derive(Default)]
    pub struct FakeKernel {
        pub devs: BTreeMap<String, Dev>,
        pub calls: Vec<Cmd>,
        pub next_minor: u32,
        /// Fail this command with this errno.
        pub fail: Option<(Cmd, Errno)>,
        pub version: Option<[u32; 3]>,
    }

    fn read_h(buf: &[u8]) -> DmIoctl {
        // SAFETY: callers pass buffers of at least HEADER_SIZE bytes.
        unsafe { std::ptr::read_unaligned(buf.as_ptr().cast::<DmIoctl>()) }
    }
    fn write_h(buf: &mut [u8], h: &DmIoctl) {
        // SAFETY: as above.
        unsafe { std::ptr::write_unaligned(buf.as_mut_ptr().cast::<DmIoctl>(), *h) }
    }

    impl Transport for FakeKernel {
        fn call(&mut self, cmd: Cmd, buf: &mut [u8]) -> Result<(), Errno> {
            self.calls.push(cmd);
            if let Some((c, e)) = self.fail {
                if c == cmd {
                    return Err(e);
                }
            }
            let mut h = read_h(buf);
            assert_eq!(
                h.data_size as usize,
                buf.len(),
                "data_size must be the buffer size"
            );
            assert_eq!(h.data_start, 312);
            let name = get_cstr(&h.name);
            let start = h.data_start as usize;
            match cmd {
                Cmd::Version => {
                    h.version = self.version.unwrap_or([4, 47, 0]);
                }
                Cmd::DevCreate => {
                    if self.devs.contains_key(&name) {
                        return Err(Errno::EBUSY);
                    }
                    let minor = self.next_minor;
                    self.next_minor += 1;
                    self.devs.insert(
                        name,
                        Dev {
                            uuid: get_cstr(&h.uuid),
                            minor,
                            ..Dev::default()
                        },
                    );
                    h.dev = encode_dev(DevNum { major: 253, minor });
                }
                Cmd::TableLoad => {
                    let dev = self.devs.get_mut(&name).ok_or(Errno::ENXIO)?;
                    // Input `next` is relative to the current spec; the first is at data_start.
                    let mut at = start;
                    let mut table = Vec::new();
                    for _ in 0..h.target_count {
                        let spec = unsafe {
                            std::ptr::read_unaligned(buf[at..].as_ptr().cast::<DmTargetSpec>())
                        };
                        let p = &buf[at + 40..];
                        let end = p.iter().position(|&b| b == 0).ok_or(Errno::EINVAL)?;
                        table.push((
                            spec.sector_start,
                            spec.length,
                            get_cstr(&spec.target_type),
                            String::from_utf8_lossy(&p[..end]).into_owned(),
                        ));
                        if spec.next % 8 != 0 {
                            return Err(Errno::EINVAL);
                        }
                        at += spec.next as usize;
                    }
                    dev.inactive = Some(table);
                }
                Cmd::DevSuspend => {
                    let dev = self.devs.get_mut(&name).ok_or(Errno::ENXIO)?;
                    assert_eq!(h.flags & DM_SUSPEND_FLAG, 0, "only resume is used");
                    h.flags = 0;
                    dev.suspended = false;
                    if let Some(t) = dev.inactive.take() {
                        dev.live = Some(t);
                        h.flags |= DM_UEVENT_GENERATED_FLAG;
                    }
                }
                Cmd::DevRemove => {
                    let dev = self.devs.get(&name).ok_or(Errno::ENXIO)?;
                    if dev.open_count > 0 {
                        return Err(Errno::EBUSY);
                    }
                    self.devs.remove(&name);
                }
                Cmd::DevStatus => {
                    let dev = self.devs.get(&name).ok_or(Errno::ENXIO)?;
                    h = status_header(h, &name, dev);
                }
                Cmd::TableStatus => {
                    let dev = self.devs.get(&name).ok_or(Errno::ENXIO)?;
                    assert_ne!(h.flags & DM_STATUS_TABLE_FLAG, 0);
                    h = status_header(h, &name, dev);
                    let table = dev.live.clone().unwrap_or_default();
                    let mut out = Vec::new();
                    for (s, l, ty, p) in &table {
                        let at = out.len();
                        out.resize(at + 40, 0);
                        out[at..at + 8].copy_from_slice(&s.to_ne_bytes());
                        out[at + 8..at + 16].copy_from_slice(&l.to_ne_bytes());
                        out[at + 24..at + 24 + ty.len()].copy_from_slice(ty.as_bytes());
                        out.extend_from_slice(p.as_bytes());
                        out.push(0);
                        out.resize((out.len() + 7) & !7, 0);
                        let next = out.len() as u32;
                        out[at + 20..at + 24].copy_from_slice(&next.to_ne_bytes());
                    }
                    if out.len() > buf.len() - start {
                        h.flags |= DM_BUFFER_FULL_FLAG;
                    } else {
                        buf[start..start + out.len()].copy_from_slice(&out);
                        h.data_size = (start + out.len()) as u32;
                        h.target_count = table.len() as u32;
                    }
                }
                Cmd::ListDevices => {
                    let mut out = Vec::new();
                    let n = self.devs.len();
                    for (i, (name, dev)) in self.devs.iter().enumerate() {
                        let at = out.len();
                        out.resize(at + 12, 0);
                        out[at..at + 8].copy_from_slice(
                            &encode_dev(DevNum {
                                major: 253,
                                minor: dev.minor,
                            })
                            .to_ne_bytes(),
                        );
                        out.extend_from_slice(name.as_bytes());
                        out.push(0);
                        out.resize(((out.len() + 7) & !7) + 8, 0);
                        let next = if i + 1 < n {
                            (out.len() - at) as u32
                        } else {
                            0
                        };
                        out[at + 8..at + 12].copy_from_slice(&next.to_ne_bytes());
                    }
                    if out.is_empty() {
                        out = vec![0; 16];
                    }
                    if out.len() > buf.len() - start {
                        h.flags |= DM_BUFFER_FULL_FLAG;
                    } else {
                        buf[start..start + out.len()].copy_from_slice(&out);
                        h.data_size = (start + out.len()) as u32;
                    }
                }
            }
            write_h(buf, &h);
            Ok(())
        }
    }

    fn status_header(mut h: DmIoctl, name: &str, dev: &Dev) -> DmIoctl {
        h.dev = encode_dev(DevNum {
            major: 253,
            minor: dev.minor,
        });
        h.open_count = dev.open_count;
        h.flags &= DM_STATUS_TABLE_FLAG;
        if dev.live.is_some() {
            h.flags |= DM_ACTIVE_PRESENT_FLAG;
        }
        if dev.inactive.is_some() {
            h.flags |= DM_INACTIVE_PRESENT_FLAG;
        }
        if dev.suspended {
            h.flags |= DM_SUSPEND_FLAG;
        }
        h.target_count = dev.live.as_ref().map_or(0, |t| t.len() as u32);
        h.name = [0; NAME_LEN];
        h.name[..name.len()].copy_from_slice(name.as_bytes());
        h.uuid = [0; UUID_LEN];
        h.uuid[..dev.uuid.len()].copy_from_slice(dev.uuid.as_bytes());
        h
    }
}

#[cfg(test)]
mod tests {
    use super::fake::FakeKernel;
    use super::*;
    use pmemtab::dmtable::TargetKind;
    use pmemtab::size::Sectors;

    fn targets() -> Vec<Target> {
        vec![crate::dm::ioctl::sample_striped()]
    }

    #[test]
    fn build_then_read_back() {
        let mut c = Control::new(FakeKernel::default()).unwrap();
        let dev = c.build("fast0", "PMEMTAB-fast0", &targets()).unwrap();
        assert_eq!(
            dev,
            DevNum {
                major: 253,
                minor: 0
            }
        );
        assert_eq!(
            c.transport().calls,
            vec![
                Cmd::Version,
                Cmd::DevCreate,
                Cmd::TableLoad,
                Cmd::DevSuspend
            ]
        );
        assert_eq!(c.table("fast0").unwrap(), targets());
        let info = c.info("fast0").unwrap().unwrap();
        assert_eq!(info.uuid, "PMEMTAB-fast0");
        assert!(info.active && !info.inactive);
        assert_eq!(c.list().unwrap(), vec![("fast0".to_string(), dev)]);
        assert_eq!(c.info("nope").unwrap(), None);
    }

    #[test]
    fn failed_load_removes_the_device() {
        let k = FakeKernel {
            fail: Some((Cmd::TableLoad, Errno::EINVAL)),
            ..FakeKernel::default()
        };
        let mut c = Control::new(k).unwrap();
        let e = c.build("fast0", "PMEMTAB-fast0", &targets()).unwrap_err();
        assert_eq!(e.cause.errno(), Some(Errno::EINVAL));
        assert!(e.leftover.is_none());
        assert!(c.transport().devs.is_empty());
        assert_eq!(c.transport().calls.last(), Some(&Cmd::DevRemove));
        assert!(
            e.to_string()
                .contains("TABLE_LOAD of 'fast0' failed: EINVAL"),
            "{e}"
        );
    }

    #[test]
    fn failed_resume_removes_the_device() {
        let k = FakeKernel {
            fail: Some((Cmd::DevSuspend, Errno::ENOMEM)),
            ..FakeKernel::default()
        };
        let mut c = Control::new(k).unwrap();
        assert!(c.build("fast0", "PMEMTAB-fast0", &targets()).is_err());
        assert!(c.transport().devs.is_empty());
    }

    #[test]
    fn buffer_full_grows_the_buffer() {
        let mut c = Control::new(FakeKernel::default()).unwrap();
        // A table whose text is longer than the first buffer forces DM_BUFFER_FULL.
        let many: Vec<Target> = (0..2000u64)
            .map(|i| Target {
                start: Sectors(i * 4096),
                length: Sectors(4096),
                kind: TargetKind::Linear {
                    dev: DevNum {
                        major: 259,
                        minor: 3,
                    },
                    offset: Sectors(i * 4096),
                },
            })
            .collect();
        c.build("big", "PMEMTAB-big", &many).unwrap();
        c.transport().calls.clear();
        let live = c.table("big").unwrap();
        assert_eq!(live.len(), 2000);
        assert_eq!(live, many);
        let status_calls = c
            .transport()
            .calls
            .iter()
            .filter(|&&c| c == Cmd::TableStatus)
            .count();
        assert!(
            status_calls > 1,
            "expected a retry with a bigger buffer, got {status_calls} call(s)"
        );
    }

    #[test]
    fn version_and_names_checked() {
        let k = FakeKernel {
            version: Some([5, 0, 0]),
            ..FakeKernel::default()
        };
        assert!(matches!(Control::new(k), Err(DmError::Version(5, 0, 0))));
        let mut c = Control::new(FakeKernel::default()).unwrap();
        for bad in ["", "a/b", ".", "..", "control"] {
            assert!(
                matches!(c.create(bad, "PMEMTAB-x"), Err(DmError::BadName(_))),
                "{bad:?}"
            );
        }
        assert!(matches!(
            c.create("ok", &"u".repeat(129)),
            Err(DmError::BadUuid(_))
        ));
        assert!(c.transport().devs.is_empty());
    }

    #[test]
    fn busy_remove_is_an_error_and_keeps_the_device() {
        let mut c = Control::new(FakeKernel::default()).unwrap();
        c.build("fast0", "PMEMTAB-fast0", &targets()).unwrap();
        c.transport().devs.get_mut("fast0").unwrap().open_count = 1;
        assert_eq!(c.remove("fast0").unwrap_err().errno(), Some(Errno::EBUSY));
        assert!(c.info("fast0").unwrap().is_some());
    }
}
