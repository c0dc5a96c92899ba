//! The kernel command lines an image will boot with, where they can be learnt: the running
//! one (`/proc/cmdline`, which is the installer's or the rescue system's when the image is
//! built from one), systemd's `/etc/kernel/cmdline` (kernel-install, BLS and UKI systems) and
//! GRUB's `GRUB_CMDLINE_LINUX` + `GRUB_CMDLINE_LINUX_DEFAULT` as grub-mkconfig reads them
//! ([`crate::grubcfg`]; update-grub adds `root=UUID=` itself). The image is built for all of them at once: an
//! entry any of them names is set up by the image.

/// The configured command line of systemd's kernel-install, under `root`.
pub const KERNEL_CMDLINE: &str = "etc/kernel/cmdline";
