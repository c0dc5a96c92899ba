//! Showing text from pmemtab, the command line or the system to a person: control characters
//! are made visible, so that an echoed carriage return or escape sequence can neither hide
//! the rest of a message nor drive the terminal.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_visible() {
        assert_eq!(escape_control("plain é"), "plain é");
        assert_eq!(escape_control("a\rb\x1b[2J\u{85}"), "a\\rb\\x1b[2J\\u{85}");
        assert_eq!(escape_control("t\tn\n\x7f"), "t\\tn\\n\\x7f");
    }
}
