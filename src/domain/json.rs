//! Parsing JSON arguments with the limits of `limits.rs`. Pure Rust.

use crate::error::{Error, Result};
use crate::limits;
use serde_json::Value;

/// Parses a JSON argument: at most `MAX_JSON_BYTES`, nested at most `MAX_DEPTH` deep.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    if bytes.len() > limits::MAX_JSON_BYTES {
        return Err(Error::Limit(format!("JSON argument larger than {} bytes", limits::MAX_JSON_BYTES)));
    }
    // serde_json stops at 128 levels by itself, so the parse cannot overflow the stack.
    let v: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.to_string().contains("recursion limit") {
            too_deep()
        } else {
            Error::Json(format!("malformed JSON at line {} column {}", e.line(), e.column()))
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

fn too_deep() -> Error {
    Error::Limit(format!("JSON nested deeper than {} levels", limits::MAX_DEPTH))
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
    fn malformed_json_names_the_place() {
        assert_eq!(parse(b"{\"a\":").unwrap_err().to_string(), "INVALIDJSON malformed JSON at line 1 column 5");
        assert_eq!(parse(b"").unwrap_err().code(), "INVALIDJSON");
        assert_eq!(parse(&[0xff, 0xfe]).unwrap_err().code(), "INVALIDJSON");
        assert_eq!(parse(b"{} x").unwrap_err().code(), "INVALIDJSON");
    }

    #[test]
    fn depth_and_size_limits() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(parse(deep.as_bytes()).unwrap_err().to_string(), "LIMIT JSON nested deeper than 32 levels");
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert!(parse(ok.as_bytes()).is_ok());
        let very_deep = "[".repeat(100_000);
        assert_eq!(parse(very_deep.as_bytes()).unwrap_err().to_string(), "LIMIT JSON nested deeper than 32 levels");
        let big = vec![b' '; limits::MAX_JSON_BYTES + 1];
        assert_eq!(parse(&big).unwrap_err().code(), "LIMIT");
    }
}

/// The length of a value's compact JSON text, counted without building the text.
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
    // Writing a Value into a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}
