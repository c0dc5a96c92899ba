//! Reading sysfs attributes: the one reader, capped, and the parsers for the numbers the
//! kernel writes in them. The namespace scanner, the firmware memory map and pmem-assemble's
//! kmem and node code all read through here.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

/// sysfs attributes fit in one page; anything longer is not sysfs and is cut here so a bad
/// fixture or a FIFO-like file cannot make us read without end.
pub const MAX_ATTR_BYTES: u64 = 64 * 1024;

/// An attribute's bytes, at most [`MAX_ATTR_BYTES`] of them.
pub fn read_bytes(path: &Path) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    fs::File::open(path)?
        .take(MAX_ATTR_BYTES)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

/// An attribute's text as the kernel wrote it, trailing newline included; bytes that are not
/// UTF-8 become U+FFFD, so that the parser, not the reader, says what is wrong with them.
pub fn read(path: &Path) -> io::Result<String> {
    read_bytes(path).map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// [`read`] without the kernel's trailing newline.
pub fn read_line(path: &Path) -> io::Result<String> {
    let mut text = read(path)?;
    if text.ends_with('\n') {
        text.pop();
    }
    Ok(text)
}

/// Unsigned decimal, surrounding whitespace allowed; no sign, no empty string.
pub fn parse_dec(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `0x100a00000` (the kernel's `%#llx`; zero prints as `0`), or hexadecimal without `0x`
/// (`block_size_bytes`).
pub fn parse_hex(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex() {
        assert_eq!(parse_hex("0x100a00000\n"), Some(0x1_00a0_0000));
        assert_eq!(parse_hex("0x28000000"), Some(0x2800_0000));
        assert_eq!(parse_hex("8000000\n"), Some(0x800_0000));
        assert_eq!(parse_hex("0"), Some(0));
        assert_eq!(parse_hex("0xffffffffffffffff"), Some(u64::MAX));
        assert_eq!(parse_hex("0x1ffffffffffffffff"), None);
        assert_eq!(parse_hex("0x"), None);
        assert_eq!(parse_hex(""), None);
        assert_eq!(parse_hex("0x+1"), None);
        assert_eq!(parse_hex("0xg0"), None);
        assert_eq!(parse_hex("-0x1"), None);
    }

    #[test]
    fn dec() {
        assert_eq!(parse_dec("536870912\n"), Some(536_870_912));
        assert_eq!(parse_dec("+5"), None);
        assert_eq!(parse_dec("-1"), None);
        assert_eq!(parse_dec(""), None);
        assert_eq!(parse_dec("18446744073709551616"), None);
    }

    #[test]
    fn reads_are_capped() {
        let dir = testsupport::Scratch::new("sysfs");
        let f = dir.join("attr");
        fs::write(&f, vec![b'7'; 200_000]).unwrap();
        assert_eq!(read(&f).unwrap().len() as u64, MAX_ATTR_BYTES);
        fs::write(&f, b"0x10\n").unwrap();
        assert_eq!(read(&f).unwrap(), "0x10\n");
        assert_eq!(read_line(&f).unwrap(), "0x10");
        fs::write(&f, b"\xff\n").unwrap();
        assert_eq!(read_line(&f).unwrap(), "\u{fffd}");
    }
}
