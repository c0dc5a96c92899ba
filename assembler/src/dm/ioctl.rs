//! The device-mapper ioctl ABI (include/uapi/linux/dm-ioctl.h), encoded by hand so that no C
//! library is needed: the header and target structs, request numbers, and the encoding of the
//! data area for TABLE_LOAD and its decoding for TABLE_STATUS and LIST_DEVICES.
//!
//! A message is one byte buffer: the 312-byte `dm_ioctl` header, then the data area. Structs are
//! copied in and out with unaligned reads/writes, so the buffer needs no particular alignment.

use pmemtab::devnum::DevNum;
use pmemtab::dmtable::Target;
use std::mem::size_of;

/// The ioctl "type" byte of device-mapper.
pub const DM_IOCTL_TYPE: u8 = 0xfd;
/// Interface version we speak; the kernel answers with its own (major must match).
pub const DM_VERSION: [u32; 3] = [4, 0, 0];
pub const HEADER_SIZE: usize = 312;
pub const SPEC_SIZE: usize = 40;
pub const NAME_LEN: usize = 128;
pub const UUID_LEN: usize = 129;
/// Header size of one `dm_name_list` entry (dev u64, next u32); the name follows.
const NAME_LIST_HEADER: usize = 12;

pub const DM_READONLY_FLAG: u32 = 1 << 0;
pub const DM_SUSPEND_FLAG: u32 = 1 << 1;
pub const DM_STATUS_TABLE_FLAG: u32 = 1 << 4;
pub const DM_ACTIVE_PRESENT_FLAG: u32 = 1 << 5;
pub const DM_INACTIVE_PRESENT_FLAG: u32 = 1 << 6;
pub const DM_BUFFER_FULL_FLAG: u32 = 1 << 8;
pub const DM_UEVENT_GENERATED_FLAG: u32 = 1 << 13;

/// `struct dm_ioctl`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DmIoctl {
    pub version: [u32; 3],
    /// Total size of the buffer, header included.
    pub data_size: u32,
    /// Offset of the data area from the start of the header.
    pub data_start: u32,
    pub target_count: u32,
    pub open_count: i32,
    pub flags: u32,
    /// In: udev cookie (0 = none). Out: the device's event counter.
    pub event_nr: u32,
    pub padding: u32,
    /// Encoded like the kernel's `huge_encode_dev`.
    pub dev: u64,
    pub name: [u8; NAME_LEN],
    pub uuid: [u8; UUID_LEN],
    pub data: [u8; 7],
}

/// `struct dm_target_spec`; the NUL-terminated parameter string follows it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DmTargetSpec {
    pub sector_start: u64,
    pub length: u64,
    pub status: i32,
    /// TABLE_LOAD: byte distance from this spec to the next. TABLE_STATUS output: offset of
    /// the next spec from the start of the data area. (The kernel really does use both.)
    pub next: u32,
    pub target_type: [u8; 16],
}

const _: () = assert!(size_of::<DmIoctl>() == HEADER_SIZE);
const _: () = assert!(size_of::<DmTargetSpec>() == SPEC_SIZE);

/// The commands, numbered as in dm-ioctl.h.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Cmd {
    Version = 0,
    ListDevices = 2,
    DevCreate = 3,
    DevRemove = 4,
    DevSuspend = 6,
    DevStatus = 7,
    TableLoad = 9,
    TableStatus = 12,
}

impl Cmd {
    /// `_IOWR(0xfd, nr, struct dm_ioctl)`: the size is always the header's, whatever the
    /// buffer's real size (the kernel reads `data_size` for that).
    pub fn request(self) -> nix::sys::ioctl::ioctl_num_type {
        nix::request_code_readwrite!(DM_IOCTL_TYPE, self as u8, HEADER_SIZE)
    }

    pub fn name(self) -> &'static str {
        match self {
            Cmd::Version => "VERSION",
            Cmd::ListDevices => "LIST_DEVICES",
            Cmd::DevCreate => "DEV_CREATE",
            Cmd::DevRemove => "DEV_REMOVE",
            Cmd::DevSuspend => "DEV_SUSPEND",
            Cmd::DevStatus => "DEV_STATUS",
            Cmd::TableLoad => "TABLE_LOAD",
            Cmd::TableStatus => "TABLE_STATUS",
        }
    }
}

/// The kernel's `huge_encode_dev`, as dm reports `dev` (we only decode; the simulated kernel
/// in the tests encodes).
#[cfg(test)]
pub fn encode_dev(d: DevNum) -> u64 {
    let (major, minor) = (u64::from(d.major), u64::from(d.minor));
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// Inverse of the kernel's `huge_encode_dev` (`encode_dev` in the tests).
pub fn decode_dev(dev: u64) -> DevNum {
    DevNum {
        major: ((dev >> 8) & 0xfff) as u32,
        minor: ((dev & 0xff) | ((dev >> 12) & 0xfff00)) as u32,
    }
}

/// Copies `s` into a fixed field, NUL-terminated; false when it does not fit.
fn put_cstr(field: &mut [u8], s: &str) -> bool {
    if s.len() >= field.len() || s.as_bytes().contains(&0) {
        return false;
    }
    field.fill(0);
    field[..s.len()].copy_from_slice(s.as_bytes());
    true
}

/// The text of a NUL-terminated field (lossy: the kernel allows any bytes but NUL and '/').
pub fn get_cstr(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// One ioctl buffer: header plus data area.
#[derive(Clone, Debug)]
pub struct Msg {
    buf: Vec<u8>,
}

impl Msg {
    /// A zeroed message with `data_len` bytes of data area, version and sizes filled in.
    pub fn new(data_len: usize) -> Msg {
        let mut msg = Msg {
            buf: vec![0u8; HEADER_SIZE + data_len],
        };
        let mut h = msg.header();
        h.version = DM_VERSION;
        h.data_size = msg.buf.len() as u32;
        h.data_start = HEADER_SIZE as u32;
        msg.set_header(&h);
        msg
    }

    /// A message naming a device, with `data` as its data area.
    pub fn named(name: &str, data: &[u8]) -> Option<Msg> {
        let mut msg = Msg::new(data.len());
        let mut h = msg.header();
        if !put_cstr(&mut h.name, name) {
            return None;
        }
        msg.set_header(&h);
        msg.buf[HEADER_SIZE..].copy_from_slice(data);
        Some(msg)
    }

    pub fn header(&self) -> DmIoctl {
        // SAFETY: buf holds at least HEADER_SIZE bytes (constructors guarantee it) and DmIoctl
        // is plain old data for which every bit pattern is valid.
        unsafe { std::ptr::read_unaligned(self.buf.as_ptr().cast::<DmIoctl>()) }
    }

    pub fn set_header(&mut self, h: &DmIoctl) {
        // SAFETY: as in `header`; the write stays within the first HEADER_SIZE bytes.
        unsafe { std::ptr::write_unaligned(self.buf.as_mut_ptr().cast::<DmIoctl>(), *h) }
    }

    pub fn set_uuid(&mut self, uuid: &str) -> bool {
        let mut h = self.header();
        let ok = put_cstr(&mut h.uuid, uuid);
        self.set_header(&h);
        ok
    }

    pub fn set_flags(&mut self, flags: u32) {
        let mut h = self.header();
        h.flags = flags;
        self.set_header(&h);
    }

    pub fn set_target_count(&mut self, n: u32) {
        let mut h = self.header();
        h.target_count = n;
        self.set_header(&h);
    }

    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf
    }

    /// The data the kernel returned: from `data_start` to `data_size`, clamped to the buffer.
    pub fn out_data(&self) -> &[u8] {
        let h = self.header();
        let start = (h.data_start as usize).min(self.buf.len());
        let end = (h.data_size as usize).clamp(start, self.buf.len());
        &self.buf[start..end]
    }
}

fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// The TABLE_LOAD data area: one spec per target, each followed by its parameter string and
/// padded to 8 bytes; `next` is the distance to the following spec.
pub fn encode_targets(targets: &[Target]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in targets {
        let params = t.params();
        let size = align8(SPEC_SIZE + params.len() + 1);
        let mut spec = DmTargetSpec {
            sector_start: t.start.0,
            length: t.length.0,
            status: 0,
            next: size as u32,
            target_type: [0; 16],
        };
        // Target type names are short constants ("linear", "striped").
        put_cstr(&mut spec.target_type, t.target_type());
        let at = out.len();
        out.resize(at + size, 0);
        // SAFETY: `out` has SPEC_SIZE bytes at `at`; DmTargetSpec is plain old data.
        unsafe { std::ptr::write_unaligned(out[at..].as_mut_ptr().cast::<DmTargetSpec>(), spec) };
        out[at + SPEC_SIZE..at + SPEC_SIZE + params.len()].copy_from_slice(params.as_bytes());
    }
    out
}

/// Decodes `count` specs from a TABLE_STATUS data area, each read as a typed target. `None`
/// on malformed data.
pub fn decode_specs(data: &[u8], count: u32) -> Option<Vec<Target>> {
    let mut out = Vec::with_capacity(count as usize);
    let mut at = 0usize;
    for i in 0..count {
        if at.checked_add(SPEC_SIZE)? > data.len() {
            return None;
        }
        // SAFETY: bounds checked above; DmTargetSpec is plain old data.
        let spec = unsafe { std::ptr::read_unaligned(data[at..].as_ptr().cast::<DmTargetSpec>()) };
        let rest = &data[at + SPEC_SIZE..];
        let end = rest.iter().position(|&b| b == 0)?;
        out.push(Target::from_parts(
            spec.sector_start,
            spec.length,
            &get_cstr(&spec.target_type),
            &String::from_utf8_lossy(&rest[..end]),
        ));
        let next = spec.next as usize;
        if i + 1 < count {
            // Output `next` is an offset from the data area's start and must move forward.
            if next <= at {
                return None;
            }
            at = next;
        }
    }
    Some(out)
}

/// Decodes a LIST_DEVICES data area into (name, devnum). An empty list is one entry with dev 0.
pub fn decode_names(data: &[u8]) -> Option<Vec<(String, DevNum)>> {
    let mut out = Vec::new();
    let mut at = 0usize;
    loop {
        if at.checked_add(NAME_LIST_HEADER)? > data.len() {
            return if out.is_empty() && data.len() < 8 {
                Some(out)
            } else {
                None
            };
        }
        let dev = u64::from_ne_bytes(data[at..at + 8].try_into().ok()?);
        let next = u32::from_ne_bytes(data[at + 8..at + 12].try_into().ok()?) as usize;
        if dev == 0 && out.is_empty() && next == 0 {
            return Some(out);
        }
        let name = &data[at + NAME_LIST_HEADER..];
        let end = name.iter().position(|&b| b == 0)?;
        out.push((
            String::from_utf8_lossy(&name[..end]).into_owned(),
            decode_dev(dev),
        ));
        if next == 0 {
            return Some(out);
        }
        at = at.checked_add(next)?;
    }
}

/// A 2-member 2 MiB-chunk stripe: the table the dm tests encode and build.
#[cfg(test)]
pub fn sample_striped() -> Target {
    use pmemtab::dmtable::TargetKind;
    use pmemtab::size::Sectors;
    Target {
        start: Sectors(0),
        length: Sectors(8192),
        kind: TargetKind::Striped {
            chunk: Sectors(4096),
            stripes: vec![
                (
                    DevNum {
                        major: 259,
                        minor: 3,
                    },
                    Sectors(0),
                ),
                (
                    DevNum {
                        major: 259,
                        minor: 2,
                    },
                    Sectors(0),
                ),
            ],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmemtab::dmtable::TargetKind;
    use pmemtab::size::Sectors;
    use std::mem::MaybeUninit;
    use std::ptr::addr_of;

    macro_rules! offset {
        ($ty:ty, $field:ident) => {{
            let u = MaybeUninit::<$ty>::uninit();
            let base = u.as_ptr();
            // SAFETY: only the address is taken, nothing is read.
            unsafe { addr_of!((*base).$field) as usize - base as usize }
        }};
    }

    #[test]
    fn header_layout_matches_dm_ioctl_h() {
        assert_eq!(size_of::<DmIoctl>(), 312);
        assert_eq!(offset!(DmIoctl, version), 0);
        assert_eq!(offset!(DmIoctl, data_size), 12);
        assert_eq!(offset!(DmIoctl, data_start), 16);
        assert_eq!(offset!(DmIoctl, target_count), 20);
        assert_eq!(offset!(DmIoctl, open_count), 24);
        assert_eq!(offset!(DmIoctl, flags), 28);
        assert_eq!(offset!(DmIoctl, event_nr), 32);
        assert_eq!(offset!(DmIoctl, padding), 36);
        assert_eq!(offset!(DmIoctl, dev), 40);
        assert_eq!(offset!(DmIoctl, name), 48);
        assert_eq!(offset!(DmIoctl, uuid), 176);
        assert_eq!(offset!(DmIoctl, data), 305);
    }

    #[test]
    fn spec_layout_matches_dm_ioctl_h() {
        assert_eq!(size_of::<DmTargetSpec>(), 40);
        assert_eq!(offset!(DmTargetSpec, sector_start), 0);
        assert_eq!(offset!(DmTargetSpec, length), 8);
        assert_eq!(offset!(DmTargetSpec, status), 16);
        assert_eq!(offset!(DmTargetSpec, next), 20);
        assert_eq!(offset!(DmTargetSpec, target_type), 24);
    }

    #[test]
    fn request_numbers() {
        // _IOWR(0xfd, nr, struct dm_ioctl) on x86_64: dir 3 << 30 | size 312 << 16 | 0xfd << 8 | nr.
        let req = |c: Cmd| c.request() as u32;
        assert_eq!(req(Cmd::Version), 0xC138_FD00);
        assert_eq!(req(Cmd::ListDevices), 0xC138_FD02);
        assert_eq!(req(Cmd::DevCreate), 0xC138_FD03);
        assert_eq!(req(Cmd::DevRemove), 0xC138_FD04);
        assert_eq!(req(Cmd::DevSuspend), 0xC138_FD06);
        assert_eq!(req(Cmd::DevStatus), 0xC138_FD07);
        assert_eq!(req(Cmd::TableLoad), 0xC138_FD09);
        assert_eq!(req(Cmd::TableStatus), 0xC138_FD0C);
    }

    #[test]
    fn header_bytes_at_their_offsets() {
        let mut m = Msg::named("fast0", b"").unwrap();
        assert!(m.set_uuid("PMEMTAB-fast0"));
        m.set_flags(DM_STATUS_TABLE_FLAG);
        m.set_target_count(2);
        let b = m.bytes_mut().to_vec();
        assert_eq!(b.len(), 312);
        assert_eq!(&b[0..12], &[4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(u32::from_ne_bytes(b[12..16].try_into().unwrap()), 312);
        assert_eq!(u32::from_ne_bytes(b[16..20].try_into().unwrap()), 312);
        assert_eq!(u32::from_ne_bytes(b[20..24].try_into().unwrap()), 2);
        assert_eq!(u32::from_ne_bytes(b[28..32].try_into().unwrap()), 1 << 4);
        assert_eq!(&b[48..54], b"fast0\0");
        assert_eq!(&b[176..190], b"PMEMTAB-fast0\0");
    }

    #[test]
    fn names_and_uuids_must_fit() {
        assert!(Msg::named(&"x".repeat(127), b"").is_some());
        assert!(Msg::named(&"x".repeat(128), b"").is_none());
        let mut m = Msg::new(0);
        assert!(m.set_uuid(&"u".repeat(128)));
        assert!(!m.set_uuid(&"u".repeat(129)));
    }

    #[test]
    fn dev_encoding_like_the_kernel() {
        // huge_encode_dev(MKDEV(253, 0)) = 0xfd00; minor 300 spills into bits 20+.
        assert_eq!(
            encode_dev(DevNum {
                major: 253,
                minor: 0
            }),
            0xfd00
        );
        assert_eq!(
            encode_dev(DevNum {
                major: 259,
                minor: 3
            }),
            0x10303
        );
        let d = DevNum {
            major: 253,
            minor: 300,
        };
        assert_eq!(encode_dev(d), 0x2c | (253 << 8) | (0x100 << 12));
        assert_eq!(decode_dev(encode_dev(d)), d);
    }

    #[test]
    fn table_load_encoding() {
        let lin = Target {
            start: Sectors(8192),
            length: Sectors(4096),
            kind: TargetKind::Linear {
                dev: DevNum {
                    major: 259,
                    minor: 1,
                },
                offset: Sectors(0),
            },
        };
        let data = encode_targets(&[sample_striped(), lin]);
        // "2 4096 259:3 0 259:2 0" is 22 bytes + NUL → 40 + 23 = 63 → padded to 64.
        assert_eq!(u64::from_ne_bytes(data[0..8].try_into().unwrap()), 0);
        assert_eq!(u64::from_ne_bytes(data[8..16].try_into().unwrap()), 8192);
        assert_eq!(u32::from_ne_bytes(data[20..24].try_into().unwrap()), 64);
        assert_eq!(&data[24..32], b"striped\0");
        assert_eq!(&data[40..63], b"2 4096 259:3 0 259:2 0\0");
        // Second spec at 64: "259:1 0" = 7 bytes + NUL → 48.
        assert_eq!(u64::from_ne_bytes(data[64..72].try_into().unwrap()), 8192);
        assert_eq!(&data[88..95], b"linear\0");
        assert_eq!(&data[104..112], b"259:1 0\0");
        assert_eq!(data.len(), 64 + 48);
        assert_eq!(data.len() % 8, 0);
    }

    /// Builds a TABLE_STATUS answer the way dm-ioctl.c's retrieve_status does.
    fn status_answer(targets: &[(u64, u64, &str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (start, len, ty, params) in targets {
            let at = out.len();
            out.resize(at + 40, 0);
            out[at..at + 8].copy_from_slice(&start.to_ne_bytes());
            out[at + 8..at + 16].copy_from_slice(&len.to_ne_bytes());
            out[at + 24..at + 24 + ty.len()].copy_from_slice(ty.as_bytes());
            out.extend_from_slice(params.as_bytes());
            out.push(0);
            out.resize(align8(out.len()), 0);
            let next = out.len() as u32;
            out[at + 20..at + 24].copy_from_slice(&next.to_ne_bytes());
        }
        out
    }

    #[test]
    fn table_status_decoding() {
        let data = status_answer(&[
            (0, 1024, "linear", "259:3 0"),
            (1024, 2048, "linear", "259:2 8"),
        ]);
        let t = decode_specs(&data, 2).unwrap();
        assert_eq!(
            pmemtab::dmtable::print(&t),
            "0 1024 linear 259:3 0\n1024 2048 linear 259:2 8\n"
        );
        assert_eq!(
            t,
            [
                Target {
                    start: Sectors(0),
                    length: Sectors(1024),
                    kind: TargetKind::Linear {
                        dev: DevNum {
                            major: 259,
                            minor: 3
                        },
                        offset: Sectors(0)
                    }
                },
                Target {
                    start: Sectors(1024),
                    length: Sectors(2048),
                    kind: TargetKind::Linear {
                        dev: DevNum {
                            major: 259,
                            minor: 2
                        },
                        offset: Sectors(8)
                    }
                },
            ]
        );
        assert!(decode_specs(&data[..50], 2).is_none());
        assert!(decode_specs(&data, 3).is_none());
    }

    #[test]
    fn name_list_decoding() {
        let mut data = vec![0u8; 0];
        for (i, (name, dev)) in [("fast0", 0xfd00u64), ("vg-lv", 0xfd01)].iter().enumerate() {
            let at = data.len();
            data.resize(at + 12, 0);
            data[at..at + 8].copy_from_slice(&dev.to_ne_bytes());
            data.extend_from_slice(name.as_bytes());
            data.push(0);
            data.resize(align8(data.len()) + 8, 0); // event_nr + flags of newer kernels
            let next = if i == 0 { (data.len() - at) as u32 } else { 0 };
            data[at + 8..at + 12].copy_from_slice(&next.to_ne_bytes());
        }
        let names = decode_names(&data).unwrap();
        assert_eq!(
            names,
            vec![
                (
                    "fast0".to_string(),
                    DevNum {
                        major: 253,
                        minor: 0
                    }
                ),
                (
                    "vg-lv".to_string(),
                    DevNum {
                        major: 253,
                        minor: 1
                    }
                ),
            ]
        );
        assert_eq!(decode_names(&[0u8; 16]).unwrap(), vec![]);
        assert!(decode_names(&data[..14]).is_none());
    }
}
