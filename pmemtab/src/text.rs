//! Text between pmemtab and people or the kernel. Shown to a person, control characters are
//! made visible, so that an echoed carriage return or escape sequence can neither hide the
//! rest of a message nor drive the terminal; read from fstab-style columns, octal escapes are
//! undone.

use std::fmt::Write as _;

/// How one character is shown: itself, or an escape (`\r`, `\x1b`, `\u{85}`).
pub fn shown_char(c: char, out: &mut String) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            crate::systemd::push_hex(out, c as u8);
        }
        c if c.is_control() => {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
        c => out.push(c),
    }
}

/// `s` with every control character escaped.
pub fn escape_control(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        shown_char(c, &mut out);
    }
    out
}

/// Bytes as a person sees them: text as [`escape_control`] shows it, and every byte that is
/// not UTF-8 as `\xNN`. The one rule for what pmemtab prints of names, paths and words it did
/// not write itself (a sysfs name, a mount point, a command-line word), whatever they hold.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        let (good, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, None),
            Err(e) => {
                let (ok, tail) = rest.split_at(e.valid_up_to());
                // The prefix was just checked: from_utf8 cannot fail on it.
                let text = std::str::from_utf8(ok).unwrap_or_default();
                (text, Some((tail, e.error_len().unwrap_or(tail.len()))))
            }
        };
        for c in good.chars() {
            shown_char(c, &mut out);
        }
        let Some((tail, n)) = bad else {
            return out;
        };
        let (invalid, after) = tail.split_at(n.min(tail.len()));
        for &b in invalid {
            crate::systemd::push_hex(&mut out, b);
        }
        rest = after;
    }
}

/// A path as [`escape_bytes`] shows it.
pub fn escape_path(path: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(path.as_os_str().as_bytes())
}

/// fstab's octal escapes undone (`\040` for a space, `\134` for a backslash), as pmemtab's
/// mount-point column and the kernel's mount tables (/proc/*/mountinfo) write them. `None` for
/// a backslash not followed by three octal digits of a byte, or bytes that are not UTF-8.
pub fn decode_octal(s: &str) -> Option<String> {
    String::from_utf8(decode_octal_bytes(s.as_bytes())?).ok()
}

/// [`decode_octal`] of bytes, into bytes: the kernel's mount tables leave bytes of 0x80 and
/// above as they are, text or not.
pub fn decode_octal_bytes(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            let digits = bytes.get(i + 1..i + 4)?;
            if !digits.iter().all(|d| (b'0'..=b'7').contains(d)) {
                return None;
            }
            let v = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(u8::try_from(v).ok()?);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// A mount point in fstab's escapes, as [`decode_octal`] reads it back: blanks and
/// backslashes as octal.
pub fn encode_octal(p: &str) -> String {
    let mut s = String::with_capacity(p.len());
    for c in p.chars() {
        match c {
            ' ' | '\t' | '\n' | '\\' => {
                let _ = write!(s, "\\{:03o}", c as u32);
            }
            _ => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_visible() {
        assert_eq!(escape_control("plain é"), "plain é");
        assert_eq!(escape_control("a\rb\x1b[2J\u{85}"), "a\\rb\\x1b[2J\\u{85}");
        assert_eq!(escape_control("t\tn\n\x7f"), "t\\tn\\n\\x7f");
    }

    #[test]
    fn bytes_that_are_not_text_are_visible() {
        assert_eq!(escape_bytes(b"/media/Ger\xe4t"), "/media/Ger\\xe4t");
        assert_eq!(escape_bytes("é\t".as_bytes()), "é\\t");
        assert_eq!(escape_bytes(b"\xff\xfe"), "\\xff\\xfe");
        // A truncated sequence at the end, and one cut short in the middle.
        assert_eq!(escape_bytes(b"a\xc3"), "a\\xc3");
        assert_eq!(escape_bytes(b"\xe2\x82x"), "\\xe2\\x82x");
        assert_eq!(escape_bytes(b"\x1b[2J"), "\\x1b[2J");
    }

    #[test]
    fn octal_escapes() {
        assert_eq!(
            decode_octal("/mnt/a\\040b\\134c").as_deref(),
            Some("/mnt/a b\\c")
        );
        assert_eq!(decode_octal("/plain").as_deref(), Some("/plain"));
        assert_eq!(encode_octal("/mnt/a b\\c"), "/mnt/a\\040b\\134c");
        let odd = "/mnt/a\tb\nc\\040 d";
        assert_eq!(decode_octal(&encode_octal(odd)).as_deref(), Some(odd));
        for bad in ["/a\\04", "/a\\09x", "/a\\400", "/a\\377", "\\"] {
            assert_eq!(decode_octal(bad), None, "{bad}");
        }
    }
}
