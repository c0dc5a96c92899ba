//! A minimal JSON writer: enough for `list --json` and `status --json` without pulling serde
//! into a boot binary.

use std::fmt::Write as _;

/// A JSON value built by the commands.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Num(u64),
    Int(i64),
    Str(String),
    Arr(Vec<Json>),
    /// Keys keep their insertion order, like ndctl's output.
    Obj(Vec<(String, Json)>),
}

impl Json {
    pub fn obj() -> Json {
        Json::Obj(Vec::new())
    }

    /// Adds a key (builder style); `None` values are left out, as ndctl leaves out absent fields.
    pub fn with(mut self, key: &str, value: impl Into<Option<Json>>) -> Json {
        if let (Json::Obj(fields), Some(v)) = (&mut self, value.into()) {
            fields.push((key.to_string(), v));
        }
        self
    }

    /// Pretty-printed with two-space indents and a trailing newline.
    pub fn pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, indent: usize) {
        let pad = |n: usize| "  ".repeat(n);
        match self {
            Json::Null => out.push_str("null"),
            Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Json::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) if items.is_empty() => out.push_str("[]"),
            Json::Obj(fields) if fields.is_empty() => out.push_str("{}"),
            Json::Arr(items) => {
                out.push_str("[\n");
                for (i, item) in items.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    item.write(out, indent + 1);
                    out.push_str(if i + 1 < items.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push(']');
            }
            Json::Obj(fields) => {
                out.push_str("{\n");
                for (i, (k, v)) in fields.iter().enumerate() {
                    out.push_str(&pad(indent + 1));
                    write_str(out, k);
                    out.push_str(": ");
                    v.write(out, indent + 1);
                    out.push_str(if i + 1 < fields.len() { ",\n" } else { "\n" });
                }
                out.push_str(&pad(indent));
                out.push('}');
            }
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

impl From<&str> for Json {
    fn from(s: &str) -> Json {
        Json::Str(s.to_string())
    }
}

impl From<String> for Json {
    fn from(s: String) -> Json {
        Json::Str(s)
    }
}

impl From<u64> for Json {
    fn from(n: u64) -> Json {
        Json::Num(n)
    }
}

impl From<bool> for Json {
    fn from(b: bool) -> Json {
        Json::Bool(b)
    }
}

impl From<i32> for Json {
    fn from(n: i32) -> Json {
        Json::Int(i64::from(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_layout() {
        let j = Json::obj()
            .with("name", Json::from("a\"b\\c\n\u{1}é"))
            .with("absent", None)
            .with("n", Json::from(5u64))
            .with("neg", Json::from(-1i32))
            .with("list", Json::Arr(vec![Json::from(true), Json::Null]))
            .with("empty", Json::Arr(vec![]));
        assert_eq!(
            j.pretty(),
            "{\n  \"name\": \"a\\\"b\\\\c\\n\\u0001é\",\n  \"n\": 5,\n  \"neg\": -1,\n  \"list\": [\n    true,\n    null\n  ],\n  \"empty\": []\n}\n"
        );
    }
}
