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
//!
//! A wait's own limit is one of the registry, [`Wait`] ([`Deadline::cap`] takes nothing
//! else), and the build and undo phases (and the device phase of one look, [`LOOK_ONCE`]) are
//! the sums of the waits they count ([`Timeouts::phases`]): not a second list of numbers.

use crate::tab::{Entry, Layout};
use std::time::{Duration, Instant};

/// How long to wait for the device when the entry does not say (`x-systemd.device-timeout=`).
pub const DEFAULT_DEVICE_WAIT: Duration = Duration::from_secs(30);
/// Beyond the bounded waits: the device-mapper ioctls, the sysfs reads, the signature checks
/// and mkfs's fast path.
pub const SETUP_MARGIN: Duration = Duration::from_secs(30);
/// What offlining one block may take at the least in `pmem-assemble down`, even once its
/// deadline has passed: a block the kernel can empty at once is not failed for the time the
/// blocks before it took.
pub const KMEM_BLOCK_FLOOR: Duration = Duration::from_secs(1);
/// The boot-time DAX check reads mountinfo and sysfs: it never waits for anything.
pub const DAX_CHECK_LIMIT: Duration = Duration::from_secs(30);

/// Every wait of pmem-assemble that has a limit of its own, and that limit: the one registry.
/// A wait bounds itself only with one of these ([`Deadline::cap`] takes a `Wait`, not a
/// `Duration`), and each phase of `up` is the sum of the waits it counts ([`Waits`]), so a
/// new kind of wait is added here, with its limit and the phases that count it ([`Wait::in_up`]
/// cannot compile without saying), and the service's budget grows with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The nvdimm buses finishing their probe (`wait_probe`) before the scan takes what has
    /// probed: well under a second on real machines, so it only matters if the kernel never
    /// answers.
    Probe,
    /// One modprobe run: a module that is there loads in well under a second.
    Modprobe,
    /// device-mapper's misc device after a successful `modprobe dm_mod`: it shows up promptly.
    DmAppear,
    /// udev creating or removing `/dev/mapper/<name>` before pmem-assemble does it.
    UdevGrace,
    /// A dax device's character device after device_dax binds it (devtmpfs makes it at once;
    /// this covers a slow udev), or a CXL ram region's dax device after the region binds.
    Chardev,
    /// A busy device-mapper device's removal, retried before `down` (or `up` undoing its own)
    /// gives up.
    Busy,
    /// Offlining a member's memory (the kernel migrates what is in use elsewhere, and retries
    /// without end when it cannot): `down`'s default per member; `up` gives each member as
    /// long to move blocks the kernel onlined in another zone, and to take it back.
    KmemOffline,
    /// One mkfs run.
    Mkfs,
    /// `down` and `mount` waiting for an entry's lock (`up` waits for it in its device phase).
    Lock,
    /// `initramfs` evaluating GRUB's configuration for the kernel command line: it is a few
    /// assignments.
    GrubEval,
}

impl Wait {
    /// Every kind of wait, for the tests that every one is counted.
    pub const ALL: [Wait; 10] = [
        Wait::Probe,
        Wait::Modprobe,
        Wait::DmAppear,
        Wait::UdevGrace,
        Wait::Chardev,
        Wait::Busy,
        Wait::KmemOffline,
        Wait::Mkfs,
        Wait::Lock,
        Wait::GrubEval,
    ];

    /// This wait's own limit.
    pub const fn limit(self) -> Duration {
        Duration::from_secs(match self {
            Wait::Probe => 30,
            Wait::Modprobe => 20,
            Wait::DmAppear | Wait::UdevGrace | Wait::Chardev | Wait::Busy => 5,
            Wait::KmemOffline => 30,
            Wait::Mkfs => 600,
            Wait::Lock => 60,
            Wait::GrubEval => 10,
        })
    }

    /// Whether `up` makes this wait, and so some phase of it must count it (the tests check
    /// that one does); the others are the other commands' own.
    pub const fn in_up(self) -> bool {
        match self {
            Wait::Probe
            | Wait::Modprobe
            | Wait::DmAppear
            | Wait::UdevGrace
            | Wait::Chardev
            | Wait::Busy
            | Wait::KmemOffline
            | Wait::Mkfs => true,
            Wait::Lock | Wait::GrubEval => false,
        }
    }

    /// The limits of these waits, one after the other.
    pub const fn sum(waits: &[Wait]) -> Duration {
        let mut total = Duration::ZERO;
        let mut i = 0;
        while i < waits.len() {
            total = total.saturating_add(waits[i].limit());
            i += 1;
        }
        total
    }
}

/// How often a phase counts a wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Times {
    /// This many times.
    N(u32),
    /// Once for each member of the entry.
    PerMember,
}

/// The waits a phase counts, each with how often: the phase is their sum ([`total`]).
pub type Waits = &'static [(Wait, Times)];

/// How long `waits` take at most for an entry of `members` members. Saturating: the boot path
/// must not panic.
pub const fn total(waits: Waits, members: u32) -> Duration {
    let mut sum = Duration::ZERO;
    let mut i = 0;
    while i < waits.len() {
        let (wait, times) = waits[i];
        let n = match times {
            Times::N(n) => n,
            Times::PerMember => members,
        };
        sum = sum.saturating_add(wait.limit().saturating_mul(n));
        i += 1;
    }
    sum
}

/// The device phase of `up --timeout 0`, which looks for the members once (initramfs-tools'
/// local-block runs it each time it looks for the root): the buses' probe, a modprobe for each
/// of the (at most three) member drivers and dm_mod, dm_mod's misc device and udev's node.
pub const LOOK_ONCE_WAITS: Waits = &[
    (Wait::Probe, Times::N(1)),
    (Wait::Modprobe, Times::N(4)),
    (Wait::DmAppear, Times::N(1)),
    (Wait::UdevGrace, Times::N(1)),
];
/// [`LOOK_ONCE_WAITS`]' sum.
pub const LOOK_ONCE: Duration = total(LOOK_ONCE_WAITS, 0);
/// Loading dm_mod and its misc device appearing, for the commands other than `up`.
pub const OPEN_CONTROL_LIMIT: Duration = Wait::sum(&[Wait::Modprobe, Wait::DmAppear]);

/// A device-mapper entry's undo: the device removed again (its busy retries), then udev's
/// removal of the node.
pub const DM_UNDO: Waits = &[(Wait::Busy, Times::N(1)), (Wait::UdevGrace, Times::N(1))];
/// The build phase of an entry with `mkfs`.
pub const MKFS_BUILD: Waits = &[(Wait::Mkfs, Times::N(1))];
/// A system-ram entry's build: loading kmem, then per member moving the blocks the kernel
/// onlined in another zone.
pub const KMEM_BUILD: Waits = &[
    (Wait::Modprobe, Times::N(1)),
    (Wait::KmemOffline, Times::PerMember),
];
/// A system-ram line over CXL memory devices (a ram region): its modules loaded, the region's
/// dax device awaited once it binds, then as [`KMEM_BUILD`].
pub const CXL_RAM_BUILD: Waits = &[
    (Wait::Modprobe, Times::N(1)),
    (Wait::Chardev, Times::N(1)),
    (Wait::KmemOffline, Times::PerMember),
];
/// A system-ram entry's undo, per member: its blocks offlined, device_dax loaded and bound,
/// its character device awaited.
pub const KMEM_UNDO: Waits = &[
    (Wait::KmemOffline, Times::PerMember),
    (Wait::Modprobe, Times::PerMember),
    (Wait::Chardev, Times::PerMember),
];
/// A cxl-pmem entry's build and undo: the sysfs writes of a region are quick, its undo too;
/// the bind probes the region (cxl_pmem's nd region): one modprobe's worth each way.
pub const CXL_PMEM_BIND: Waits = &[(Wait::Modprobe, Times::N(1))];

/// A moment a wait must end by. `at` `None` is a moment too far to name (a deadline past
/// what `Instant` holds): then only the wait's own limit ([`Deadline::cap`]) bounds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    at: Option<Instant>,
    /// The waits the phase this deadline ends counts, for a phase of `up`: a wait that caps
    /// it must be one of them ([`Deadline::cap`]).
    counts: Option<Waits>,
}

impl Deadline {
    /// `limit` from now: for the commands other than `up`, whose waits have no entry's
    /// phases to share.
    pub fn after(limit: Duration) -> Deadline {
        Deadline {
            at: Instant::now().checked_add(limit),
            counts: None,
        }
    }

    /// The end of a phase of `up` that counts `waits`, `limit` from now.
    fn phase(limit: Duration, waits: Waits) -> Deadline {
        Deadline {
            counts: Some(waits),
            ..Deadline::after(limit)
        }
    }

    /// This deadline, or `wait`'s own limit from now if that comes first: a wait bounds itself
    /// only with a limit of the registry, and can only shorten the phase's. In a phase of
    /// `up`, the wait must be one the phase counts: one it does not is a wait the service's
    /// budget leaves out, a bug that debug builds (every test) stop at.
    pub fn cap(self, wait: Wait) -> Deadline {
        debug_assert!(
            self.counts
                .map_or(true, |c| c.iter().any(|(w, _)| *w == wait)),
            "a {wait:?} wait in a phase of up that does not count it ({:?}): add it to the phase's waits in pmemtab::timeouts",
            self.counts
        );
        self.within(wait.limit())
    }

    /// This deadline, or `limit` from now if that comes first, for a limit the user gave
    /// (`x-systemd.device-timeout=` for the members, `down --timeout`), not a wait's own.
    pub fn within(self, limit: Duration) -> Deadline {
        let own = Deadline::after(limit);
        let at = match (self.at, own.at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Deadline { at, ..self }
    }

    /// This deadline, or `floor` from now if that comes later: what `pmem-assemble down` gives
    /// each memory block at the least ([`KMEM_BLOCK_FLOOR`]). Never in `up`, whose phases
    /// bound its waits.
    pub fn at_least(self, floor: Duration) -> Deadline {
        let own = Deadline::after(floor);
        let at = match (self.at, own.at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        Deadline { at, ..self }
    }

    /// What is left of it (zero once it has passed).
    pub fn left(self) -> Duration {
        self.at.map_or(Duration::MAX, |d| {
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
    undo: (Duration, Waits),
}

impl Budget {
    /// The deadline of taking back what this run made, from the moment a step failed.
    pub fn undo(&self) -> Deadline {
        Deadline::phase(self.undo.0, self.undo.1)
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
    /// The waits the build and undo phases count ([`Timeouts::phases`]).
    pub waits: (Waits, Waits),
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

impl Timeouts {
    /// The waits each phase but the device's counts for an entry: (build, undo).
    pub fn phases(entry: &Entry) -> (Waits, Waits) {
        let mkfs: Waits = if entry.mkfs() { MKFS_BUILD } else { &[] };
        match entry.layout() {
            // Nothing to take back: the by-name link is published after mkfs.
            Layout::Single => (mkfs, &[]),
            Layout::Linear | Layout::Striped { .. } => (mkfs, DM_UNDO),
            Layout::CxlPmem => (CXL_PMEM_BIND, CXL_PMEM_BIND),
            Layout::SystemRam if entry.is_cxl() => (CXL_RAM_BUILD, KMEM_UNDO),
            Layout::SystemRam => (KMEM_BUILD, KMEM_UNDO),
        }
    }

    /// The limits for an entry, with `device` overriding its device phase (`up --timeout`).
    pub fn of(entry: &Entry, device: Option<Duration>) -> Timeouts {
        let members = u32::try_from(entry.members().len().max(1)).unwrap_or(u32::MAX);
        let mkfs = entry.mkfs().then_some(Wait::Mkfs.limit());
        // Saturating: the parser and the command line cap every input at
        // timespan::MAX_LIMIT, and the boot path must not panic should a caller not.
        let waits = Timeouts::phases(entry);
        let (build, undo) = (total(waits.0, members), total(waits.1, members));
        let device = device
            .or(entry.options.device_timeout)
            .unwrap_or(DEFAULT_DEVICE_WAIT);
        let device_phase = if device.is_zero() { LOOK_ONCE } else { device };
        Timeouts {
            device,
            device_phase,
            build,
            undo,
            waits,
            mkfs,
            service: sum(&[device_phase, build, undo, SETUP_MARGIN]),
            device_job: entry.options.device_timeout,
            mount: entry.options.systemd.mount_timeout,
        }
    }

    /// The deadlines of one `up` starting now.
    pub fn start(&self) -> Budget {
        // The device phase is the user's, but for one look, which counts these.
        Budget {
            device: Deadline::phase(self.device_phase, LOOK_ONCE_WAITS),
            build: Deadline::phase(self.device_phase.saturating_add(self.build), self.waits.0),
            undo: (self.undo, self.waits.1),
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
        assert!(far.device.within(secs(1)).left() <= secs(1));
    }

    #[test]
    fn one_look_is_the_longest_look() {
        // A modprobe for each member driver of the layout that has most, and dm_mod.
        let drivers = crate::ns::member_modules(Layout::SystemRam).len();
        assert!(drivers >= crate::ns::member_modules(Layout::Linear).len());
        let modprobes = u32::try_from(drivers + 1).unwrap();
        assert!(LOOK_ONCE_WAITS.contains(&(Wait::Modprobe, Times::N(modprobes))));
        assert_eq!(LOOK_ONCE, Duration::from_secs(120));
    }

    /// Every kind of wait `up` makes is counted by some phase (a new one in [`Wait`] must say
    /// where in [`Wait::in_up`], and fails here until a phase counts it).
    #[test]
    fn every_wait_of_up_is_in_a_phase() {
        let phases = [
            LOOK_ONCE_WAITS,
            DM_UNDO,
            MKFS_BUILD,
            KMEM_BUILD,
            CXL_RAM_BUILD,
            KMEM_UNDO,
            CXL_PMEM_BIND,
        ];
        for w in Wait::ALL {
            let counted = phases.iter().any(|p| p.iter().any(|(x, _)| *x == w));
            assert_eq!(counted, w.in_up(), "{w:?}");
        }
    }

    /// A wait a phase does not count stops debug builds (every test run), wherever it is made;
    /// other commands' deadlines count nothing and take any wait.
    #[test]
    #[cfg(debug_assertions)]
    fn a_wait_its_phase_does_not_count_is_stopped() {
        let b = Timeouts::of(&entry(Layout::Linear, 1), None).start();
        assert!(b.undo().cap(Wait::Busy).left() <= Duration::from_secs(5));
        let _ = b.device.cap(Wait::Modprobe).cap(Wait::DmAppear);
        let _ = Deadline::after(Duration::ZERO).cap(Wait::Mkfs);
        let uncounted = std::panic::catch_unwind(|| b.undo().cap(Wait::Mkfs));
        assert!(uncounted.is_err(), "mkfs is not a dm undo's wait");
        let uncounted = std::panic::catch_unwind(|| b.build.cap(Wait::Chardev));
        assert!(
            uncounted.is_err(),
            "a linear entry's build waits for no dax device"
        );
    }

    #[test]
    fn a_ram_region_s_build_counts_its_dax_device() {
        let secs = Duration::from_secs;
        let nd = Timeouts::of(&entry(Layout::SystemRam, 1), None);
        let mut cxl = entry(Layout::SystemRam, 1);
        cxl.kind = EntryKind::new(
            Layout::SystemRam,
            vec![crate::tab::Member::Serial(0x1001)],
            None,
        )
        .unwrap();
        let cxl = Timeouts::of(&cxl, None);
        // device 30, build 20 + 30 (+ 5 over CXL), undo 30 + 20 + 5, margin 30.
        assert_eq!(nd.service, secs(165));
        assert_eq!(cxl.service, secs(170));
    }

    #[test]
    fn deadlines_only_shorten() {
        let secs = Duration::from_secs;
        let d = Deadline::after(secs(10));
        assert!(d.within(secs(60)).left() <= secs(10));
        assert!(d.cap(Wait::Busy).left() <= secs(5));
        assert_eq!(Deadline::after(Duration::ZERO).left(), Duration::ZERO);
        let b = Timeouts::of(&entry(Layout::Linear, 1), Some(secs(5))).start();
        assert!(b.device.left() <= secs(5) && b.build.left() <= secs(5));
        assert!(b.undo().left() <= secs(10) && b.undo().left() > secs(5));
    }
}
