//! Every time limit pmemtab has, and those of one entry derived from them in one place: how
//! long `up` waits for the members, how long mkfs may run, and from those and every other
//! bounded wait of `up` the service's start timeout, the device job's timeout (so that nothing
//! waiting for `/dev/mapper/NAME` gives up before the service does) and the mount's.
//! pmem-assemble and the generator both take them from here.

use crate::tab::{Entry, Layout};
use std::time::Duration;

/// How long to wait for members when the entry does not say (`x-systemd.device-timeout=`).
pub const DEFAULT_MEMBER_WAIT: Duration = Duration::from_secs(30);
/// Beyond the bounded waits: the device-mapper ioctls, the sysfs reads, the signature checks
/// and mkfs's fast path.
pub const SETUP_MARGIN: Duration = Duration::from_secs(30);
/// pmem-assemble's bound on one mkfs run.
pub const MKFS_LIMIT: Duration = Duration::from_secs(600);
/// How much longer than the service the device job waits, so the service's own error is the
/// one reported.
pub const DEVICE_JOB_MARGIN: Duration = Duration::from_secs(5);
/// How long `down` of a system-ram entry may spend offlining its memory (the kernel migrates
/// what is in use elsewhere, and retries without end when it cannot).
pub const KMEM_OFFLINE_LIMIT: Duration = Duration::from_secs(30);
/// What offlining one block may take at the least, even once `down`'s deadline has passed: a
/// block the kernel can empty at once is not failed for the time the blocks before it took.
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
/// How long a busy device is retried before `down` (or `up` undoing its own) gives up.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long udev has to create or remove `/dev/mapper/<name>` before pmem-assemble does it.
pub const UDEV_GRACE: Duration = Duration::from_secs(5);
/// How long a dax device's character device may take to appear after device_dax binds it
/// (devtmpfs makes it at once; this covers a slow udev).
pub const CHARDEV_WAIT: Duration = Duration::from_secs(5);
/// How long `down` and `mount` wait for the lock, and what `up` waits beyond the longest
/// another `up` of the entry may hold it.
pub const LOCK_MARGIN: Duration = Duration::from_secs(60);

/// The time limits of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// `up` polls for the members this long (`x-systemd.device-timeout=`, default 30 s).
    pub members: Duration,
    /// mkfs may run this long, for entries with `mkfs`.
    pub mkfs: Option<Duration>,
    /// How long `up` waits for the entry's lock: the longest another `up` of it may hold it
    /// (its [`run`](Self::run)), and [`LOCK_MARGIN`].
    pub lock: Duration,
    /// The longest `up` of the entry takes once it holds the lock: the sum of every bounded
    /// wait it can make one after another, and [`SETUP_MARGIN`].
    pub run: Duration,
    /// `pmem-assemble@NAME.service`'s `TimeoutStartSec=`: the lock wait, then the run, so that
    /// systemd never stops `up` before its own bounded waits report what they waited for.
    pub service: Duration,
    /// `JobRunningTimeoutSec=` of `dev-mapper-NAME.device`: the service's, and a margin.
    pub device_job: Duration,
    /// The mount unit's `TimeoutSec=` (`x-systemd.mount-timeout=`); systemd's default
    /// otherwise.
    pub mount: Option<Duration>,
}

fn sum(waits: &[Duration]) -> Duration {
    waits
        .iter()
        .fold(Duration::ZERO, |total, w| total.saturating_add(*w))
}

/// What the member wait can overrun by: a round of it that started before the deadline and
/// waits for probing, and on the first miss one modprobe for each driver that brings members.
fn find_members(layout: Layout) -> Duration {
    let modules = u32::try_from(crate::ns::member_modules(layout).len()).unwrap_or(u32::MAX);
    WAIT_PROBE_LIMIT.saturating_add(MODPROBE_TIMEOUT.saturating_mul(modules))
}

/// The bounded waits of building the device and, when a later step fails, of taking it back.
fn build(entry: &Entry) -> Duration {
    match entry.layout {
        Layout::Single => Duration::ZERO,
        // Per member: moving the blocks the kernel onlined in another zone (one deadline for
        // all), and when a later step fails, giving the device back to device_dax (its
        // blocks offlined, then its character device awaited).
        Layout::SystemRam => sum(&[KMEM_OFFLINE_LIMIT, KMEM_OFFLINE_LIMIT, CHARDEV_WAIT])
            .saturating_mul(u32::try_from(entry.members.len().max(1)).unwrap_or(u32::MAX)),
        // Loading dm_mod and awaiting its misc device, udev's node; and undoing a created
        // device: the busy retries, udev's removal of the node.
        Layout::Linear | Layout::Striped { .. } => sum(&[
            MODPROBE_TIMEOUT,
            DM_APPEAR_TIMEOUT,
            UDEV_GRACE,
            BUSY_TIMEOUT,
            UDEV_GRACE,
        ]),
    }
}

impl Timeouts {
    /// The limits for an entry, with `members` overriding its member wait (`up --timeout`).
    pub fn of(entry: &Entry, members: Option<Duration>) -> Timeouts {
        let members = members
            .or(entry.options.device_timeout)
            .unwrap_or(DEFAULT_MEMBER_WAIT);
        let mkfs = entry.options.mkfs.then_some(MKFS_LIMIT);
        // Saturating: the parser and the command line cap every input at timespan::MAX_LIMIT, and the
        // boot path must not panic should a caller not.
        let run = sum(&[
            members,
            find_members(entry.layout),
            build(entry),
            mkfs.unwrap_or(Duration::ZERO),
            SETUP_MARGIN,
        ]);
        let lock = run.saturating_add(LOCK_MARGIN);
        let service = lock.saturating_add(run);
        Timeouts {
            members,
            mkfs,
            lock,
            run,
            service,
            device_job: service.saturating_add(DEVICE_JOB_MARGIN),
            mount: entry.options.systemd.mount_timeout,
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

    fn entry(layout: Layout, members: usize) -> Entry {
        Entry {
            line: 1,
            name: crate::tab::name::Name::new("e").unwrap(),
            layout,
            members: vec![crate::tab::Member::Addr(0); members],
            mount_point: None,
            fstype: None,
            options: Default::default(),
            source: Default::default(),
        }
    }

    #[test]
    fn service_counts_every_wait_of_up() {
        let secs = Duration::from_secs;
        let striped = Timeouts::of(&entry(Layout::Striped { chunk_bytes: 4096 }, 2), None);
        // members 30, probe 30, modprobe nd_pmem 20, dm 20 + 5 + 5 + 5 + 5, work 30.
        assert_eq!(striped.run, secs(150));
        assert_eq!(striped.lock, secs(210));
        assert_eq!(striped.service, secs(360));
        assert_eq!(striped.device_job, secs(365));
        let single = Timeouts::of(&entry(Layout::Single, 1), Some(secs(0)));
        assert_eq!(single.run, secs(80));
        // Three modprobes, and per member two offline limits (rezone, undo) and its character device.
        let ram = Timeouts::of(&entry(Layout::SystemRam, 2), None);
        assert_eq!(ram.run, secs(30 + 30 + 60 + 2 * 65 + 30));
        let mut mkfs = entry(Layout::Linear, 1);
        mkfs.options.mkfs = true;
        assert_eq!(Timeouts::of(&mkfs, None).run, secs(750));
        // The longest inputs saturate instead of overflowing.
        assert_eq!(
            Timeouts::of(&mkfs, Some(Duration::MAX)).service,
            Duration::MAX
        );
    }
}
