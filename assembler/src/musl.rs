//! What the static musl build links in place of musl's own.
//!
//! std names threads through `pthread_setname_np`, and musl's formats a `/proc` path with
//! snprintf, which brings all of musl's printf (about 7 KB) into the initramfs binary for
//! nothing: pmem-assemble names no thread. Defining the symbol here keeps musl's out.
#![allow(unsafe_code)] // `no_mangle`: the one symbol musl's archive would otherwise supply.

use nix::libc::{c_char, c_int, pthread_t};

/// Does nothing and succeeds: the name is only ever cosmetic (ps, /proc/PID/task/TID/comm).
#[no_mangle]
pub extern "C" fn pthread_setname_np(_thread: pthread_t, _name: *const c_char) -> c_int {
    0
}
