//! Every time limit pmemtab has, and those of one entry, from one place.
//!
//! `up` of an entry runs in three phases, each bounded by a deadline taken from the entry's
//! [`Timeouts`] when it starts ([`Timeouts::start`]):
//! - **device**: until the device exists: the entry's lock, the nvdimm buses' probe, the
//!   drivers, the members, and for device-mapper loading dm_mod, building the device and its
//!   node. This is `x-systemd.device-timeout=` as fstab(5) means it: how long anything waits
//!   for the device, pmem-assemble included; the generator writes it as the device unit's
//!   `JobRunningTimeoutSec=` when the entry sets it, as fstab-generator does.
//! - **build**: what is done on the device: mkfs, or onlining memory.
//! - **undo**: taking back what this run made when a later step failed.
//!
//! pmem-assemble waits only through [`Deadline`]s (its `wait` module takes nothing else), and
//! every wait of `up` takes its deadline from these phases, its own limit shortening it at
//! most. So `up` ends within the service's `TimeoutStartSec=`, the phases' sum and a margin
//! for the work between the waits, whatever waits are added; a test of pmem-assemble's
//! sources fails on a wait that is not made this way.

use crate::tab::{Entry, Layout};
use std::time::{Duration, Instant};

/// How long to wait for the device when the entry does not say (`x-systemd.device-timeout=`).
pub const DEFAULT_DEVICE_WAIT: Duration = Duration::from_secs(30);
/// Beyond the bounded waits: the device-mapper ioctls, the sysfs reads, the signature checks
/// and mkfs's fast path.
pub const SETUP_MARGIN: Duration = Duration::from_secs(30);
/// pmem-assemble's bound on one mkfs run.
pub const MKFS_LIMIT: Duration = Duration::from_secs(600);
/// How long `down` of a system-ram entry may spend offlining its memory (the kernel migrates
/// what is in use elsewhere, and retries without end when it cannot); `up` gives each member
/// as long to move blocks the kernel onlined in another zone, and to take it back.
pub const KMEM_OFFLINE_LIMIT: Duration = Duration::from_secs(30);
/// What offlining one block may take at the least in `pmem-assemble down`, even once its
/// deadline has passed: a block the kernel can empty at once is not failed for the time the
/// blocks before it took.
pub const KMEM_BLOCK_FLOOR: Duration = Duration::from_secs(1);
/// The boot-time DAX check reads mountinfo and sysfs: it never waits for anything.
pub const DAX_CHECK_LIMIT: Duration = Duration::from_secs(30);

/// How long the nvdimm buses may take to finish probing (`wait_probe`) before the scan takes
/// what has probed: well under a second on real machines, so it only matters if the kernel
/// never answers.
pub const WAIT_PROBE_LIMIT: Duration = Duration::from_secs(30);
/// One modprobe run: a module that is there loads in well under a second.
pub const MODPROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// After a successful `modprobe dm_mod`, device-mapper's misc device shows up promptly.
pub const DM_APPEAR_TIMEOUT: Duration = Duration::from_secs(5);
/// Loading dm_mod and its misc device appearing, for the commands other than `up`.
pub const OPEN_CONTROL_LIMIT: Duration = Duration::from_secs(20 + 5);
/// How long a busy device is retried before `down` (or `up` undoing its own) gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long udev has to create or remove `/dev/mapper/<name>` before pmem-assemble does it.
pub const UDEV_GRACE: Duration = Duration::from_secs(5);
/// How long a dax device's character device may take to appear after device_dax binds it
/// (devtmpfs makes it at once; this covers a slow udev).
pub const CHARDEV_WAIT: Duration = Duration::from_secs(5);
/// The device phase of `up --timeout 0`, which looks for the members once (initramfs-tools'
/// local-block runs it each time it looks for the root): the longest one look takes, the
/// buses' probe, a modprobe for each of the (at most three) member drivers and dm_mod,
/// dm_mod's misc device and udev's node.
pub const LOOK_ONCE: Duration = Duration::from_secs(30 + 4 * 20 + 5 + 5);
/// How long `down` and `mount` wait for an entry's lock.
pub const LOCK_MARGIN: Duration = Duration::from_secs(60);

/// A moment a wait must end by. `None` is a moment too far to name (a deadline past what
/// `Instant` holds): then only the wait's own limit ([`Deadline::cap`]) bounds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

impl Deadline {
    /// `limit` from now: for the commands other than `up`, whose waits have no entry's
    /// phases to share.
    pub fn after(limit: Duration) -> Deadline {
        Deadline(Instant::now().checked_add(limit))
    }

    /// This deadline, or `limit` from now if that comes first: one wait's own bound, which can
    /// only shorten the phase's.
    pub fn cap(self, limit: Duration) -> Deadline {
        let own = Deadline::after(limit);
        match (self.0, own.0) {
            (Some(a), Some(b)) => Deadline(Some(a.min(b))),
            (a, b) => Deadline(a.or(b)),
        }
    }

    /// This deadline, or `floor` from now if that comes later: what `pmem-assemble down` gives
    /// each memory block at the least ([`KMEM_BLOCK_FLOOR`]). Never in `up`, whose phases
    /// bound its waits.
    pub fn at_least(self, floor: Duration) -> Deadline {
        let own = Deadline::after(floor);
        match (self.0, own.0) {
            (Some(a), Some(b)) => Deadline(Some(a.max(b))),
            _ => Deadline(None),
        }
    }

    /// What is left of it (zero once it has passed).
    pub fn left(self) -> Duration {
        self.0.map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }
}

/// The phases of one `up` of an entry, from its start ([`Timeouts::start`]).
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// The device must exist by then (`x-systemd.device-timeout=`).
    pub device: Deadline,
    /// What is done on it must be done by then: the device phase, then the build phase (so
    /// what the first leaves, the second may use).
    pub build: Deadline,
    undo: Duration,
}

impl Budget {
    /// The deadline of taking back what this run made, from the moment a step failed.
    pub fn undo(&self) -> Deadline {
        Deadline::after(self.undo)
    }
}

/// The time limits of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// How long `up` polls for the members: `x-systemd.device-timeout=` (or `up --timeout`),
    /// default 30 s; the device phase, but for `up --timeout 0`.
    pub device: Duration,
    /// The device phase's deadline from `up`'s start: [`device`](Self::device), or
    /// [`LOOK_ONCE`] for `up --timeout 0`.
    pub device_phase: Duration,
    /// The build phase: mkfs (600 s with `mkfs`), or a system-ram entry's onlining.
    pub build: Duration,
    /// The undo phase.
    pub undo: Duration,
    /// mkfs may run this long, for entries with `mkfs`.
    pub mkfs: Option<Duration>,
    /// `pmem-assemble@NAME.service`'s `TimeoutStartSec=`: the three phases and
    /// [`SETUP_MARGIN`], so that systemd never stops `up` before its own bounded waits report
    /// what they waited for.
    pub service: Duration,
    /// `JobRunningTimeoutSec=` of `dev-mapper-NAME.device`: the entry's
    /// `x-systemd.device-timeout=` when it sets one, exactly (fstab(5)); else none, and
    /// systemd's default applies (`DefaultDeviceTimeoutSec=`, 90 s), longer than the device
    /// phase's default.
    pub device_job: Option<Duration>,
    /// The mount unit's `TimeoutSec=` (`x-systemd.mount-timeout=`); systemd's default
    /// otherwise.
    pub mount: Option<Duration>,
}

fn sum(waits: &[Duration]) -> Duration {
    waits
        .iter()
        .fold(Duration::ZERO, |total, w| total.saturating_add(*w))
}

fn times(d: Duration, n: usize) -> Duration {
    d.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
}

impl Timeouts {
    /// The limits for an entry, with `device` overriding its device phase (`up --timeout`).
    pub fn of(entry: &Entry, device: Option<Duration>) -> Timeouts {
        let members = entry.members().len().max(1);
        let mkfs = entry.mkfs().then_some(MKFS_LIMIT);
        // Saturating: the parser and the command line cap every input at
        // timespan::MAX_LIMIT, and the boot path must not panic should a caller not.
        let (build, undo) = match entry.layout() {
            // Nothing to take back: the by-name link is published after mkfs.
            Layout::Single => (mkfs.unwrap_or(Duration::ZERO), Duration::ZERO),
            // The device removed again: its busy retries, then udev's removal of the node.
            Layout::Linear | Layout::Striped { .. } => (
                mkfs.unwrap_or(Duration::ZERO),
                sum(&[BUSY_TIMEOUT, UDEV_GRACE]),
            ),
            // Loading kmem, then per member moving the blocks the kernel onlined in another
            // zone; undone, per member: its blocks offlined, device_dax loaded and bound, its
            // character device awaited.
            // The sysfs writes of a region are quick; its undo too. The bind probes the
            // region (cxl_pmem's nd region): one modprobe's worth each way.
            Layout::CxlPmem => (MODPROBE_TIMEOUT, MODPROBE_TIMEOUT),
            Layout::SystemRam => (
                MODPROBE_TIMEOUT.saturating_add(times(KMEM_OFFLINE_LIMIT, members)),
                times(
                    sum(&[KMEM_OFFLINE_LIMIT, MODPROBE_TIMEOUT, CHARDEV_WAIT]),
                    members,
                ),
            ),
        };
        let device = device
            .or(entry.options.device_timeout)
            .unwrap_or(DEFAULT_DEVICE_WAIT);
        let device_phase = if device.is_zero() { LOOK_ONCE } else { device };
        Timeouts {
            device,
            device_phase,
            build,
            undo,
            mkfs,
            service: sum(&[device_phase, build, undo, SETUP_MARGIN]),
            device_job: entry.options.device_timeout,
            mount: entry.options.systemd.mount_timeout,
        }
    }

    /// The deadlines of one `up` starting now.
    pub fn start(&self) -> Budget {
        Budget {
            device: Deadline::after(self.device_phase),
            build: Deadline::after(self.device_phase.saturating_add(self.build)),
            undo: self.undo,
        }
    }
}

/// Here rather than in the model, which then needs nothing of this module.
impl Entry {
    /// Every time limit of this entry.
    pub fn timeouts(&self) -> Timeouts {
        Timeouts::of(self, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tab::{EntryKind, Filesystem};

    fn entry_with(layout: Layout, members: usize, fs: Option<Filesystem>) -> Entry {
        let members = (0..members as u64).map(crate::tab::Member::Addr).collect();
        Entry {
            line: 1,
            name: crate::tab::name::Name::new("e").unwrap(),
            kind: EntryKind::new(layout, members, fs).unwrap(),
            options: Default::default(),
            source: Default::default(),
        }
    }

    fn entry(layout: Layout, members: usize) -> Entry {
        entry_with(layout, members, None)
    }

    #[test]
    fn the_service_is_the_sum_of_the_phases() {
        let secs = Duration::from_secs;
        let striped = Timeouts::of(&entry(Layout::Striped { chunk_bytes: 4096 }, 2), None);
        // device 30, build 0, undo 5 + 5, margin 30.
        assert_eq!(striped.device, secs(30));
        assert_eq!(striped.service, secs(70));
        assert_eq!(
            striped.device_job, None,
            "systemd's default when none is set"
        );
        // --timeout 0 looks once for the members, but the probe, the drivers and dm_mod keep
        // their limits.
        let single = Timeouts::of(&entry(Layout::Single, 1), Some(secs(0)));
        assert_eq!(single.device, secs(0));
        assert_eq!(single.service, LOOK_ONCE + secs(30));
        let mkfs_fs = Filesystem {
            fstype: crate::tab::FsType::Ext4,
            mkfs: true,
            mount: None,
        };
        let mut mkfs = entry_with(Layout::Linear, 1, Some(mkfs_fs));
        mkfs.options.device_timeout = Some(secs(5));
        let t = Timeouts::of(&mkfs, None);
        assert_eq!(t.service, secs(5 + 600 + 10 + 30));
        // The user's device timeout is the device job's, exactly (fstab(5)).
        assert_eq!(t.device_job, Some(secs(5)));
        // The longest inputs saturate instead of overflowing.
        assert_eq!(
            Timeouts::of(&mkfs, Some(Duration::MAX)).service,
            Duration::MAX
        );
        let far = Timeouts::of(&mkfs, Some(Duration::MAX)).start();
        assert_eq!(far.device.left(), Duration::MAX);
        assert!(far.device.cap(secs(1)).left() <= secs(1));
    }

    #[test]
    fn one_look_is_the_longest_look() {
        let drivers = crate::ns::member_modules(Layout::SystemRam).len();
        assert!(drivers >= crate::ns::member_modules(Layout::Linear).len());
        assert_eq!(
            LOOK_ONCE,
            sum(&[
                WAIT_PROBE_LIMIT,
                times(MODPROBE_TIMEOUT, drivers + 1),
                DM_APPEAR_TIMEOUT,
                UDEV_GRACE
            ])
        );
    }

    #[test]
    fn open_control_is_modprobe_and_appear() {
        assert_eq!(
            OPEN_CONTROL_LIMIT,
            MODPROBE_TIMEOUT.saturating_add(DM_APPEAR_TIMEOUT)
        );
    }

    #[test]
    fn deadlines_only_shorten() {
        let secs = Duration::from_secs;
        let d = Deadline::after(secs(10));
        assert!(d.cap(secs(60)).left() <= secs(10));
        assert!(d.cap(secs(1)).left() <= secs(1));
        assert_eq!(Deadline::after(Duration::ZERO).left(), Duration::ZERO);
        let b = Timeouts::of(&entry(Layout::Linear, 1), Some(secs(5))).start();
        assert!(b.device.left() <= secs(5) && b.build.left() <= secs(5));
        assert!(b.undo().left() <= secs(10) && b.undo().left() > secs(5));
    }
}
