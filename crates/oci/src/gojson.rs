//! The byte layout of Go's `encoding/json` `Marshal`, which cosign and go-containerregistry
//! use for every document this crate writes: compact, struct fields in declaration order, map
//! keys sorted, HTML-safe string escaping, numbers as `float64`.

use std::fmt::Write as _;

use serde_json::Value;

/// Appends `s` as a Go JSON string (encoding/json `appendString` with `escapeHTML`).
pub(crate) fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Go escapes the other control characters, the HTML-significant `<`, `>`, `&`, and
            // U+2028/U+2029 (JSONP safety) as \u00XX with lowercase hex.
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                let b = c as u32;
                out.push_str("\\u00");
                out.push(char::from(HEX[((b >> 4) & 0xf) as usize]));
                out.push(char::from(HEX[(b & 0xf) as usize]));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Appends `"key":` in Go's escaping.
pub(crate) fn write_key(out: &mut String, key: &str) {
    write_str(out, key);
    out.push(':');
}

/// Appends a `float64` the way Go's `floatEncoder` does for 64-bit floats.
fn write_f64(out: &mut String, f: f64) {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go: strconv 'e' with shortest digits, exponent with sign and at least two digits,
        // then "e-07" is cleaned up to "e-7".
        let formatted = format!("{f:e}");
        let (mantissa, exponent) = formatted.split_once('e').unwrap_or((&formatted, "0"));
        out.push_str(mantissa);
        out.push('e');
        match exponent.strip_prefix('-') {
            Some(negative) => {
                out.push('-');
                out.push_str(negative);
            }
            None => {
                out.push('+');
                if exponent.len() < 2 {
                    out.push('0');
                }
                out.push_str(exponent);
            }
        }
    } else {
        // Rust's Display for f64 is the shortest round-trip decimal without exponent, as is
        // Go's 'f' format with precision -1.
        let _ = write!(out, "{f}");
    }
}

/// Appends a JSON value as Go marshals the `interface{}` it would unmarshal into: objects as
/// `map[string]interface{}` (sorted keys), numbers as `float64`.
pub(crate) fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            // Integers that float64 holds exactly print the same either way.
            (Some(u), _) if u <= 1 << 53 => {
                let _ = write!(out, "{u}");
            }
            (_, Some(i)) if i.unsigned_abs() <= 1 << 53 => {
                let _ = write!(out, "{i}");
            }
            _ => write_f64(out, n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_key(out, key);
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

/// Appends a `map[string]string` (sorted keys).
pub(crate) fn write_string_map(out: &mut String, map: &std::collections::BTreeMap<String, String>) {
    out.push('{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_key(out, key);
        write_str(out, value);
    }
    out.push('}');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    struct Case {
        name: &'static str,
        input: &'static str,
        want: &'static str,
    }

    const STRINGS: &[Case] = &[
        Case {
            name: "plain",
            input: "abc",
            want: r#""abc""#,
        },
        Case {
            name: "html",
            input: "<a&b>",
            want: r#""\u003ca\u0026b\u003e""#,
        },
        Case {
            name: "quote and backslash",
            input: "\"\\",
            want: r#""\"\\""#,
        },
        Case {
            name: "short escapes",
            input: "\u{8}\u{c}\n\r\t",
            want: r#""\b\f\n\r\t""#,
        },
        Case {
            name: "other control",
            input: "\u{1}\u{1f}",
            want: r#""\u0001\u001f""#,
        },
        Case {
            name: "line separators",
            input: "\u{2028}\u{2029}",
            want: r#""\u2028\u2029""#,
        },
        Case {
            name: "non ascii kept",
            input: "é€",
            want: "\"é€\"",
        },
    ];

    #[test]
    fn escapes_strings_as_go_table() {
        for case in STRINGS {
            let mut out = String::new();
            write_str(&mut out, case.input);
            assert_eq!(out, case.want, "{}", case.name);
        }
    }

    const NUMBERS: &[Case] = &[
        Case {
            name: "integer",
            input: "1657296609",
            want: "1657296609",
        },
        Case {
            name: "negative",
            input: "-5",
            want: "-5",
        },
        Case {
            name: "fraction",
            input: "0.5",
            want: "0.5",
        },
        Case {
            name: "large",
            input: "1e21",
            want: "1e+21",
        },
        Case {
            name: "small",
            input: "1e-7",
            want: "1e-7",
        },
        Case {
            name: "beyond float64 precision",
            input: "9007199254740993",
            want: "9007199254740992",
        },
    ];

    #[test]
    fn writes_numbers_as_go_float64_table() {
        for case in NUMBERS {
            let value: Value = serde_json::from_str(case.input).expect("test number parses");
            let mut out = String::new();
            write_value(&mut out, &value);
            assert_eq!(out, case.want, "{}", case.name);
        }
    }
}
