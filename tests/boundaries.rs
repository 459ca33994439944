//! The edges an operator's mistakes reach: key permissions as declared, one depth rule for what
//! is stored and what is accepted, integers at the ends of their range, the idle TTL on writes
//! that change nothing, parts of a document that are not objects.

mod common;
use common::*;
use serde_json::json;

/// The reads, and the writes that return nothing of the key's data: each is allowed by exactly
/// the key permission its key spec declares.
#[test]
fn key_permissions_are_the_declared_access() {
    for_each_server(|s| {
        let mut admin = s.conn();
        q::<String>(
            &mut admin,
            &[
                "ACL",
                "SETUSER",
                "reader",
                "on",
                "nopass",
                "%R~ac:*",
                "%R~lobby:*",
                "+@all",
            ],
        );
        q::<String>(
            &mut admin,
            &[
                "ACL",
                "SETUSER",
                "writer",
                "on",
                "nopass",
                "%W~ac:*",
                "%W~lobby:*",
                "+@all",
            ],
        );
        q::<String>(
            &mut admin,
            &[
                "ACL", "SETUSER", "both", "on", "nopass", "~ac:*", "~lobby:*", "~logouts", "+@all",
            ],
        );
        let login = |user: &str| {
            let mut c = s.conn();
            q::<String>(&mut c, &["AUTH", user, "x"]);
            c
        };
        let setup = |c: &mut redis::Connection| {
            q::<()>(c, &["FLUSHALL"]);
            q::<String>(c, &["ACCOUNT.CREATE", "ac:1"]);
            q::<String>(c, &["LOBBY.SETCACHE", "lobby:1", "[]"]);
        };
        assert_eq!(
            q::<Vec<redis::Value>>(
                &mut admin,
                &["COMMAND", "GETKEYSANDFLAGS", "ACCOUNT.MGET", "ac:1"]
            ),
            vec![redis::Value::Array(vec![
                redis::Value::BulkString(b"ac:1".to_vec()),
                redis::Value::Array(vec![
                    redis::Value::SimpleString("RO".into()),
                    redis::Value::SimpleString("access".into())
                ]),
            ])]
        );
        let reads: &[&[&str]] = &[
            &["ACCOUNT.GET", "ac:1"],
            &["ACCOUNT.GET", "ac:1", "stats"],
            &["ACCOUNT.MGET", "ac:1"],
            &["ACCOUNT.MGET", "PATH", "bio", "ac:1"],
            &["LOBBY.GETCACHE", "lobby:1"],
        ];
        // Writes whose reply carries nothing of the key: write permission is enough.
        let blind_writes: &[&[&str]] = &[
            &["ACCOUNT.CREATE", "ac:2"],
            &["ACCOUNT.SET", "ac:1", "bio.name", r#""x""#],
            &["ACCOUNT.LINK", "combat", "c1", "ac:1"],
            &["ACCOUNT.UNLINK", "combat", "ac:1"],
            &["ACCOUNT.DEL", "ac:1"],
            &["LOBBY.SETCACHE", "lobby:1", "[]"],
            &["LOBBY.DELCACHE", "lobby:1"],
        ];
        // Writes that answer with the key's data (as Redis's INCR does) need read permission too.
        let reading_writes: &[&[&str]] = &[
            &["ACCOUNT.STATE", "ac:1", "combat"],
            &["ACCOUNT.MOVE", "ac:1", "town"],
            &["ACCOUNT.SESSION", "ac:1", "combat", "c1"],
            &["ACCOUNT.SETSTAT", "ac:1", "hp", "5"],
            &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"],
            &["ACCOUNT.DAMAGE", "ac:1", "1"],
            &["ACCOUNT.HEAL", "ac:1", "1"],
            &["ACCOUNT.SPEND", "ac:1", "mp", "1"],
            &["ACCOUNT.APPLY", "ac:1", "hp", "-1"],
            &["ACCOUNT.REGEN", "ac:1"],
        ];
        let (mut reader, mut writer, mut rw) = (login("reader"), login("writer"), login("both"));
        let denied = |c: &mut redis::Connection, args: &[&str]| {
            let e = expect_err(c, args);
            assert!(e.starts_with("NOPERM"), "{:?} {args:?}: {e}", s.flavor);
        };
        for args in reads {
            setup(&mut admin);
            run_ok(&mut reader, args);
            denied(&mut writer, args);
        }
        // EXISTS reads nothing of the value (as Redis's EXISTS): either permission will do.
        run_ok(&mut reader, &["ACCOUNT.EXISTS", "ac:1"]);
        run_ok(&mut writer, &["ACCOUNT.EXISTS", "ac:1"]);
        for args in blind_writes {
            setup(&mut admin);
            run_ok(&mut writer, args);
            denied(&mut reader, args);
        }
        for args in reading_writes {
            setup(&mut admin);
            denied(&mut writer, args);
            denied(&mut reader, args);
            run_ok(&mut rw, args);
        }
        setup(&mut admin);
        denied(&mut writer, &["ACCOUNT.LOGOUT", "ac:1", "logouts"]);
        run_ok(&mut rw, &["ACCOUNT.LOGOUT", "ac:1", "logouts"]);
    });
}

fn run_ok(c: &mut redis::Connection, args: &[&str]) {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    if let Err(e) = cmd.query::<redis::Value>(c) {
        panic!("{args:?}: {}", err_text(&e));
    }
}

/// Whatever the module stored can be created again: SET cannot nest deeper than CREATE accepts,
/// and a LOGOUT entry's document restores.
#[test]
fn one_depth_rule_for_what_is_stored_and_accepted() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        // The root is level 1 and skills level 2: 30 more levels fill the 32.
        let nest = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "skills.a", &nest(30)]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "skills.a", &nest(31)]),
            "LIMIT JSON nested deeper than 32 levels"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "skills.b.c", &nest(30)]),
            "LIMIT JSON nested deeper than 32 levels"
        );
        let id: String = q(&mut c, &["ACCOUNT.LOGOUT", "ac:1", "logouts"]);
        let entries: Vec<(String, Vec<String>)> = q(&mut c, &["XRANGE", "logouts", &id, &id]);
        let doc = &entries[0].1[entries[0].1.iter().position(|f| f == "doc").unwrap() + 1];
        assert_eq!(q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", doc]), "OK");
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["skills"]["a"],
            serde_json::from_str::<serde_json::Value>(&nest(30)).unwrap()
        );
        // A section stored deeper by other means: writes of other sections go on (moderate checks
        // what a write touches), writes of it do not, and strict checks the whole document.
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.skills.a", &nest(40)]);
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "\"Deep\""]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "skills.b", "1"]),
            "LIMIT JSON nested deeper than 32 levels"
        );
        q::<String>(
            &mut c,
            &["CONFIG", "SET", "account.validation-level", "strict"],
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "\"Deeper\""]),
            "LIMIT JSON nested deeper than 32 levels"
        );
        q::<String>(
            &mut c,
            &["CONFIG", "SET", "account.validation-level", "moderate"],
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["bio"]["name"],
            json!("Deep")
        );
    });
}

#[test]
fn integers_at_the_ends_of_their_range() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(
            q::<i64>(
                &mut c,
                &[
                    "ACCOUNT.INCR",
                    "ac:1",
                    "metrics.arena_rating",
                    "-9223372036854775808"
                ]
            ),
            i64::MIN
        );
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_rating", "-1"]
            ),
            "OVERFLOW increment would overflow"
        );
        assert_eq!(
            q::<i64>(
                &mut c,
                &[
                    "ACCOUNT.INCR",
                    "ac:1",
                    "metrics.arena_rating",
                    "9223372036854775807"
                ]
            ),
            -1
        );
        assert_eq!(
            q::<i64>(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_rating", "1"]
            ),
            0
        );
        for bad in [
            "-9223372036854775809",
            "9223372036854775808",
            "-0",
            "+1",
            "01",
        ] {
            assert_eq!(
                expect_err(
                    &mut c,
                    &["ACCOUNT.INCR", "ac:1", "metrics.arena_rating", bad]
                ),
                "BADNUMBER delta must be a number",
                "{bad}"
            );
            assert_eq!(
                expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "attributes.luck", bad]),
                "BADNUMBER delta must be an integer from -9223372036854775808 to 9223372036854775807",
                "{bad}"
            );
        }
        assert_eq!(
            q::<Vec<Vec<i64>>>(
                &mut c,
                &["ACCOUNT.APPLY", "ac:1", "mp", "-9223372036854775808"]
            ),
            vec![vec![0, -50]]
        );
        assert_eq!(
            q::<Vec<Vec<i64>>>(
                &mut c,
                &["ACCOUNT.APPLY", "ac:1", "mp", "9223372036854775807"]
            ),
            vec![vec![50, 50]]
        );
        // JSON -0 is the integer 0, as -0.0 is.
        for zero in ["-0", "-0.0", "0.0"] {
            q::<String>(
                &mut c,
                &[
                    "ACCOUNT.CREATE",
                    "ac:2",
                    &format!(
                        r#"{{"attributes":{{"luck":{zero}}},"stats":{{"hp":{{"cur":{zero}}}}}}}"#
                    ),
                ],
            );
            let d = json_get(&mut c, "ac:2").unwrap();
            assert_eq!(
                (
                    d["attributes"]["luck"].to_string(),
                    d["stats"]["hp"]["cur"].to_string()
                ),
                ("0".into(), "0".into()),
                "{zero}"
            );
            q::<String>(&mut c, &["ACCOUNT.SET", "ac:2", "attributes.luck", zero]);
            assert_eq!(
                json_get(&mut c, "ac:2").unwrap()["attributes"]["luck"].to_string(),
                "0",
                "{zero}"
            );
        }
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:2", "attributes.luck", "-0.5"]),
            "SCHEMA attributes.luck must be an integer"
        );
    });
}

/// Every write command that succeeds on an account refreshes the idle TTL, also when it changes
/// nothing.
#[test]
fn idle_ttl_is_refreshed_by_writes_that_change_nothing() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"stats":{"hp":{"regen":0},"mp":{"regen":0},"stamina":{"regen":0}}}"#,
            ],
        );
        q::<String>(&mut c, &["CONFIG", "SET", "account.idle-ttl", "1000"]);
        let unchanged: &[&[&str]] = &[
            &["ACCOUNT.HEAL", "ac:1", "5"],
            &["ACCOUNT.UNLINK", "combat", "ac:1"],
            &["ACCOUNT.APPLY", "ac:1", "hp", "7"],
            &["ACCOUNT.SETSTAT", "ac:1", "hp", "100"],
        ];
        for args in unchanged {
            q::<i64>(&mut c, &["PERSIST", "ac:1"]);
            let before = json_get(&mut c, "ac:1");
            run_ok(&mut c, args);
            assert_eq!(
                json_get(&mut c, "ac:1"),
                before,
                "{args:?} changed the document"
            );
            let ttl: i64 = q(&mut c, &["TTL", "ac:1"]);
            assert!(
                (990..=1000).contains(&ttl),
                "{:?} {args:?}: TTL {ttl}",
                s.flavor
            );
        }
        // A refused write is not activity.
        q::<i64>(&mut c, &["PERSIST", "ac:1"]);
        expect_err(&mut c, &["ACCOUNT.SPEND", "ac:1", "mp", "999"]);
        assert_eq!(q::<i64>(&mut c, &["TTL", "ac:1"]), -1);
        // Nor is a CREATE NX that found the key.
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.CREATE", "ac:1", "NX"]),
            None
        );
        assert_eq!(q::<i64>(&mut c, &["TTL", "ac:1"]), -1);
    });
}

/// A part read through a place that holds something else than an object is CORRUPT, never a
/// default; the same for the whole document.
#[test]
fn parts_under_a_non_object_are_corrupt() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.bio", "5"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "bio.name"]),
            "CORRUPT stored document: bio must be an object"
        );
        // The part itself is served as stored: reads do not judge it by the schema.
        assert_eq!(q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "bio"]), "5");
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.skills", r#"{"fire":3}"#]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "skills.fire.lvl"]),
            "CORRUPT stored document: skills.fire must be an object"
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.GET", "ac:1", "skills.water.lvl"]),
            None
        );
        // A section an older document lacks still reads as its default.
        q::<i64>(&mut c, &["JSON.DEL", "ac:1", "$.location"]);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "location.current"]),
            json!("start_village").to_string()
        );
    });
}

/// A write may not take a document past 256 KiB of text, counted exactly, on both read paths
/// and at both levels that read differently (moderate reads only the members a write changes,
/// strict the whole document); a write that does not lengthen what it changes never fails it.
#[test]
fn the_document_size_limit_counts_the_whole_text() {
    const LIMIT: usize = 262_144;
    for_each_server(|s| {
        let mut c = s.conn();
        for shared in ["yes", "no"] {
            for level in ["moderate", "strict"] {
                q::<()>(&mut c, &["FLUSHALL"]);
                q::<String>(
                    &mut c,
                    &[
                        "CONFIG",
                        "SET",
                        "account.shared-api",
                        shared,
                        "account.validation-level",
                        level,
                    ],
                );
                q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
                let len = |c: &mut redis::Connection| q::<String>(c, &["JSON.GET", "ac:1"]).len();
                // Numbers RedisJSON prints its own way (1e20, not 1e+20) count as it prints them.
                let floats = format!("[{}]", vec!["1e20"; 100].join(","));
                q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "skills.f", &floats]);
                let big = |n: usize| format!("\"{}\"", "x".repeat(n));
                q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "skills.big", &big(0)]);
                // The string grown to 5 bytes short of the limit.
                let n = LIMIT - 5 - len(&mut c);
                q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "skills.big", &big(n)]);
                assert_eq!(len(&mut c), LIMIT - 5);
                // ,"y":12 is 7 bytes: 2 too many; ,"y":1 is 6: 1 too many; the document is unchanged.
                for y in ["12", "1"] {
                    assert_eq!(
                        expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "skills.y", y]),
                        "LIMIT document larger than 262144 bytes",
                        "{shared} {level}"
                    );
                }
                assert_eq!(len(&mut c), LIMIT - 5);
                // Shorter by 1, then ,"y":1 fits exactly.
                q::<String>(
                    &mut c,
                    &[
                        "ACCOUNT.SET",
                        "ac:1",
                        "skills.big",
                        &big(n - 1),
                        "skills.y",
                        "1",
                    ],
                );
                assert_eq!(len(&mut c), LIMIT, "{shared} {level}");
                // At the limit: a write that does not lengthen its members goes through, one that does not.
                q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "skills.y", "2"]);
                assert_eq!(
                    q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "1"]),
                    1
                );
                assert_eq!(len(&mut c), LIMIT);
                assert_eq!(
                    expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "9"]),
                    "LIMIT document larger than 262144 bytes"
                );
                assert_eq!(
                    expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "exploration"]),
                    "LIMIT document larger than 262144 bytes"
                );
                assert_eq!(
                    json_get(&mut c, "ac:1").unwrap()["metrics"]["gear_score"],
                    json!(1)
                );
                assert_eq!(len(&mut c), LIMIT);
            }
        }
        q::<String>(
            &mut c,
            &[
                "CONFIG",
                "SET",
                "account.shared-api",
                "yes",
                "account.validation-level",
                "moderate",
            ],
        );
    });
}
