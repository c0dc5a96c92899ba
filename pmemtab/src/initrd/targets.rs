//! The kernel command lines an image will boot with, where they can be learnt: the running
//! one (`/proc/cmdline`, which is the installer's or the rescue system's when the image is
//! built from one), systemd's `/etc/kernel/cmdline` (kernel-install, BLS and UKI systems) and
//! GRUB's `GRUB_CMDLINE_LINUX` + `GRUB_CMDLINE_LINUX_DEFAULT` as grub-mkconfig reads them
//! (update-grub adds `root=UUID=` itself). The image is built for all of them at once: an
//! entry any of them names is set up by the image.

use std::path::Path;

/// The configured command line of systemd's kernel-install, under `root`.
pub const KERNEL_CMDLINE: &str = "etc/kernel/cmdline";
/// GRUB's configuration, under `root`: grub-mkconfig sources it, then `grub.d/*.cfg`.
pub const GRUB_DEFAULT: &str = "etc/default/grub";

/// A shell script that reads GRUB's configuration under the root given as `$1` as
/// grub-mkconfig does (sourcing `default/grub`, then `default/grub.d/*.cfg` in order, their
/// own output sent to stderr) and prints the line its `linux` entries get: the two variables,
/// NUL-terminated. Sourcing, not pattern matching: a drop-in may set, append to or unset the
/// variables in any way the shell allows.
pub const GRUB_CMDLINE_SCRIPT: &str = r#"r=$1
if [ -f "$r/etc/default/grub" ]; then . "$r/etc/default/grub" >&2; fi
for x in "$r"/etc/default/grub.d/*.cfg; do
    if [ -e "$x" ]; then . "$x" >&2; fi
done
printf '%s %s\0' "${GRUB_CMDLINE_LINUX-}" "${GRUB_CMDLINE_LINUX_DEFAULT-}"
"#;

/// Whether `root` has a GRUB configuration to evaluate.
pub fn has_grub(root: &Path) -> bool {
    root.join(GRUB_DEFAULT).is_file() || root.join("etc/default/grub.d").is_dir()
}

/// The command line the GRUB script printed: its text up to the NUL; `None` when the script
/// did not get that far (a drop-in that exits, an error under `set -e`).
pub fn grub_output(stdout: &[u8]) -> Option<String> {
    let end = stdout.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&stdout[..end]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// /bin/sh runs the script on a GRUB configuration with drop-ins in every form a user
    /// writes them.
    #[test]
    fn grub_configuration_as_grub_mkconfig_reads_it() {
        let d = testsupport::Scratch::new("initrd-grub");
        std::fs::create_dir_all(d.join("etc/default/grub.d")).unwrap();
        std::fs::write(
            d.join("etc/default/grub"),
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX='root=/dev/mapper/x'\necho noise\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/default/grub.d/50-a.cfg"),
            "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX rootflags=dax\"\n",
        )
        .unwrap();
        std::fs::write(
            d.join("etc/default/grub.d/60-b.cfg"),
            "true || GRUB_CMDLINE_LINUX=\nunset GRUB_CMDLINE_LINUX_DEFAULT\n",
        )
        .unwrap();
        assert!(has_grub(&d));
        let out = Command::new("/bin/sh")
            .args(["-c", GRUB_CMDLINE_SCRIPT, "sh"])
            .arg(d.path())
            .output()
            .unwrap();
        assert_eq!(
            grub_output(&out.stdout).as_deref(),
            Some("root=/dev/mapper/x rootflags=dax ")
        );
        assert_eq!(grub_output(b"cut short"), None);
        assert!(!has_grub(&d.join("nothing")));
    }
}
