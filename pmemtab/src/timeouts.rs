//! Every time limit that applies to one entry, derived in one place: how long `up` waits for
//! the members, how long mkfs may run, and from those the service's start timeout, the device
//! job's timeout (so that nothing waiting for `/dev/mapper/NAME` gives up before the service
//! does) and the mount's. pmem-assemble and the generator both take them from here.

use crate::tab::Entry;
use std::time::Duration;

/// How long to wait for members when the entry does not say (`x-systemd.device-timeout=`).
pub const DEFAULT_MEMBER_WAIT: Duration = Duration::from_secs(30);
/// Beyond the member wait: the device-mapper work, udev's link (at most 5 s), the
/// signature checks and mkfs's fast path.
pub const SETUP_MARGIN: Duration = Duration::from_secs(30);
/// pmem-assemble's bound on one mkfs run.
pub const MKFS_LIMIT: Duration = Duration::from_secs(600);
/// How much longer than the service the device job waits, so the service's own error is the
/// one reported.
pub const DEVICE_JOB_MARGIN: Duration = Duration::from_secs(5);
/// How long `down` of a system-ram entry may spend offlining its memory (the kernel migrates
/// what is in use elsewhere, and retries without end when it cannot).
pub const KMEM_OFFLINE_LIMIT: Duration = Duration::from_secs(30);
/// The boot-time DAX check reads mountinfo and sysfs: it never waits for anything.
pub const DAX_CHECK_LIMIT: Duration = Duration::from_secs(30);

/// The longest time limit an entry (`x-systemd.*-timeout=`) or `--timeout` may set. Nothing
/// at boot should wait longer, and the sums made from it (service, device job) then stay far
/// inside what systemd reads and what `Instant` can add.
pub const MAX_LIMIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// A time limit longer than [`MAX_LIMIT`]; shown as what it is, to follow "X is ".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverLimit;

impl std::fmt::Display for OverLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "longer than pmemtab's limit of 1 week ({}s)",
            MAX_LIMIT.as_secs()
        )
    }
}

/// `d`, or [`OverLimit`] when it is longer than [`MAX_LIMIT`].
pub fn check_limit(d: Duration) -> Result<Duration, OverLimit> {
    if d > MAX_LIMIT {
        Err(OverLimit)
    } else {
        Ok(d)
    }
}

/// The time limits of one entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// `up` polls for the members this long (`x-systemd.device-timeout=`, default 30 s).
    pub members: Duration,
    /// mkfs may run this long, for entries with `mkfs`.
    pub mkfs: Option<Duration>,
    /// `pmem-assemble@NAME.service`'s `TimeoutStartSec=`: members + margin + mkfs.
    pub service: Duration,
    /// `JobRunningTimeoutSec=` of `dev-mapper-NAME.device`: the service's, and a margin.
    pub device_job: Duration,
    /// The mount unit's `TimeoutSec=` (`x-systemd.mount-timeout=`); systemd's default
    /// otherwise.
    pub mount: Option<Duration>,
}

impl Timeouts {
    /// The limits for an entry, with `members` overriding its member wait (`up --timeout`).
    pub fn of(entry: &Entry, members: Option<Duration>) -> Timeouts {
        let members = members
            .or(entry.options.device_timeout)
            .unwrap_or(DEFAULT_MEMBER_WAIT);
        let mkfs = entry.options.mkfs.then_some(MKFS_LIMIT);
        // Saturating: the parser and the command line cap every input at MAX_LIMIT, and the
        // boot path must not panic should a caller not.
        let service = members
            .saturating_add(SETUP_MARGIN)
            .saturating_add(mkfs.unwrap_or(Duration::ZERO));
        Timeouts {
            members,
            mkfs,
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

    #[test]
    fn limit() {
        assert!(check_limit(MAX_LIMIT).is_ok());
        let e = check_limit(MAX_LIMIT + Duration::from_nanos(1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "longer than pmemtab's limit of 1 week (604800s)"
        );
        assert!(check_limit(Duration::MAX).is_err());
    }
}
