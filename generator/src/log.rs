//! Logging as systemd's generators do: one line per message on stderr, and, when systemd
//! runs us (no terminal on stderr and /dev/kmsg writable, or `SYSTEMD_LOG_TARGET=kmsg`), the
//! same line in the kernel log with a syslog priority. `SYSTEMD_LOG_LEVEL` filters.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// syslog priorities (the subset used here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 3,
    Warning = 4,
    Notice = 5,
    Info = 6,
    Debug = 7,
}

/// LOG_DAEMON, the facility systemd logs under.
const FACILITY_DAEMON: u8 = 3 << 3;
const IDENT: &str = "pmemtab-generator";

/// systemd's `log_level_from_string`: a name or a number 0-7.
pub fn parse_level(s: &str) -> Option<Level> {
    let n: u8 = match s.trim() {
        "emerg" | "alert" | "crit" | "err" => 3,
        "warning" => 4,
        "notice" => 5,
        "info" => 6,
        "debug" => 7,
        other => other.parse().ok()?,
    };
    Some(match n {
        0..=3 => Level::Error,
        4 => Level::Warning,
        5 => Level::Notice,
        6 => Level::Info,
        7 => Level::Debug,
        _ => return None,
    })
}

pub struct Logger {
    max: Level,
    stderr: bool,
    kmsg: Option<File>,
}

impl Logger {
    /// From `SYSTEMD_LOG_LEVEL` and `SYSTEMD_LOG_TARGET` values and the kmsg device path.
    /// Targets: `console` (stderr only), `kmsg`, `null`; anything else means automatic.
    pub fn new(level: Option<&str>, target: Option<&str>, kmsg_path: &Path) -> Logger {
        let max = level.and_then(parse_level).unwrap_or(Level::Info);
        let open_kmsg = || OpenOptions::new().append(true).open(kmsg_path).ok();
        let (stderr, kmsg) = match target {
            Some("console") => (true, None),
            Some("null") => (false, None),
            Some("kmsg") | Some("journal-or-kmsg") | Some("syslog-or-kmsg") => (true, open_kmsg()),
            _ if std::io::stderr().is_terminal() => (true, None),
            _ => (true, open_kmsg()),
        };
        Logger { max, stderr, kmsg }
    }

    pub fn log(&mut self, level: Level, msg: fmt::Arguments<'_>) {
        if level > self.max {
            return;
        }
        // Write failures are ignored: logging must never stop the generator.
        if self.stderr {
            let _ = writeln!(std::io::stderr(), "{IDENT}: {msg}");
        }
        if let Some(k) = &mut self.kmsg {
            // One write per record, as /dev/kmsg requires.
            let line = format!(
                "<{}>{IDENT}[{}]: {msg}\n",
                FACILITY_DAEMON | level as u8,
                std::process::id()
            );
            let _ = k.write_all(line.as_bytes());
        }
    }

    pub fn error(&mut self, msg: fmt::Arguments<'_>) {
        self.log(Level::Error, msg)
    }
    pub fn warning(&mut self, msg: fmt::Arguments<'_>) {
        self.log(Level::Warning, msg)
    }
    pub fn info(&mut self, msg: fmt::Arguments<'_>) {
        self.log(Level::Info, msg)
    }
    pub fn debug(&mut self, msg: fmt::Arguments<'_>) {
        self.log(Level::Debug, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(parse_level("debug"), Some(Level::Debug));
        assert_eq!(parse_level("err"), Some(Level::Error));
        assert_eq!(parse_level("4"), Some(Level::Warning));
        assert_eq!(parse_level("8"), None);
        assert_eq!(parse_level("loud"), None);
    }

    #[test]
    fn kmsg_records_carry_the_priority() {
        let dir = testsupport::Scratch::new("gen-log");
        let fake = dir.join("kmsg");
        std::fs::write(&fake, "").unwrap();
        let mut log = Logger::new(Some("warning"), Some("kmsg"), &fake);
        log.warning(format_args!("w1"));
        log.info(format_args!("filtered"));
        log.error(format_args!("e1"));
        let text = std::fs::read_to_string(&fake).unwrap();
        let pid = std::process::id();
        assert_eq!(
            text,
            format!("<28>pmemtab-generator[{pid}]: w1\n<27>pmemtab-generator[{pid}]: e1\n")
        );
    }
}
