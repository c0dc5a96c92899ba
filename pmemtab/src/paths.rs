//! Paths both binaries must agree on: the generator writes them into units, pmem-assemble
//! creates them.

use std::path::{Path, PathBuf};

/// The run-time directory (`/run`); pmem-assemble's `--run` replaces it in tests.
pub const RUN_DIR: &str = "/run";

/// Where `pmem-assemble up` links a `single` entry's block device, relative to [`RUN_DIR`].
/// No udev link names every kind of member (`name=`, `addr=`, a raw uuid), so the mount unit
/// the generator writes mounts this link. It is outside `/dev` so that systemd waits for no
/// `.device` unit that udev never announces; the mount is ordered after the service instead.
pub const BY_NAME_DIR: &str = "pmemtab/by-name";

/// Where `pmem-assemble up` publishes the nodes a system-ram entry onlined, one
/// `<name>.env` per entry, relative to [`RUN_DIR`]; `down` removes it.
pub const KMEM_ENV_DIR: &str = "pmemtab/kmem";

/// Every node all system-ram entries onlined, in one file for services
/// (`EnvironmentFile=-/run/pmemtab/kmem.env`), relative to [`RUN_DIR`]; absent when none is up.
pub const KMEM_ENV: &str = "pmemtab/kmem.env";

/// Where `pmem-assemble up` records the CXL regions it created, one file per entry (region
/// name and serials), relative to [`RUN_DIR`]: `down` tears down only those. Under /run, so
/// the record goes at reboot with the regions themselves.
pub const CXL_RECORD_DIR: &str = "pmemtab/cxl";

/// `<run>/pmemtab/kmem/<name>.env`.
pub fn kmem_env(run: &Path, name: &str) -> PathBuf {
    run.join(KMEM_ENV_DIR).join(format!("{name}.env"))
}

/// `<run>/pmemtab/by-name/<name>`.
pub fn by_name_link(run: &Path, name: &str) -> PathBuf {
    run.join(BY_NAME_DIR).join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_under_the_run_dir() {
        assert_eq!(
            by_name_link(Path::new(RUN_DIR), "solo"),
            Path::new("/run/pmemtab/by-name/solo")
        );
        assert_eq!(
            by_name_link(Path::new("/tmp/r"), "a.b"),
            Path::new("/tmp/r/pmemtab/by-name/a.b")
        );
    }
}
