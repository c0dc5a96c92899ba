//! Escaping for what pmemtab content passes into unit files: specifiers (`%` → `%%`) and
//! C-quoted command-line words. Unit names and which raw values a unit file can hold are
//! systemd's rules ([`crate::systemd`]); the tests here hold them against the real
//! `systemd-escape`.

pub use crate::systemd::{check_value, PathError, ValueError};

/// `%` → `%%`, for every value systemd runs through specifier expansion.
pub fn specifiers(s: &str) -> String {
    s.replace('%', "%%")
}

/// One word for `ExecStart=`/`ExecStop=`: systemd expands specifiers, then splits words with
/// quotes and C escapes. Double-quoted with `\\`, `\"`, `\'` and `\xNN` for control bytes, so
/// no content can end the word, start another, or add a line.
pub fn exec_word(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '%' => out.push_str("%%"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                crate::systemd::push_hex(&mut out, c as u8)
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A raw value for a setting parsed without C unescaping (`What=`, `Where=`, `Options=`,
/// `SourcePath=`): refused when a unit file cannot hold it, else specifier-escaped.
pub fn plain_value(s: &str) -> Result<String, ValueError> {
    check_value(s)?;
    Ok(specifiers(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::systemd::{escape as unit_name, escape_path as path};

    #[test]
    fn plain_values_are_checked_and_escaped() {
        assert_eq!(plain_value("/mnt/50% full").unwrap(), "/mnt/50%% full");
        assert_eq!(plain_value("a\nb"), Err(ValueError::Control));
    }

    #[test]
    fn exec_words_cannot_escape_their_quotes() {
        assert_eq!(exec_word("plain"), "\"plain\"");
        assert_eq!(exec_word("a\"b"), "\"a\\\"b\"");
        assert_eq!(exec_word("a\\b"), "\"a\\\\b\"");
        assert_eq!(exec_word("50%"), "\"50%%\"");
        assert_eq!(
            exec_word("l1\nExecStart=/bin/sh"),
            "\"l1\\x0aExecStart=/bin/sh\""
        );
        assert_eq!(exec_word("it's"), "\"it\\'s\"");
    }

    /// Runs the real `systemd-escape` with `extra` flags on every input, one word out each.
    fn systemd_escape(extra: &[&str], inputs: &[String]) -> Vec<String> {
        let out = std::process::Command::new("systemd-escape")
            .args(extra)
            .arg("--")
            .args(inputs)
            .output()
            .expect("systemd-escape runs (apt-get install systemd)");
        assert!(
            out.status.success(),
            "systemd-escape failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Escaped names never hold whitespace, so the space-separated output splits cleanly.
        String::from_utf8(out.stdout)
            .expect("ascii output")
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }

    /// Deterministic awkward strings: every troublesome character, alone and mixed.
    fn awkward_inputs() -> Vec<String> {
        const PIECES: [&str; 24] = [
            "a", "Z9", "-", ".", "..", "/", "//", "\\", " ", "\t", "%", "%i", ":", "_", "~", "é",
            "ü", "日本", "🙂", "\"", "'", "\n", "x-y.z", "@",
        ];
        let mut v: Vec<String> = PIECES.iter().map(|p| p.to_string()).collect();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..300 {
            let mut s = String::new();
            for _ in 0..(1 + seed % 6) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                s.push_str(PIECES[(seed >> 33) as usize % PIECES.len()]);
            }
            v.push(s);
        }
        v.extend(
            [
                "my-fast.dev",
                ".hidden",
                "a#b+c=d@e:f",
                "100% full",
                "back\\slash",
                "données",
            ]
            .map(String::from),
        );
        v
    }

    #[test]
    fn unit_name_matches_systemd_escape() {
        let inputs = awkward_inputs();
        let real = systemd_escape(&[], &inputs);
        assert_eq!(real.len(), inputs.len());
        for (input, want) in inputs.iter().zip(&real) {
            assert_eq!(&unit_name(input), want, "systemd-escape {input:?}");
        }
    }

    #[test]
    fn path_matches_systemd_escape_path() {
        // Absolute, normalized paths: the ones a mount point can be.
        let inputs: Vec<String> = awkward_inputs()
            .into_iter()
            .map(|s| format!("/{s}"))
            .filter(|p| crate::systemd::simplify_path(p).is_ok())
            .chain(["/", "//", "/mnt//a/./b/", "/.x/.y", "/mnt/my-fast disk"].map(String::from))
            .collect();
        assert!(inputs.len() > 250, "too few path inputs: {}", inputs.len());
        let real = systemd_escape(&["--path"], &inputs);
        assert_eq!(real.len(), inputs.len());
        for (input, want) in inputs.iter().zip(&real) {
            assert_eq!(
                &path(input).unwrap(),
                want,
                "systemd-escape --path {input:?}"
            );
        }
    }

    /// Dependencies named in `x-systemd.requires=` and its kin are mangled as
    /// `systemd-escape --mangle` mangles (fstab-generator's `unit_name_mangle_with_suffix`),
    /// except that fstab-generator adds `.mount` where systemd-escape adds `.service`.
    #[test]
    fn dependency_names_match_systemd_escape_mangle() {
        let inputs: Vec<String> = awkward_inputs()
            .into_iter()
            .chain(
                [
                    "foo.service",
                    "getty@tty1.service",
                    "foo",
                    "/srv/data",
                    "/dev/disk/by-label/x",
                    "x/y.target",
                    "a:b",
                    "100%",
                ]
                .map(String::from),
            )
            .filter(|s| !s.contains(|c: char| c.is_whitespace() || c == '"' || c == '\''))
            .filter(|s| crate::systemd::mangle_dependency(s).is_ok())
            .collect();
        assert!(inputs.len() > 100, "too few inputs: {}", inputs.len());
        let real = systemd_escape(&["--mangle"], &inputs);
        assert_eq!(real.len(), inputs.len());
        let mut suffixed = 0;
        for (input, real) in inputs.iter().zip(&real) {
            let ours = crate::systemd::mangle_dependency(input).unwrap();
            let typed = crate::systemd::is_unit_name(input) || input.starts_with('/');
            let want = match real.strip_suffix(".service") {
                Some(stem) if !typed && ours.ends_with(".mount") => {
                    suffixed += 1;
                    format!("{stem}.mount")
                }
                _ => real.clone(),
            };
            assert_eq!(ours, want, "systemd-escape --mangle {input:?}");
        }
        assert!(suffixed > 50, "only {suffixed} names got a suffix");
    }

    #[test]
    fn paths_systemd_escape_refuses_are_refused() {
        for bad in ["/a/../b", "/..", "/x/.."] {
            let st = std::process::Command::new("systemd-escape")
                .args(["--path", "--", bad])
                .output()
                .unwrap();
            assert!(!st.status.success(), "systemd-escape accepted {bad}");
            assert!(path(bad).is_err(), "{bad} accepted");
        }
    }

    /// systemd itself unquotes `ExecStart=` words: an executable whose name holds awkward
    /// characters must be found under exactly that name by `systemd-analyze verify` (it checks
    /// each command's executable), and a name one character off must not. systemd refuses
    /// executable paths with `\\`, quotes or control characters outright, so those are only
    /// covered by the unit tests above (they can occur only in arguments).
    #[test]
    fn exec_word_round_trips_through_systemd() {
        use std::os::unix::fs::PermissionsExt;
        let dir = testsupport::Scratch::new("gen-exec");
        let names: Vec<String> = awkward_inputs()
            .into_iter()
            .filter(|s| {
                !s.contains(|c: char| {
                    c == '/' || c == '\\' || c == '"' || c == '\'' || c.is_control()
                })
            })
            .map(|s| format!("x{s}"))
            .take(120)
            .collect();
        assert!(
            names.len() >= 60
                && names.iter().any(|n| n.contains('%'))
                && names.iter().any(|n| n.contains(' '))
        );
        let mut unit = String::from("[Service]\nType=oneshot\n");
        for n in &names {
            let exe = dir.join(n);
            std::fs::write(&exe, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            unit.push_str(&format!(
                "ExecStartPre={} {}\n",
                exec_word(&exe.display().to_string()),
                exec_word(n)
            ));
        }
        unit.push_str("ExecStart=/bin/true\n");
        let verify = |text: &str| {
            let f = dir.join("t.service");
            std::fs::write(&f, text).unwrap();
            let o = std::process::Command::new("systemd-analyze")
                .args(["verify", "--man=no", "--generators=false"])
                .arg(&f)
                .env("SYSTEMD_LOG_TARGET", "console")
                .output()
                .expect("systemd-analyze runs (apt-get install systemd)");
            (
                o.status.success(),
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&o.stdout),
                    String::from_utf8_lossy(&o.stderr)
                ),
            )
        };
        let (ok, err) = verify(&unit);
        assert!(
            ok && err.is_empty(),
            "systemd did not find the executables:\n{err}"
        );
        // Control: a name that differs by one character is reported missing.
        let wrong = format!(
            "[Service]\nType=oneshot\nExecStart={}\n",
            exec_word(&dir.join("x%%").display().to_string())
        );
        let (ok, err) = verify(&wrong);
        assert!(
            !ok && err.contains("not executable"),
            "a missing executable passed: {err}"
        );
    }
}
