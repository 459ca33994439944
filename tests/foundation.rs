//! ACCOUNT.CREATE / GET / EXISTS / DEL and LOBBY.SETCACHE / GETCACHE / DELCACHE against real
//! servers: exact replies, exact errors, and the document after the fact.

mod common;
use common::*;
use serde_json::json;

#[test]
fn create_without_json_makes_a_fresh_onboarding_character() {
    for_each_server(|s| {
        let mut c = s.conn();
        assert_eq!(q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]), "OK");
        let doc = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(doc["state"], "onboarding");
        assert_eq!(
            doc["stats"]["hp"],
            json!({"cur": 100, "max": 100, "regen": 1.0, "since": null})
        );
        assert_eq!(
            doc["stats"]["stamina"],
            json!({"cur": 100, "max": 100, "regen": 5.0, "since": null})
        );
        assert_eq!(doc["attributes"]["luck"], 8);
        assert_eq!(doc["location"]["current"], "start_village");
        assert_eq!(doc["skills"], json!({}));
        // It is a RedisJSON document: plain JSON commands work on it.
        assert_eq!(q::<String>(&mut c, &["TYPE", "ac:1"]), "ReJSON-RL");
    });
}

#[test]
fn create_fills_missing_sections_and_keeps_given_ones() {
    for_each_server(|s| {
        let mut c = s.conn();
        let body = r#"{"state":"COMBAT","bio":{"name":"Aragorn","gender":"male"},"stats":{"hp":{"cur":75,"max":120}}}"#;
        assert_eq!(q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:2", body]), "OK");
        let doc = json_get(&mut c, "ac:2").unwrap();
        assert_eq!(doc["state"], "COMBAT");
        assert_eq!(
            doc["bio"],
            json!({"name": "Aragorn", "gender": "male", "created_at": null})
        );
        // A vital created below max regenerates from its creation: its clock starts then.
        let since = doc["stats"]["hp"]["since"].as_f64().expect("a clock");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!((since - now).abs() < 60.0, "{since} vs {now}");
        assert_eq!(
            doc["stats"]["hp"],
            json!({"cur": 75, "max": 120, "regen": 1.0, "since": since})
        );
        assert_eq!(
            doc["stats"]["mp"],
            json!({"cur": 50, "max": 50, "regen": 1.0, "since": null})
        );
        assert_eq!(
            doc["sessions"],
            json!({"combat_id": null, "inventory_id": null, "scenario_id": null})
        );
    });
}

#[test]
fn create_nx_only_creates() {
    for_each_server(|s| {
        let mut c = s.conn();
        assert_eq!(
            q::<Option<String>>(
                &mut c,
                &["ACCOUNT.CREATE", "ac:3", r#"{"state":"a"}"#, "NX"]
            ),
            Some("OK".into())
        );
        assert_eq!(
            q::<Option<String>>(
                &mut c,
                &["ACCOUNT.CREATE", "ac:3", r#"{"state":"b"}"#, "nx"]
            ),
            None
        );
        assert_eq!(json_get(&mut c, "ac:3").unwrap()["state"], "a");
        // Without NX it replaces the document.
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:3", r#"{"state":"b"}"#]),
            "OK"
        );
        assert_eq!(json_get(&mut c, "ac:3").unwrap()["state"], "b");
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.CREATE", "ac:4", "NX"]),
            Some("OK".into())
        );
    });
}

#[test]
fn rejected_creates_leave_the_key_exactly_as_it_was() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(
            &mut c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"bio":{"name":"Kept"}}"#],
        );
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        let cases: &[(&str, &str)] = &[
            ("{", "INVALIDJSON malformed JSON at line 1 column 1"),
            ("[1,2]", "SCHEMA the document must be an object"),
            (r#"{"stats":{"xp":3}}"#, "SCHEMA unknown field 'stats.xp'"),
            (
                r#"{"attributes":{"luck":-1}}"#,
                "SCHEMA attributes.luck must be at least 0",
            ),
            (
                r#"{"bio":{"name":5}}"#,
                "SCHEMA bio.name must be a string or null",
            ),
            (
                r#"{"stats":{"hp":{"cur":200}}}"#,
                "SCHEMA stats.hp.cur must not exceed stats.hp.max",
            ),
            (
                r#"{"stats":{"hp":{"cur":-1}}}"#,
                "SCHEMA stats.hp.cur must be an integer from 0 to 1000000000000000",
            ),
            (
                r#"{"attributes":{"luck":"high"}}"#,
                "SCHEMA attributes.luck must be an integer",
            ),
            (r#"{"skills":[]}"#, "SCHEMA skills must be an object"),
        ];
        for (body, want) in cases {
            assert_eq!(
                expect_err(&mut c, &["ACCOUNT.CREATE", "ac:1", body]),
                *want,
                "{body}"
            );
        }
        let deep = format!(r#"{{"skills":{}{}}}"#, "[".repeat(40), "]".repeat(40));
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE", "ac:1", &deep]),
            "LIMIT JSON nested deeper than 32 levels"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE", "ac:1", "{}", "{}"]),
            "SYNTAX expected: ACCOUNT.CREATE key [json] [NX] [IDMP request-id]"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE", "ac:1", "{}", "NX", "NX"]),
            "ERR wrong number of arguments for 'account.create' command"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE"]),
            "ERR wrong number of arguments for 'account.create' command"
        );
        let after: String = q(&mut c, &["JSON.GET", "ac:1"]);
        assert_eq!(before, after);
    });
}

#[test]
fn keys_of_another_type_are_wrongtype_and_untouched() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["SET", "ac:9", "plain"]);
        q::<i64>(&mut c, &["HSET", "lobby:user:9", "a", "b"]);
        let wt = "WRONGTYPE Operation against a key holding the wrong kind of value";
        assert_eq!(expect_err(&mut c, &["ACCOUNT.CREATE", "ac:9"]), wt);
        assert_eq!(expect_err(&mut c, &["ACCOUNT.GET", "ac:9"]), wt);
        assert_eq!(expect_err(&mut c, &["ACCOUNT.GET", "ac:9", "bio"]), wt);
        assert_eq!(expect_err(&mut c, &["ACCOUNT.EXISTS", "ac:9"]), wt);
        assert_eq!(expect_err(&mut c, &["ACCOUNT.DEL", "ac:9"]), wt);
        assert_eq!(
            expect_err(&mut c, &["LOBBY.SETCACHE", "lobby:user:9", "[]"]),
            wt
        );
        assert_eq!(expect_err(&mut c, &["LOBBY.GETCACHE", "lobby:user:9"]), wt);
        assert_eq!(expect_err(&mut c, &["LOBBY.DELCACHE", "lobby:user:9"]), wt);
        assert_eq!(q::<String>(&mut c, &["GET", "ac:9"]), "plain");
        assert_eq!(q::<String>(&mut c, &["HGET", "lobby:user:9", "a"]), "b");
    });
}

#[test]
fn get_reads_the_whole_document_or_one_part() {
    for_each_server(|s| {
        let mut c = s.conn();
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.GET", "ac:404"]),
            None
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.GET", "ac:404", "bio"]),
            None
        );
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"bio":{"name":"Aragorn"},"skills":{"fire":{"lvl":2}}}"#,
            ],
        );
        let whole: String = q(&mut c, &["ACCOUNT.GET", "ac:1"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&whole).unwrap(),
            json_get(&mut c, "ac:1").unwrap()
        );
        let get = |c: &mut redis::Connection, p: &str| {
            q::<Option<String>>(c, &["ACCOUNT.GET", "ac:1", p])
        };
        assert_eq!(
            get(&mut c, "bio").unwrap(),
            r#"{"name":"Aragorn","gender":null,"created_at":null}"#
        );
        assert_eq!(
            get(&mut c, "stats.hp").unwrap(),
            r#"{"cur":100,"max":100,"regen":1.0,"since":null}"#
        );
        assert_eq!(get(&mut c, "stats.hp.cur").unwrap(), "100");
        assert_eq!(get(&mut c, "state").unwrap(), r#""onboarding""#);
        assert_eq!(get(&mut c, "bio.gender").unwrap(), "null");
        assert_eq!(get(&mut c, "skills.fire.lvl").unwrap(), "2");
        assert_eq!(get(&mut c, "skills.ice"), None);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "stats.level"]),
            "NOPATH no such path 'stats.level'"
        );
        // A place the schema leaves to the game reads as nil while it is absent.
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.GET", "ac:1", "level"]),
            None
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "$.bio"]),
            "NOPATH no such path '$.bio'"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "bio", "x"]),
            "ERR wrong number of arguments for 'account.get' command"
        );
    });
}

#[test]
fn a_document_corrupted_with_json_set_is_served_and_its_broken_vital_is_not() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.stats.hp.cur", r#""lots""#]);
        // Reads never refuse a whole document for one field (ACCOUNT.CHECK finds it) ...
        let whole: serde_json::Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1"])).unwrap();
        assert_eq!(whole["stats"]["hp"]["cur"], "lots");
        // ... but what needs the vital cannot use it.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "stats.hp"]),
            "CORRUPT stored document: stats.hp.cur must be an integer from 0 to 1000000000000000"
        );
        // Other sections still read.
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "state"]),
            r#""onboarding""#
        );
        q::<String>(&mut c, &["JSON.SET", "ac:2", "$", "[1,2,3]"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:2"]),
            "CORRUPT stored document: the document must be an object"
        );
        q::<String>(
            &mut c,
            &[
                "JSON.SET",
                "ac:3",
                "$",
                r#"{"state":"x","stats":{"hack":1}}"#,
            ],
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:3", "stats"]),
            "CORRUPT stored document: unknown field 'stats.hack'"
        );
    });
}

#[test]
fn exists_and_del() {
    for_each_server(|s| {
        let mut c = s.conn();
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]), 0);
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]), 1);
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.DEL", "ac:1"]), 1);
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.DEL", "ac:1"]), 0);
        assert_eq!(q::<i64>(&mut c, &["ACCOUNT.EXISTS", "ac:1"]), 0);
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "ac:1"]), 0);
    });
}

#[test]
fn lobby_cache_round_trip_with_ttl() {
    for_each_server(|s| {
        let mut c = s.conn();
        let list = r#"[{"character_id":1,"user_id":7,"name":"Aragorn","gender":"male","location_id":"52_52"}]"#;
        assert_eq!(
            q::<Option<String>>(&mut c, &["LOBBY.GETCACHE", "lobby:user:7"]),
            None
        );
        assert_eq!(
            q::<String>(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", list]),
            "OK"
        );
        assert_eq!(q::<i64>(&mut c, &["TTL", "lobby:user:7"]), 600);
        assert_eq!(
            q::<String>(&mut c, &["LOBBY.GETCACHE", "lobby:user:7"]),
            list
        );
        assert_eq!(q::<String>(&mut c, &["GET", "lobby:user:7"]), list);
        assert_eq!(
            q::<String>(
                &mut c,
                &["LOBBY.SETCACHE", "lobby:user:7", "[]", "EX", "30"]
            ),
            "OK"
        );
        assert_eq!(q::<i64>(&mut c, &["TTL", "lobby:user:7"]), 30);
        assert_eq!(
            q::<String>(&mut c, &["LOBBY.GETCACHE", "lobby:user:7"]),
            "[]"
        );
        assert_eq!(q::<i64>(&mut c, &["LOBBY.DELCACHE", "lobby:user:7"]), 1);
        assert_eq!(q::<i64>(&mut c, &["LOBBY.DELCACHE", "lobby:user:7"]), 0);
    });
}

#[test]
fn lobby_cache_rejects_bad_lists_and_keeps_the_old_one() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "[]"]);
        let e = |c: &mut redis::Connection, args: &[&str]| expect_err(c, args);
        let five = format!(
            "[{}]",
            (1..=5)
                .map(|i| format!(r#"{{"character_id":{i},"user_id":7}}"#))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", &five]),
            "LOBBY at most 4 characters per user, got 5"
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "{}"]),
            "LOBBY value must be a JSON array"
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "[{]"]),
            "INVALIDJSON malformed JSON at line 1 column 3"
        );
        assert_eq!(
            e(
                &mut c,
                &["LOBBY.SETCACHE", "lobby:user:7", r#"[{"user_id":7}]"#]
            ),
            "LOBBY entry 0: character_id is required"
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "[]", "EX", "0"]),
            "BADNUMBER EX must be an integer from 1 to 31536000"
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "[]", "EX", "x"]),
            "BADNUMBER EX must be an integer from 1 to 31536000"
        );
        assert_eq!(
            e(
                &mut c,
                &["LOBBY.SETCACHE", "lobby:user:7", "[]", "PX", "10"]
            ),
            "SYNTAX expected: LOBBY.SETCACHE key json [EX seconds] [IDMP request-id]"
        );
        assert_eq!(
            e(&mut c, &["LOBBY.SETCACHE", "lobby:user:7", "[]", "EX"]),
            "ERR wrong number of arguments for 'lobby.setcache' command"
        );
        assert_eq!(q::<String>(&mut c, &["GET", "lobby:user:7"]), "[]");
        assert_eq!(q::<i64>(&mut c, &["TTL", "lobby:user:7"]), 600);
        // A cache overwritten by someone else is reported.
        q::<String>(&mut c, &["SET", "lobby:user:8", "not json"]);
        assert_eq!(
            e(&mut c, &["LOBBY.GETCACHE", "lobby:user:8"]),
            "CORRUPT stored document: lobby cache is not valid JSON"
        );
    });
}

/// The first words of every error reply docs/commands.md lists.
const DOCUMENTED_CODES: [&str; 12] = [
    "ERR",
    "WRONGTYPE",
    "NOACCOUNT",
    "INVALIDJSON",
    "SCHEMA",
    "CORRUPT",
    "NOPATH",
    "LOBBY",
    "BADNUMBER",
    "LIMIT",
    "SYNTAX",
    "NOJSON",
];

#[test]
fn garbage_never_crashes_the_server() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        let junk: Vec<Vec<u8>> = vec![
            vec![],
            vec![0xff, 0xfe, 0x00],
            b"\x00\x00".to_vec(),
            "9".repeat(400).into_bytes(),
            "[".repeat(200_000).into_bytes(),
            format!("{{\"skills\":{{\"a\":\"{}\"}}}}", "x".repeat(2_000_000)).into_bytes(),
            b"{\"stats\":{\"hp\":{\"cur\":1e400}}}".to_vec(),
            b"{\"metrics\":{\"gear_score\":-9223372036854775809}}".to_vec(),
        ];
        for cmd in [
            "ACCOUNT.CREATE",
            "ACCOUNT.GET",
            "ACCOUNT.EXISTS",
            "ACCOUNT.DEL",
            "LOBBY.SETCACHE",
            "LOBBY.GETCACHE",
            "LOBBY.DELCACHE",
        ] {
            for j in &junk {
                for shape in 0..4 {
                    let mut r = redis::cmd(cmd);
                    match shape {
                        0 => r.arg(j.as_slice()),
                        1 => r.arg("ac:x").arg(j.as_slice()),
                        2 => r.arg("ac:x").arg(j.as_slice()).arg(j.as_slice()),
                        _ => r.arg("ac:x").arg(j.as_slice()).arg("EX").arg(j.as_slice()),
                    };
                    // A value, or an error with one of the documented codes: never a crash,
                    // never an inner command's error leaking out.
                    if let Err(e) = r.query::<redis::Value>(&mut c) {
                        let code = e.code().unwrap_or_default().to_string();
                        assert!(
                            DOCUMENTED_CODES.contains(&code.as_str()),
                            "{cmd}: {}",
                            err_text(&e)
                        );
                    }
                }
            }
        }
        assert_eq!(q::<String>(&mut c, &["PING"]), "PONG");
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["state"], "onboarding");
    });
}
