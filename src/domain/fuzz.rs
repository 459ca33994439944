//! Random-input tests of every pure parser and validator (the equivalent of a fuzz target that
//! runs in `cargo test`): arbitrary bytes and mutated valid documents must give a value or an
//! error, never a panic, whatever validates must validate again unchanged, and the fast readers
//! agree with the general ones. `FUZZ_CASES` raises the count (`make soak`).

/// The seeded xorshift generator of the random-input unit tests (here and in `patch.rs`,
/// `printed.rs`, `text.rs`): the same seed gives the same cases on every run.
#[cfg(test)]
pub(crate) struct Rng(pub u64);

#[cfg(test)]
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;
    use crate::{json, lobby, path::DocPath, printed, schema, text::Text, vitals};

    fn cases() -> usize {
        std::env::var("FUZZ_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20_000)
    }

    /// A valid document, a lobby list, or a few random bytes, then mutated byte by byte.
    fn input(r: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
        let mut v = if r.below(4) == 0 {
            (0..r.below(64)).map(|_| r.next() as u8).collect()
        } else {
            seeds[r.below(seeds.len())].clone()
        };
        for _ in 0..r.below(6) {
            if v.is_empty() {
                break;
            }
            let i = r.below(v.len());
            match r.below(4) {
                0 => v[i] = r.next() as u8,
                1 => {
                    v.remove(i);
                }
                2 => v.insert(i, b"{}[]\",:0-.e9\\"[r.below(13)]),
                _ => {
                    let chunk = v[i..].to_vec();
                    v.extend(chunk.into_iter().take(32));
                }
            }
        }
        v
    }

    #[test]
    fn parsers_and_validators_never_panic_and_are_stable() {
        let seeds: Vec<Vec<u8>> = vec![
            schema::rules().new_document().to_string().into_bytes(),
            br#"{"state":"COMBAT","stats":{"hp":{"cur":75,"max":120,"regen":0.5},"last_update":17.5},"skills":{"a":{"b":[1,2]}}}"#.to_vec(),
            br#"[{"character_id":1,"user_id":7,"name":"A","gender":"male","vitals_snapshot":{"hp":1}}]"#.to_vec(),
            b"stats.hp.cur".to_vec(),
            schema::rules().new_document()["stats"].to_string().into_bytes(),
            b"-9223372036854775808".to_vec(),
        ];
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        let (mut valid_docs, mut valid_lobbies, mut fast_reads) = (0, 0, 0);
        for _ in 0..cases() {
            let bytes = input(&mut r, &seeds);
            if let Ok(v) = json::parse(&bytes) {
                let mut doc = v.clone();
                if schema::rules()
                    .check_write(schema::Policy::default(), None, &mut doc, None, &mut |_| {})
                    .is_ok()
                {
                    valid_docs += 1;
                    let mut again = doc.clone();
                    schema::rules()
                        .check_write(
                            schema::Policy::default(),
                            None,
                            &mut again,
                            None,
                            &mut |_| panic!("a checked document breaks nothing"),
                        )
                        .unwrap();
                    assert_eq!(again, doc, "checking twice changes nothing");
                    let stats = vitals::stats_from(&doc["stats"])
                        .expect("a normalized document has valid stats");
                    assert_eq!(stats.to_json(), doc["stats"].to_string());
                    assert_eq!(
                        printed::stats(stats.to_json().as_bytes()),
                        Some(stats),
                        "the layout the module writes reads fast"
                    );
                }
                if let Ok(text) = lobby::validate(&v, 4) {
                    valid_lobbies += 1;
                    assert!(lobby::validate(&serde_json::from_str(&text).unwrap(), 4).is_ok());
                }
                let _ = vitals::stats_from(&v);
            }
            if let Ok(text) = std::str::from_utf8(&bytes) {
                if let Ok(p) = DocPath::parse(text) {
                    assert_eq!(p.dotted(), text);
                    assert!(p.jsonpath().starts_with("$.") || p.jsonpath().starts_with("$[\""));
                }
            }
            if let Some(n) = vitals::parse_i64(&bytes) {
                assert_eq!(
                    n.to_string().as_bytes(),
                    &bytes[..],
                    "only canonical integers parse"
                );
            }
            // The in-place readers: whatever the one-pass reader accepts, the general one accepts
            // the same way.
            let general = vitals::stats_from(Text::new(&bytes)).map_err(|e| e.to_string());
            if let Some(fast) = printed::stats(&bytes) {
                assert_eq!(Ok(fast), general);
                fast_reads += 1;
            }
            let _ = vitals::parse_amount(&bytes);
            let _ = vitals::Stat::parse(&bytes);
        }
        let floor = cases() / 100;
        assert!(
            valid_docs > floor && valid_lobbies > floor && fast_reads > floor,
            "the mutations still reach the valid paths: {valid_docs} docs, {valid_lobbies} lobbies, {fast_reads} fast stats reads"
        );
    }
}
