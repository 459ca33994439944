//! A zero-allocation reader of JSON text, for validating a section that RedisJSON serialized
//! (`vitals::Source` over the text itself: members are found by scanning, nothing is built).
//!
//! Reading a section as one string costs RedisJSON one serialization, where walking it with
//! the shared API's key iterator costs two allocations per field. The text is expected to be
//! RedisJSON's compact output, but any input is safe: whatever is not well-formed reads as
//! missing members or `Scalar::Other`, which validation turns into an error, never a panic.
//! Numbers read as `serde_json::Value` reads them (`vitals::Source` for `&Value`): an integer
//! that fits i64 is `Int`, one that fits only u64 is `Other`, any other number is `Float`.
//! Member names are given as written, escapes not decoded: the names the schema knows have no
//! character a serializer escapes, so a name with an escape is unknown either way.

use crate::vitals::{parse_i64, Scalar, Source};

/// One JSON value as text.
#[derive(Clone, Copy, Debug)]
pub struct Text<'a>(&'a [u8]);

impl<'a> Text<'a> {
    pub fn new(text: &'a [u8]) -> Text<'a> {
        Text(trim(text))
    }

    /// The value's text (a part of the text it was read from).
    pub fn bytes(self) -> &'a [u8] {
        self.0
    }
}

fn trim(t: &[u8]) -> &[u8] {
    let start = t
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(t.len());
    let end = t
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &t[start..end]
}

fn skip_ws(t: &[u8], mut i: usize) -> usize {
    while t.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end of the string whose opening quote is at `i` (the index after its closing quote).
fn string_end(t: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        match t.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// The end of the value that starts at `i`.
fn value_end(t: &[u8], i: usize) -> Option<usize> {
    match t.get(i)? {
        b'"' => string_end(t, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match t.get(j)? {
                    b'"' => {
                        j = string_end(t, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let n = t[i..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace());
            Some(n.map_or(t.len(), |n| i + n))
        }
    }
}

impl Source for Text<'_> {
    fn scalar(self) -> Scalar {
        let t = self.0;
        if t == b"null" {
            return Scalar::Null;
        }
        if !matches!(t.first(), Some(b'-' | b'0'..=b'9')) {
            return Scalar::Other;
        }
        if !t.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
            if let Some(n) = parse_i64(t) {
                return Scalar::Int(n);
            }
            if t[0] != b'-'
                && std::str::from_utf8(t)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .is_some()
            {
                return Scalar::Other;
            }
        }
        match std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
        {
            Some(x) if x.is_finite() => Scalar::Float(x),
            _ => Scalar::Other,
        }
    }

    fn is_object(self) -> bool {
        self.0.first() == Some(&b'{') && self.0.last() == Some(&b'}')
    }

    fn is_null(self) -> bool {
        self.0 == b"null"
    }

    fn each(self, f: &mut dyn FnMut(&[u8], Self) -> bool) {
        if !self.is_object() {
            return;
        }
        let t = self.0;
        let mut i = skip_ws(t, 1);
        while t.get(i) == Some(&b'"') {
            let Some(kend) = string_end(t, i) else { return };
            let key = &t[i + 1..kend - 1];
            i = skip_ws(t, kend);
            if t.get(i) != Some(&b':') {
                return;
            }
            i = skip_ws(t, i + 1);
            let Some(vend) = value_end(t, i) else { return };
            if !f(key, Text(&t[i..vend])) {
                return;
            }
            i = skip_ws(t, vend);
            match t.get(i) {
                Some(b',') => i = skip_ws(t, i + 1),
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vitals;
    use serde_json::{json, Value};

    /// What a `Source` shows of a value, as a Value: the scalars as `Scalar`, the members of
    /// objects in order. (`Text` gives member names as they are written, escapes included:
    /// they are decoded here to compare.)
    fn seen<S: Source>(s: S) -> Value {
        if s.is_object() {
            let mut members = Vec::new();
            s.each(&mut |k, v| {
                let raw = String::from_utf8_lossy(k);
                let name: String =
                    serde_json::from_str(&format!("\"{raw}\"")).unwrap_or_else(|_| raw.to_string());
                members.push(json!([name, seen(v)]));
                true
            });
            return Value::Array(members);
        }
        json!(format!("{:?} null={}", s.scalar(), s.is_null()))
    }

    #[test]
    fn reads_like_a_parsed_value() {
        let cases = [
            json!({"hp":{"cur":100,"max":100,"regen":1.0,"since":null},"last_update":1700000000.25}),
            json!({"a":"x,\"}y","b":[1,{"c":2}],"":{},"d":-5,"e":1e300,"f":18446744073709551615u64,"g":-0.0,"h":true}),
            json!({"k\"q":{"x":[[],[{}]]},"z":"\\"}),
            json!(5),
            json!(null),
            json!("text"),
            json!([1, 2]),
        ];
        for v in cases {
            let compact = v.to_string();
            assert_eq!(seen(Text::new(compact.as_bytes())), seen(&v), "{compact}");
            let pretty = serde_json::to_string_pretty(&v).unwrap();
            assert_eq!(seen(Text::new(pretty.as_bytes())), seen(&v), "{pretty}");
        }
    }

    #[test]
    fn stats_validate_the_same_from_text() {
        let doc = crate::schema::rules().new_document();
        let text = doc["stats"].to_string();
        assert_eq!(
            vitals::stats_from(Text::new(text.as_bytes())).unwrap(),
            vitals::stats_from(&doc["stats"]).unwrap()
        );
        let odd = r#"{"hp":{"cur":1.5},"mp":{},"stamina":{}}"#;
        assert_eq!(
            vitals::stats_from(Text::new(odd.as_bytes()))
                .unwrap_err()
                .to_string(),
            "SCHEMA stats.hp.cur must be an integer from 0 to 1000000000000000"
        );
    }

    /// Whether an object shown by `seen` names a member twice, at any depth.
    fn repeats_a_name(v: &Value) -> bool {
        let Value::Array(members) = v else {
            return false;
        };
        let names: std::collections::HashSet<_> = members.iter().map(|m| &m[0]).collect();
        names.len() < members.len() || members.iter().any(|m| repeats_a_name(&m[1]))
    }

    const PUNCTUATION: &[u8] = b"{}[]\",:\\ 0e.";

    #[test]
    fn broken_text_never_panics() {
        let mut r = crate::fuzz::Rng(0x9e37_79b9_7f4a_7c15);
        let base = br#"{"hp":{"cur":1,"max":2,"regen":0.5,"since":null},"mp":{"x":"a\"b"},"s":[1,{"t":2}]}"#;
        let (mut valid, mut broken) = (0, 0);
        for _ in 0..20_000 {
            let mut t = base.to_vec();
            for _ in 0..1 + r.0 % 4 {
                let seed = r.next();
                let i = (seed % t.len() as u64) as usize;
                match seed % 3 {
                    0 => t[i] = PUNCTUATION[(seed >> 8) as usize % PUNCTUATION.len()],
                    1 => t.truncate(i),
                    _ => {
                        t.remove(i);
                    }
                }
                if t.is_empty() {
                    break;
                }
            }
            // Where the mutated text is still JSON, the in-place reader sees what serde_json
            // parses, and validates the stats alike; anywhere else it must merely not panic.
            let from_text = vitals::stats_from(Text::new(&t));
            match serde_json::from_slice::<Value>(&t) {
                // RedisJSON never stores an object with a repeated name (serde_json keeps the last).
                Ok(v) if !repeats_a_name(&seen(Text::new(&t))) => {
                    valid += 1;
                    assert_eq!(
                        seen(Text::new(&t)),
                        seen(&v),
                        "{}",
                        String::from_utf8_lossy(&t)
                    );
                    assert_eq!(
                        from_text.is_ok(),
                        vitals::stats_from(&v).is_ok(),
                        "{}",
                        String::from_utf8_lossy(&t)
                    );
                }
                _ => {
                    broken += 1;
                    let _shown = seen(Text::new(&t));
                }
            }
        }
        assert!(
            valid > 100 && broken > 10_000,
            "valid {valid}, broken {broken}"
        );
    }
}
