//! ACCOUNT.DAMAGE / HEAL / SPEND / APPLY: exact replies, clamping, documented errors that change
//! nothing, and no lost update under many concurrent clients. Each test runs on both servers and
//! on both read paths (RedisJSON's shared API, and RM_Call with `account.shared-api no`).

mod common;
use common::*;

/// Runs the body on each server, once per read path.
fn each_path(body: impl Fn(&Server, &mut redis::Connection)) {
    for_each_server(|s| {
        for shared in ["yes", "no"] {
            let mut c = s.conn();
            q::<String>(&mut c, &["FLUSHALL"]);
            q::<String>(&mut c, &["CONFIG", "SET", "account.shared-api", shared]);
            body(s, &mut c);
            // The path the body ran on is the one it was meant to test.
            let want = if shared == "yes" {
                "shared-api"
            } else {
                "rm-call"
            };
            assert_eq!(
                info_field(&mut c, "account_read_path"),
                want,
                "{:?}",
                s.flavor
            );
        }
    });
}

fn pair(c: &mut redis::Connection, args: &[&str]) -> (i64, i64) {
    let v: Vec<i64> = q(c, args);
    (v[0], v[1])
}

#[test]
fn damage_clamps_at_zero_and_reports_what_it_took() {
    each_path(|_, c| {
        q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(pair(c, &["ACCOUNT.DAMAGE", "ac:1", "30"]), (70, 30));
        assert_eq!(pair(c, &["ACCOUNT.DAMAGE", "ac:1", "20", "mp"]), (30, 20));
        assert_eq!(
            pair(c, &["ACCOUNT.DAMAGE", "ac:1", "500"]),
            (0, 70),
            "overkill: only what was there"
        );
        assert_eq!(
            pair(c, &["ACCOUNT.DAMAGE", "ac:1", "5"]),
            (0, 0),
            "dead stays at 0"
        );
        assert_eq!(
            pair(
                c,
                &["ACCOUNT.DAMAGE", "ac:1", "9223372036854775807", "STAMINA"]
            ),
            (0, 100)
        );
        let d = json_get(c, "ac:1").unwrap();
        assert_eq!(
            (
                d["stats"]["hp"]["cur"].as_i64(),
                d["stats"]["hp"]["max"].as_i64()
            ),
            (Some(0), Some(100))
        );
        assert!(
            d["stats"]["hp"]["since"].is_f64(),
            "hp left full: its clock started"
        );
        assert_eq!(d["stats"]["mp"]["cur"], 30);
        assert_eq!(d["stats"]["stamina"]["cur"], 0);
    });
}

#[test]
fn heal_clamps_at_max() {
    each_path(|_, c| {
        q::<String>(
            c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"stats":{"hp":{"cur":10,"max":100}}}"#,
            ],
        );
        assert_eq!(pair(c, &["ACCOUNT.HEAL", "ac:1", "15"]), (25, 15));
        assert!(
            json_get(c, "ac:1").unwrap()["stats"]["hp"]["since"].is_f64(),
            "off its rest point: the clock runs"
        );
        assert_eq!(pair(c, &["ACCOUNT.HEAL", "ac:1", "1000"]), (100, 75));
        assert_eq!(pair(c, &["ACCOUNT.HEAL", "ac:1", "1"]), (100, 0));
        let hp = &json_get(c, "ac:1").unwrap()["stats"]["hp"];
        assert_eq!(
            (hp["cur"].as_i64(), hp["max"].as_i64(), hp["regen"].as_f64()),
            (Some(100), Some(100), Some(1.0))
        );
        assert!(
            hp["since"].is_f64(),
            "at rest the clock is kept (no time banks while full)"
        );
    });
}

#[test]
fn spend_takes_only_when_there_is_enough() {
    each_path(|_, c| {
        q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(pair(c, &["ACCOUNT.SPEND", "ac:1", "mp", "30"]), (20, 30));
        assert_eq!(
            expect_err(c, &["ACCOUNT.SPEND", "ac:1", "mp", "21"]),
            "INSUFFICIENT mp is 20, needs 21"
        );
        assert_eq!(json_get(c, "ac:1").unwrap()["stats"]["mp"]["cur"], 20);
        assert_eq!(pair(c, &["ACCOUNT.SPEND", "ac:1", "mp", "20"]), (0, 20));
        assert_eq!(
            expect_err(c, &["ACCOUNT.SPEND", "ac:1", "stamina", "101"]),
            "INSUFFICIENT stamina is 100, needs 101"
        );
    });
}

#[test]
fn apply_changes_several_vitals_in_one_step() {
    each_path(|_, c| {
        q::<String>(
            c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"stats":{"hp":{"cur":50}}}"#],
        );
        // A leading '+' is not an integer here: the call fails whole.
        assert_eq!(
            expect_err(c, &["ACCOUNT.APPLY", "ac:1", "hp", "-20", "stamina", "+5"]),
            "BADNUMBER delta must be a non-zero integer from -9223372036854775808 to 9223372036854775807"
        );
        assert_eq!(json_get(c, "ac:1").unwrap()["stats"]["hp"]["cur"], 50);
        let r: Vec<Vec<i64>> = q(
            c,
            &[
                "ACCOUNT.APPLY",
                "ac:1",
                "hp",
                "-20",
                "mp",
                "-60",
                "stamina",
                "-5",
                "hp",
                "100",
            ],
        );
        assert_eq!(
            r,
            vec![vec![30, -20], vec![0, -50], vec![95, -5], vec![100, 70]]
        );
        let d = json_get(c, "ac:1").unwrap();
        assert_eq!(
            (
                d["stats"]["hp"]["cur"].as_i64(),
                d["stats"]["mp"]["cur"].as_i64(),
                d["stats"]["stamina"]["cur"].as_i64()
            ),
            (Some(100), Some(0), Some(95))
        );
        let before: String = q(c, &["JSON.GET", "ac:1"]);
        assert_eq!(
            expect_err(c, &["ACCOUNT.APPLY", "ac:1", "hp", "-5", "xp", "3"]),
            "SYNTAX stat must be hp, mp or stamina"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.APPLY", "ac:1", "hp", "-5", "mp", "0"]),
            "BADNUMBER delta must be a non-zero integer from -9223372036854775808 to 9223372036854775807"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.APPLY", "ac:1", "hp", "-5", "mp"]),
            "ERR wrong number of arguments for 'account.apply' command"
        );
        assert_eq!(q::<String>(c, &["JSON.GET", "ac:1"]), before);
    });
}

#[test]
fn bad_amounts_and_keys_are_errors_that_change_nothing() {
    each_path(|_, c| {
        q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
        let before: String = q(c, &["JSON.GET", "ac:1"]);
        let amount = "BADNUMBER amount must be an integer from 1 to 9223372036854775807";
        for bad in [
            "0",
            "-5",
            "1.5",
            "abc",
            "",
            "99999999999999999999",
            "+5",
            "1e3",
        ] {
            assert_eq!(
                expect_err(c, &["ACCOUNT.DAMAGE", "ac:1", bad]),
                amount,
                "{bad:?}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.HEAL", "ac:1", bad]),
                amount,
                "{bad:?}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.SPEND", "ac:1", "hp", bad]),
                amount,
                "{bad:?}"
            );
        }
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:1", "5", "xp"]),
            "SYNTAX stat must be hp, mp or stamina"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:1", "5", "hp", "x"]),
            "ERR wrong number of arguments for 'account.damage' command"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.SPEND", "ac:1", "hp"]),
            "ERR wrong number of arguments for 'account.spend' command"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:404", "5"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.HEAL", "ac:404", "5"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.SPEND", "ac:404", "hp", "5"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(
            expect_err(c, &["ACCOUNT.APPLY", "ac:404", "hp", "5"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(q::<i64>(c, &["EXISTS", "ac:404"]), 0);
        q::<String>(c, &["SET", "ac:9", "x"]);
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:9", "5"]),
            "WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        assert_eq!(q::<String>(c, &["JSON.GET", "ac:1"]), before);
    });
}

#[test]
fn vitals_that_are_not_integers_are_corrupt_and_untouched() {
    each_path(|_, c| {
        let cases: &[(&str, &str, &str)] = &[
            ("$.stats.hp.cur", "85.5", "CORRUPT stored document: stats.hp.cur must be an integer from 0 to 1000000000000000"),
            ("$.stats.hp.cur", r#""85""#, "CORRUPT stored document: stats.hp.cur must be an integer from 0 to 1000000000000000"),
            ("$.stats.hp.max", "null", "CORRUPT stored document: stats.hp.max must be an integer from 0 to 1000000000000000"),
            ("$.stats.hp", "7", "CORRUPT stored document: stats.hp must be an object"),
            ("$.stats", "[]", "CORRUPT stored document: stats must be an object"),
        ];
        for (path, value, want) in cases {
            q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
            q::<String>(c, &["JSON.SET", "ac:1", path, value]);
            let before: String = q(c, &["JSON.GET", "ac:1"]);
            assert_eq!(
                expect_err(c, &["ACCOUNT.DAMAGE", "ac:1", "5"]),
                *want,
                "{path} = {value}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.HEAL", "ac:1", "5"]),
                *want,
                "{path} = {value}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.SPEND", "ac:1", "hp", "5"]),
                *want,
                "{path} = {value}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.APPLY", "ac:1", "hp", "-5"]),
                *want,
                "{path} = {value}"
            );
            assert_eq!(
                expect_err(c, &["ACCOUNT.GET", "ac:1", "stats"]),
                *want,
                "{path} = {value}"
            );
            assert_eq!(q::<String>(c, &["JSON.GET", "ac:1"]), before);
        }
        q::<String>(c, &["JSON.SET", "ac:2", "$", r#"{"state":"x"}"#]);
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:2", "5"]),
            "CORRUPT stored document: no stats.hp object"
        );
        q::<String>(c, &["JSON.SET", "ac:3", "$", "[1,2]"]);
        assert_eq!(
            expect_err(c, &["ACCOUNT.DAMAGE", "ac:3", "5"]),
            "CORRUPT stored document: the document must be an object"
        );
    });
}

#[test]
fn get_stats_matches_json_get() {
    each_path(|_, c| {
        q::<String>(
            c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"stats":{"hp":{"cur":7,"max":9,"regen":0.25},"last_update":1700000000.5}}"#,
            ],
        );
        let ours: String = q(c, &["ACCOUNT.GET", "ac:1", "stats"]);
        let theirs: String = q(c, &["JSON.GET", "ac:1", "$.stats"]);
        assert_eq!(format!("[{ours}]"), theirs);
        // An integer last_update prints as RedisJSON prints it (found by the fuzz test).
        q::<String>(
            c,
            &["JSON.SET", "ac:1", "$.stats.last_update", "1700000000"],
        );
        let ours: String = q(c, &["ACCOUNT.GET", "ac:1", "stats"]);
        assert_eq!(
            format!("[{ours}]"),
            q::<String>(c, &["JSON.GET", "ac:1", "$.stats"])
        );
        assert_eq!(
            q::<Option<String>>(c, &["ACCOUNT.GET", "ac:404", "stats"]),
            None
        );
    });
}

#[test]
fn get_stats_normalizes_what_is_not_stored_as_printed_and_writes_nothing() {
    each_path(|_, c| {
        // Fields reordered, missing, or of another number type, as other code may write them.
        q::<String>(
            c,
            &[
                "JSON.SET",
                "ac:1",
                "$",
                r#"{"stats":{"mp":{"max":60,"cur":6},"hp":{"cur":80,"max":100,"regen":2},"stamina":{}}}"#,
            ],
        );
        let before: String = q(c, &["JSON.GET", "ac:1"]);
        let want = r#"{"hp":{"cur":80,"max":100,"regen":2.0,"since":null},"mp":{"cur":6,"max":60,"regen":1.0,"since":null},"stamina":{"cur":100,"max":100,"regen":5.0,"since":null},"last_update":null}"#;
        assert_eq!(q::<String>(c, &["ACCOUNT.GET", "ac:1", "stats"]), want);
        assert_eq!(q::<String>(c, &["JSON.GET", "ac:1"]), before);
    });
}

#[test]
fn get_stats_shows_regeneration_and_copies_the_rest() {
    each_path(|_, c| {
        // hp regenerates 4 a second from a clock 10.5 s old: full by now (70 + 42 > 100). mp
        // and stamina are copied as RedisJSON printed them.
        let now: f64 = q::<Vec<String>>(c, &["TIME"])[0].parse().unwrap();
        let stored = format!(
            r#"{{"hp":{{"cur":70,"max":100,"regen":4.0,"since":{}}},"mp":{{"cur":5,"max":50,"regen":1e-5,"since":null}},"stamina":{{"cur":100,"max":100,"regen":5.0,"since":null}},"last_update":null}}"#,
            now - 10.5
        );
        q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(c, &["JSON.SET", "ac:1", "$.stats", &stored]);
        let theirs: String = q(c, &["JSON.GET", "ac:1", "$.stats"]);
        let ours: String = q(c, &["ACCOUNT.GET", "ac:1", "stats"]);
        let stored_hp = format!(
            r#"{{"cur":70,"max":100,"regen":4.0,"since":{}}}"#,
            now - 10.5
        );
        assert!(theirs.contains(&stored_hp), "{theirs}");
        let read: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert_eq!(read["hp"]["cur"], 100);
        let live_hp = read["hp"].to_string();
        assert_eq!(
            ours,
            theirs[1..theirs.len() - 1].replacen(&stored_hp, &live_hp, 1)
        );
        assert_eq!(
            q::<String>(c, &["JSON.GET", "ac:1", "$.stats"]),
            theirs,
            "a read stores nothing"
        );
    });
}

/// The whole document: a complete one (what ACCOUNT.CREATE stores) is answered as RedisJSON
/// prints it, unicode, escapes and unnamed fields included, with only regenerated vitals printed
/// anew; one missing defaults is answered filled; ACCOUNT.MGET and the LOGOUT entry say the same.
#[test]
fn get_whole_document_is_the_stored_text_with_live_vitals() {
    each_path(|_, c| {
        let extra = r#"{"active_quest":"rift","tokens":{"gold":3,"rate":0.1,"big":1e300,"e20":1e20,"tiny":-7.882026215383356e-10,"neg":-0.5,"u":18446744073709551615},"bio":{"name":"Ünï \"q\" \\ \u0001","gender":null,"created_at":null}}"#;
        q::<String>(c, &["ACCOUNT.CREATE", "ac:1", extra]);
        let stored: String = q(c, &["JSON.GET", "ac:1"]);
        assert_eq!(q::<String>(c, &["ACCOUNT.GET", "ac:1"]), stored);
        let mget: Vec<Option<String>> = q(c, &["ACCOUNT.MGET", "ac:1", "ac:404"]);
        assert_eq!(mget, vec![Some(stored.clone()), None]);
        // hp regenerating 4 a second from a clock 10.5 to 11.5 s old: 92 to 96 by now.
        let now: f64 = q::<Vec<String>>(c, &["TIME"])[0].parse().unwrap();
        let hp = format!(
            r#"{{"cur":50,"max":100,"regen":4.0,"since":{}}}"#,
            now - 10.5
        );
        q::<String>(c, &["JSON.SET", "ac:1", "$.stats.hp", &hp]);
        let stored: String = q(c, &["JSON.GET", "ac:1"]);
        let ours: String = q(c, &["ACCOUNT.GET", "ac:1"]);
        let live: serde_json::Value = serde_json::from_str(&ours).unwrap();
        assert!(
            (92..=96).contains(&live["stats"]["hp"]["cur"].as_i64().unwrap()),
            "{ours}"
        );
        assert_eq!(
            ours,
            stored.replacen(&hp, &live["stats"]["hp"].to_string(), 1)
        );
        assert_eq!(
            q::<String>(c, &["JSON.GET", "ac:1"]),
            stored,
            "a read stores nothing"
        );
        // Written by other code without the sessions section and bio.gender: filled on the read.
        q::<i64>(c, &["JSON.DEL", "ac:1", "$.sessions"]);
        q::<i64>(c, &["JSON.DEL", "ac:1", "$.bio.gender"]);
        let text: String = q(c, &["ACCOUNT.GET", "ac:1"]);
        // Parsed and printed again (a default was missing), numbers still print as RedisJSON's.
        let tokens: String = q(c, &["JSON.GET", "ac:1", "$.tokens"]);
        assert!(
            text.contains(&tokens[1..tokens.len() - 1]),
            "{text}\n{tokens}"
        );
        assert_eq!(
            q::<String>(c, &["ACCOUNT.GET", "ac:1", "tokens"]),
            tokens[1..tokens.len() - 1]
        );
        let read: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            read["sessions"],
            serde_json::json!({"combat_id": null, "inventory_id": null, "scenario_id": null})
        );
        assert_eq!(read["bio"]["gender"], serde_json::Value::Null);
        assert_eq!(read["tokens"]["gold"], 3);
        let id: String = q(c, &["ACCOUNT.LOGOUT", "ac:1", "out"]);
        let entries: Vec<(String, Vec<String>)> = q(c, &["XRANGE", "out", &id, &id]);
        let doc: serde_json::Value = serde_json::from_str(&entries[0].1[5]).unwrap();
        assert_eq!(doc["sessions"], read["sessions"]);
    });
}

/// Many clients spending from one character: every successful spend plus the final value add
/// up exactly to the start, and no spend succeeded without enough.
#[test]
fn concurrent_spends_lose_nothing_and_never_overdraw() {
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        let mut c = s.conn();
        let start = 5_000i64;
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                &format!(r#"{{"stats":{{"mp":{{"cur":{start},"max":{start}}}}}}}"#),
            ],
        );
        let (spent, refused): (i64, i64) = std::thread::scope(|scope| {
            let hs: Vec<_> = (0..10)
                .map(|t| {
                    let s = &s;
                    scope.spawn(move || {
                        let mut c = s.conn();
                        let (mut spent, mut refused) = (0, 0);
                        for i in 0..300 {
                            let amount = 1 + (t * 7 + i) % 5;
                            match redis::cmd("ACCOUNT.SPEND")
                                .arg("ac:1")
                                .arg("mp")
                                .arg(amount)
                                .query::<Vec<i64>>(&mut c)
                            {
                                Ok(v) => {
                                    assert!(v[0] >= 0);
                                    assert_eq!(v[1], amount);
                                    spent += amount;
                                }
                                Err(e) => {
                                    let text = err_text(&e);
                                    assert!(text.starts_with("INSUFFICIENT mp is "), "{text}");
                                    let cur: i64 = text
                                        .split(' ')
                                        .nth(3)
                                        .unwrap()
                                        .trim_end_matches(',')
                                        .parse()
                                        .unwrap();
                                    assert!(cur < amount, "{text}");
                                    refused += 1;
                                }
                            }
                        }
                        (spent, refused)
                    })
                })
                .collect();
            hs.into_iter()
                .map(|h| h.join().unwrap())
                .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
        });
        let fin = json_get(&mut c, "ac:1").unwrap()["stats"]["mp"]["cur"]
            .as_i64()
            .unwrap();
        assert_eq!(spent + fin, start, "{flavor:?}");
        assert!(
            refused > 0 && fin < 5,
            "{flavor:?}: the pool ran dry ({refused} refused, {fin} left)"
        );
    }
}

/// Many clients damaging one character: the final value is max(0, start - total) and the
/// applied amounts add up to start - final.
#[test]
fn concurrent_damage_loses_nothing() {
    for flavor in FLAVORS {
        for (start, per_hit) in [(1_000_000i64, 3i64), (2_000, 3)] {
            let s = Server::start(flavor);
            let mut c = s.conn();
            q::<String>(
                &mut c,
                &[
                    "ACCOUNT.CREATE",
                    "ac:1",
                    &format!(r#"{{"stats":{{"hp":{{"cur":{start},"max":{start}}}}}}}"#),
                ],
            );
            let (clients, hits) = (10i64, 200i64);
            let applied: i64 = std::thread::scope(|scope| {
                let hs: Vec<_> = (0..clients)
                    .map(|_| {
                        let s = &s;
                        scope.spawn(move || {
                            let mut c = s.conn();
                            (0..hits)
                                .map(|_| {
                                    pair(&mut c, &["ACCOUNT.DAMAGE", "ac:1", &per_hit.to_string()])
                                        .1
                                })
                                .sum::<i64>()
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            });
            let fin = json_get(&mut c, "ac:1").unwrap()["stats"]["hp"]["cur"]
                .as_i64()
                .unwrap();
            assert_eq!(
                fin,
                (start - clients * hits * per_hit).max(0),
                "{flavor:?} start {start}"
            );
            assert_eq!(applied, start - fin, "{flavor:?} start {start}");
        }
    }
}

/// Where the loaded RedisJSON has no JSON.MERGE nor JSON.MSET (before 2.6), writes go by paths,
/// one JSON.SET each; the same writes, the same documents. `account.json-merge no` takes that
/// path on any RedisJSON.
#[test]
fn vital_writes_by_paths_give_the_same_documents_as_the_merge() {
    for_each_server(|s| {
        let mut c = s.conn();
        let mut docs = Vec::new();
        for merge in ["yes", "no"] {
            q::<String>(&mut c, &["FLUSHALL"]);
            q::<String>(&mut c, &["CONFIG", "SET", "account.json-merge", merge]);
            q::<String>(&mut c, &["CONFIG", "RESETSTAT"]);
            q::<String>(
                &mut c,
                &[
                    "ACCOUNT.CREATE",
                    "ac:1",
                    r#"{"stats":{"hp":{"regen":0},"mp":{"regen":0},"stamina":{"regen":0}}}"#,
                ],
            );
            assert_eq!(pair(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "30"]), (70, 30));
            assert_eq!(
                q::<Vec<Vec<i64>>>(
                    &mut c,
                    &["ACCOUNT.APPLY", "ac:1", "mp", "-5", "stamina", "-1"]
                ),
                vec![vec![45, -5], vec![99, -1]]
            );
            assert_eq!(
                q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "10", "20"]),
                vec![10, 20]
            );
            q::<String>(
                &mut c,
                &[
                    "ACCOUNT.SET",
                    "ac:1",
                    "bio.name",
                    r#""A""#,
                    "sessions.combat_id",
                    r#""c""#,
                ],
            );
            let mut doc = json_get(&mut c, "ac:1").unwrap();
            doc["stats"]["last_update"] = serde_json::Value::Null;
            docs.push(doc);
            let stats: String = q(&mut c, &["INFO", "commandstats"]);
            // The create and the setstat's null clock go by paths either way; the rest by MERGE.
            assert_eq!(
                stats.contains("cmdstat_json.merge:"),
                merge == "yes",
                "{:?} json-merge {merge}: {stats}",
                s.flavor
            );
            assert_eq!(
                stats.contains("cmdstat_json.mset:"),
                merge == "yes",
                "{:?} json-merge {merge}: {stats}",
                s.flavor
            );
            assert_eq!(
                info_field(&mut c, "account_write_path"),
                if merge == "yes" { "merge" } else { "paths" }
            );
        }
        assert_eq!(docs[0], docs[1]);
        q::<String>(&mut c, &["CONFIG", "SET", "account.json-merge", "yes"]);
    });
}
