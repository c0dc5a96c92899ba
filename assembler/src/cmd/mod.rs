//! One module per command. Shared loading (pmemtab + namespaces + plans) lives in `common`.
//! The commands only a booted system runs are the `host` feature's (see Cargo.toml).

#[cfg(feature = "host")]
pub mod check;
pub mod common;
pub mod down;
#[cfg(feature = "host")]
pub mod import;
#[cfg(feature = "host")]
pub mod initramfs;
#[cfg(feature = "host")]
pub mod list;
pub mod mount;
#[cfg(feature = "host")]
pub mod status;
#[cfg(feature = "host")]
pub mod table;
pub mod udev_member;
pub mod up;
pub mod verify_dax;
