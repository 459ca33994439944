//! The fast path of reading the stats section: its text in exactly the layout that
//! `Stats::to_json` prints and RedisJSON serializes (every field, in order, no spaces) is read in
//! one pass of literal comparisons. Any other text, and any value that does not validate, is
//! left to the general reader (`vitals::stats_from` over `text::Text`), which names the problem.
//!
//! Whatever this path accepts, the general reader accepts with the same result (a unit test
//! checks it on random texts); it only skips the general reader's searching.

use crate::text::Text;
use crate::vitals::{
    parse_i64, vital_set, Scalar, Source, Stat, Stats, Vital, VitalParts, MAX_VITALS,
};
use std::ops::Range;

struct Cursor<'a> {
    t: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn lit(&mut self, s: &[u8]) -> Option<()> {
        let rest = self.t.get(self.i..)?;
        rest.starts_with(s).then(|| self.i += s.len())
    }

    /// A number or null, read as `Text` reads it.
    fn scalar(&mut self) -> Option<Scalar> {
        if self.lit(b"null").is_some() {
            return Some(Scalar::Null);
        }
        let start = self.i;
        let mut integer = true;
        loop {
            match self.t.get(self.i) {
                Some(b'0'..=b'9' | b'-') => {}
                Some(b'+' | b'.' | b'e' | b'E') => integer = false,
                _ => break,
            }
            self.i += 1;
        }
        let token = &self.t[start..self.i];
        if token.is_empty() {
            return None;
        }
        match parse_i64(token).filter(|_| integer) {
            Some(n) => Some(Scalar::Int(n)),
            None => Some(Text::new(token).scalar()),
        }
    }

    /// `"<name>":{"cur":<int>,"max":<int>,"regen":<double>,"since":<null|double>}`, valid, and
    /// where the object `{...}` lies in the text.
    fn vital(&mut self, stat: Stat) -> Option<(Vital, Range<usize>)> {
        self.lit(b"\"")?;
        self.lit(stat.name().as_bytes())?;
        self.lit(b"\":")?;
        let start = self.i;
        self.lit(b"{\"cur\":")?;
        let cur = self.scalar()?;
        self.lit(b",\"max\":")?;
        let max = self.scalar()?;
        self.lit(b",\"regen\":")?;
        let regen = self.scalar()?;
        self.lit(b",\"since\":")?;
        let since = self.scalar()?;
        self.lit(b"}")?;
        let printed = matches!(
            (cur, max, regen, since),
            (
                Scalar::Int(_),
                Scalar::Int(_),
                Scalar::Float(_),
                Scalar::Null | Scalar::Float(_)
            )
        );
        if !printed {
            return None;
        }
        let parts = VitalParts {
            cur: Some(cur),
            max: Some(max),
            regen: Some(regen),
            since: Some(since),
            unknown: None,
        };
        // Every field is present in this layout: no default is used.
        Some((
            Vital::from_parts(&parts, stat.path(), 0, 0.0).ok()?,
            start..self.i,
        ))
    }
}

/// A stats section read from its text in the printed layout.
pub struct Printed<'a> {
    pub stats: Stats,
    text: &'a [u8],
    /// Where each vital's object lies in `text`.
    spans: [Range<usize>; MAX_VITALS],
}

/// The stats, if `text` is a valid stats section in exactly the printed layout.
pub fn stats(text: &[u8]) -> Option<Stats> {
    read(text).map(|p| p.stats)
}

/// `text` as a `Printed` section, if it is a valid stats section in exactly the printed layout.
pub fn read(text: &[u8]) -> Option<Printed<'_>> {
    let set = vital_set();
    let mut c = Cursor { t: text, i: 0 };
    c.lit(b"{")?;
    let mut vitals = [Vital {
        cur: 0,
        max: 0,
        regen: 0.0,
        since: None,
    }; MAX_VITALS];
    let mut spans: [Range<usize>; MAX_VITALS] = Default::default();
    for &stat in &set.all {
        let (v, at) = c.vital(stat)?;
        vitals[stat.index()] = v;
        spans[stat.index()] = at;
        c.lit(b",")?;
    }
    c.lit(b"\"last_update\":")?;
    let last_update = match c.scalar()? {
        Scalar::Null => None,
        Scalar::Int(n) if n >= 0 => Some(Scalar::Int(n)),
        Scalar::Float(t) if t >= 0.0 => Some(Scalar::Float(t)),
        _ => return None,
    };
    c.lit(b"}")?;
    let stats = Stats {
        vitals,
        set,
        last_update,
    };
    (c.i == text.len()).then_some(Printed { stats, text, spans })
}

impl Printed<'_> {
    /// The text of `live` (these stats with some vitals changed): the stored text, with the
    /// vitals that differ printed anew and the rest copied. The reply of the hot read.
    pub fn with(&self, live: &Stats) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.text.len() + 16);
        let mut at = 0;
        for (i, span) in self.spans[..self.stats.set.all.len()].iter().enumerate() {
            out.extend_from_slice(&self.text[at..span.start]);
            if live.vitals[i] == self.stats.vitals[i] {
                out.extend_from_slice(&self.text[span.clone()]);
            } else {
                live.vitals[i].write_json(&mut out);
            }
            at = span.end;
        }
        out.extend_from_slice(&self.text[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vitals::stats_from;

    #[test]
    fn reads_the_printed_layout() {
        let doc = crate::schema::rules().new_document();
        let text = doc["stats"].to_string();
        let s = stats(text.as_bytes()).unwrap();
        assert_eq!(s, stats_from(&doc["stats"]).unwrap());
        assert_eq!(s.to_json(), text);
    }

    #[test]
    fn a_changed_vital_is_printed_anew_and_the_rest_copied() {
        let text = br#"{"hp":{"cur":1,"max":9,"regen":0.5,"since":1700000000.25},"mp":{"cur":1,"max":2,"regen":1e-5,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":3}"#;
        let p = read(text).unwrap();
        let mut live = p.stats;
        assert_eq!(p.with(&live), text.to_vec());
        live.vitals[0].cur = 3;
        live.vitals[0].since = Some(1700000004.25);
        let want = br#"{"hp":{"cur":3,"max":9,"regen":0.5,"since":1700000004.25},"mp":{"cur":1,"max":2,"regen":1e-5,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":3}"#;
        assert_eq!(
            String::from_utf8(p.with(&live)).unwrap(),
            String::from_utf8(want.to_vec()).unwrap()
        );
    }

    #[test]
    fn leaves_everything_else_to_the_general_reader() {
        for t in [
            r#"{"hp":{"cur":1,"max":2,"regen":1,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":null}"#,
            r#"{"hp":{"max":2,"cur":1,"regen":1.0,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":null}"#,
            r#"{"hp":{"cur":3,"max":2,"regen":1.0,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":null}"#,
            r#"{"hp":{"cur":1,"max":2,"regen":1.0,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":-1}"#,
            r#"{"hp":{"cur":1,"max":2,"regen":1.0,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null},"last_update":null} "#,
            r#"{"hp":{"cur":1,"max":2,"regen":1.0,"since":null},"mp":{"cur":1,"max":2,"regen":1.0,"since":null},"stamina":{"cur":1,"max":2,"regen":1.0,"since":null}}"#,
        ] {
            assert_eq!(stats(t.as_bytes()), None, "{t}");
        }
    }

    /// On random mutations of printed sections, whatever the fast path accepts, the general
    /// reader accepts with the same result; and it accepts every valid printed section.
    #[test]
    fn agrees_with_the_general_reader() {
        let mut r = crate::fuzz::Rng(0x1234_5678_9abc_def1u64);
        let mut rnd = |n: u64| r.next() % n;
        let (mut accepted, mut declined) = (0, 0);
        for _ in 0..20_000 {
            let v = |r: &mut dyn FnMut(u64) -> u64| Vital {
                cur: r(4) as i64,
                max: 3 + r(2) as i64,
                regen: [0.0, 0.5, -2.0, 1e300][r(4) as usize],
                since: [None, Some(1700000000.25), Some(-1.0)][r(3) as usize],
            };
            let mut vitals = [Vital {
                cur: 0,
                max: 0,
                regen: 0.0,
                since: None,
            }; MAX_VITALS];
            for slot in vitals.iter_mut().take(3) {
                *slot = v(&mut rnd);
            }
            let s = Stats {
                vitals,
                set: vital_set(),
                last_update: [None, Some(Scalar::Int(5)), Some(Scalar::Float(2.5))]
                    [rnd(3) as usize],
            };
            let mut text = s.to_json().into_bytes();
            if rnd(2) == 0 {
                let i = rnd(text.len() as u64) as usize;
                text[i] = b"{}\",:0-.e1 n"[rnd(12) as usize];
            }
            let general = stats_from(Text::new(&text));
            match stats(&text) {
                Some(fast) => {
                    assert_eq!(
                        Ok(fast),
                        general.map_err(|e| e.to_string()),
                        "{}",
                        String::from_utf8_lossy(&text)
                    );
                    accepted += 1;
                }
                None => {
                    assert!(
                        general
                            .as_ref()
                            .map_or(true, |g| text != g.to_json().as_bytes()),
                        "{}",
                        String::from_utf8_lossy(&text)
                    );
                    declined += 1;
                }
            }
        }
        assert!(accepted > 1000 && declined > 1000, "{accepted} {declined}");
    }
}
