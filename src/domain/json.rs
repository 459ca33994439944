//! Parsing JSON arguments with the limits of `limits.rs`. Pure Rust.

use crate::error::{Error, Result};
use crate::limits;
use serde_json::Value;

/// Parses a JSON argument: at most `MAX_JSON_BYTES`, nested at most `MAX_DEPTH` deep.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    if bytes.len() > limits::MAX_JSON_BYTES {
        return Err(Error::Limit(format!(
            "JSON argument larger than {} bytes",
            limits::MAX_JSON_BYTES
        )));
    }
    // serde_json stops at 128 levels by itself, so the parse cannot overflow the stack.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            too_deep()
        } else if let Some(hint) = not_json_hint(bytes, &e) {
            Error::Json(hint)
        } else {
            Error::Json(format!(
                "malformed JSON at line {} column {}",
                e.line(),
                e.column()
            ))
        }
    })?;
    if depth(&v) > limits::MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(v)
}

/// The one depth rule for what the module stores: a document nested at most `MAX_DEPTH` levels,
/// the same rule `parse` applies to a whole document given to ACCOUNT.CREATE, so whatever the
/// module stored (a LOGOUT entry's document too) can be created again.
pub fn check_depth(doc: &Value) -> Result<()> {
    if depth(doc) > limits::MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(())
}

/// A value that cannot even begin JSON (a bare word such as `Aragorn`, an option such as `NX`)
/// is most often a string written without quotes: the reply says so, with the value quoted.
fn not_json_hint(bytes: &[u8], e: &serde_json::Error) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let bare = e.line() == 1
        && e.column() == 1
        && e.to_string().starts_with("expected value")
        && text.chars().count() <= 64
        && !text.is_empty()
        && text.chars().all(|c| !c.is_control());
    if !bare {
        return None;
    }
    Some(format!(
        "value must be JSON: quote strings ('{}')",
        serde_json::to_string(text).ok()?
    ))
}

fn too_deep() -> Error {
    Error::Limit(format!(
        "JSON nested deeper than {} levels",
        limits::MAX_DEPTH
    ))
}

/// Nesting depth: 0 for a scalar, 1 for `[]` or `{}`, ...
pub fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(o) => 1 + o.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_redisjson_prints_them() {
        let v: Value = serde_json::from_str(
            "[1e20,-7.882026215383356e-10,0.1,1.0,-0.0,1e300,5e-324,123456789012345680000.0,3]",
        )
        .unwrap();
        let text = to_string(&v);
        assert_eq!(
            text,
            "[1e20,-7.882026215383356e-10,0.1,1.0,-0.0,1e300,5e-324,1.2345678901234568e20,3]"
        );
        assert_eq!(text_len(&v), text.len());
        // Parsed exactly (float_roundtrip): the text reads back to the same doubles.
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
    }

    #[test]
    fn malformed_json_names_the_place() {
        assert_eq!(
            parse(b"{\"a\":").unwrap_err().to_string(),
            "INVALIDJSON malformed JSON at line 1 column 5"
        );
        assert_eq!(
            parse(b"Aragorn").unwrap_err().to_string(),
            r#"INVALIDJSON value must be JSON: quote strings ('"Aragorn"')"#
        );
        assert_eq!(
            parse(b"{").unwrap_err().to_string(),
            "INVALIDJSON malformed JSON at line 1 column 1"
        );
        assert_eq!(parse(b"").unwrap_err().code(), "INVALIDJSON");
        assert_eq!(parse(&[0xff, 0xfe]).unwrap_err().code(), "INVALIDJSON");
        assert_eq!(parse(b"{} x").unwrap_err().code(), "INVALIDJSON");
    }

    #[test]
    fn depth_and_size_limits() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(
            parse(deep.as_bytes()).unwrap_err().to_string(),
            "LIMIT JSON nested deeper than 32 levels"
        );
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(parse(ok.as_bytes()).is_ok());
        let very_deep = "[".repeat(100_000);
        assert_eq!(
            parse(very_deep.as_bytes()).unwrap_err().to_string(),
            "LIMIT JSON nested deeper than 32 levels"
        );
        let big = vec![b' '; limits::MAX_JSON_BYTES + 1];
        assert_eq!(parse(&big).unwrap_err().code(), "LIMIT");
    }
}

/// Compact JSON as RedisJSON 2.8 prints it: doubles by ryu's shortest round-trip form (`1e20`,
/// `0.1`, `1.0`), everything else as serde_json's compact printer does.
struct RedisJsonFloats;

impl serde_json::ser::Formatter for RedisJsonFloats {
    fn write_f64<W: ?Sized + std::io::Write>(&mut self, w: &mut W, x: f64) -> std::io::Result<()> {
        if x.is_finite() {
            w.write_all(ryu::Buffer::new().format_finite(x).as_bytes())
        } else {
            w.write_all(b"null")
        }
    }

    fn write_f32<W: ?Sized + std::io::Write>(&mut self, w: &mut W, x: f32) -> std::io::Result<()> {
        self.write_f64(w, f64::from(x))
    }
}

/// Writes `v` as compact JSON text, floats as RedisJSON prints them.
pub fn write<W: std::io::Write>(w: W, v: &impl serde::Serialize) {
    let mut ser = serde_json::Serializer::with_formatter(w, RedisJsonFloats);
    // Values (maps with string keys, finite or null numbers) always serialize; the writers used
    // here (a Vec, a counter) never fail.
    let _ = v.serialize(&mut ser);
}

/// `v` as compact JSON text (floats as RedisJSON prints them).
pub fn to_vec(v: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    write(&mut out, v);
    out
}

/// `to_vec` as a String.
pub fn to_string(v: &impl serde::Serialize) -> String {
    // serde_json writes valid UTF-8.
    String::from_utf8(to_vec(v)).unwrap_or_default()
}

/// The length of `to_vec(v)`, counted without building the text.
pub fn text_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    write(&mut c, v);
    c.0
}
