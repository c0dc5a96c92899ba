//! A crash that says what it is. The static binary makes a panic execute `ud2` at once
//! (build-static's `-Cpanic=immediate-abort`), which ends the process with SIGILL and no word;
//! a bad memory access or an abort is as silent. At boot that leaves a failed unit and nothing
//! naming pmemtab, so [`install`] catches those signals and the handler writes one line to
//! stderr (the journal and the console have it), naming the command [`running`] recorded, and
//! exits with [`STATUS`] (documented in pmem-assemble(8) EXIT STATUS).
//!
//! Unsafe code is allowed here, as in `dm`: installing a handler with sigaction(2) is unsafe,
//! and so are the raw write(2) and _exit(2) the handler may use. A signal handler may only do
//! what is async-signal-safe: it copies bytes into a buffer on its stack, makes one write(2)
//! and calls _exit(2): no allocation, no formatting, no lock.
#![allow(unsafe_code)]

use nix::libc;
use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::OnceLock;

/// The exit status of an internal error: EX_SOFTWARE of sysexits.h, which systemd shows as
/// `status=70/SOFTWARE`.
pub const STATUS: i32 = 70;

/// The signals an internal error ends in, with their names: SIGILL (a panic), SIGABRT (an
/// abort), SIGSEGV and SIGBUS (a bad memory access, a stack overflow).
const SIGNALS: [(Signal, &str); 4] = [
    (Signal::SIGILL, "SIGILL"),
    (Signal::SIGABRT, "SIGABRT"),
    (Signal::SIGSEGV, "SIGSEGV"),
    (Signal::SIGBUS, "SIGBUS"),
];

/// The command being run, for the line; unset while the command line is parsed.
static COMMAND: OnceLock<&'static str> = OnceLock::new();

/// Installs the handler for [`SIGNALS`]. On the alternate stack std sets up for stack
/// overflows, so that one is reported too; reset to the default action when it runs, so a
/// fault in the handler itself still ends the process.
pub fn install() {
    let action = SigAction::new(
        SigHandler::Handler(on_crash),
        SaFlags::SA_ONSTACK | SaFlags::SA_RESETHAND,
        SigSet::empty(),
    );
    for (signal, _) in SIGNALS {
        // SAFETY: on_crash does only async-signal-safe things (see the module comment).
        // Failing to install it leaves the default action: a silent crash, as without it.
        let _ = unsafe { sigaction(signal, &action) };
    }
}

/// Records the command (`up`, `down`, ...) the crash line names.
pub fn running(command: &'static str) {
    let _ = COMMAND.set(command);
}

extern "C" fn on_crash(signal: libc::c_int) {
    let mut buf = [0u8; 256];
    let len = line(&mut buf, signal, COMMAND.get().copied());
    let text = buf.get(..len).unwrap_or(&buf);
    // SAFETY: write(2) of a buffer we own, then _exit(2): both async-signal-safe. Nothing is
    // left to do when the write fails.
    unsafe {
        libc::write(2, text.as_ptr().cast(), text.len());
        libc::_exit(STATUS);
    }
}

/// Composes the crash line into `buf` by copying bytes (a signal handler may not allocate or
/// format); returns its length. The line always ends in a newline.
fn line(buf: &mut [u8], signal: libc::c_int, command: Option<&str>) -> usize {
    let name = SIGNALS
        .iter()
        .find(|(s, _)| *s as libc::c_int == signal)
        .map_or("a signal", |(_, n)| *n);
    let during = match command {
        Some(c) => [" during '", c, "'"],
        None => [" while reading its command line", "", ""],
    };
    let parts = [
        "pmem-assemble: internal error (",
        name,
        ")",
        during[0],
        during[1],
        during[2],
        ": this is a bug in pmem-assemble, please report it\n",
    ];
    let mut len = 0;
    for b in parts.iter().flat_map(|p| p.bytes()) {
        let Some(slot) = buf.get_mut(len) else { break };
        *slot = b;
        len += 1;
    }
    if let Some(last) = buf.get_mut(len.saturating_sub(1)) {
        *last = b'\n';
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(signal: Signal, command: Option<&str>, room: usize) -> String {
        let mut buf = vec![0u8; room];
        let len = line(&mut buf, signal as libc::c_int, command);
        String::from_utf8_lossy(&buf[..len]).into_owned()
    }

    #[test]
    fn names_the_tool_the_signal_and_the_command() {
        assert_eq!(
            text(Signal::SIGILL, Some("up"), 256),
            "pmem-assemble: internal error (SIGILL) during 'up': this is a bug in pmem-assemble, please report it\n"
        );
        assert_eq!(
            text(Signal::SIGSEGV, None, 256),
            "pmem-assemble: internal error (SIGSEGV) while reading its command line: this is a bug in pmem-assemble, please report it\n"
        );
    }

    #[test]
    fn an_unknown_signal_and_a_short_buffer_still_give_one_line() {
        assert!(text(Signal::SIGUSR1, Some("down"), 256).contains("(a signal) during 'down'"));
        let cut = text(Signal::SIGBUS, Some("verify-dax"), 40);
        assert_eq!(cut.len(), 40);
        assert!(cut.starts_with("pmem-assemble: internal error (SIGBUS)"));
        assert!(
            cut.ends_with('\n') && cut.matches('\n').count() == 1,
            "{cut:?}"
        );
    }
}
