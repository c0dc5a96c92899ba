//! One module per command. Shared loading (pmemtab + namespaces + plans) lives in `common`.

pub mod check;
pub mod common;
pub mod down;
pub mod import;
pub mod initramfs;
pub mod list;
pub mod mount;
pub mod status;
pub mod table;
pub mod udev_member;
pub mod up;
pub mod verify_dax;
