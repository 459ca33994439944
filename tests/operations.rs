//! The AccountManager operations as commands: SET, STATE, MOVE, SESSION, SETSTAT, INCR, MGET,
//! LINK, UNLINK. Exact replies, exact errors, and the document after the fact, on both servers.

mod common;
use common::*;
use serde_json::json;

fn fresh(c: &mut redis::Connection, key: &str) {
    q::<String>(c, &["ACCOUNT.CREATE", key]);
}

#[test]
fn set_replaces_sections_and_fields_all_or_nothing() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", r#""Legolas""#]),
            "OK"
        );
        assert_eq!(
            q::<String>(
                &mut c,
                &[
                    "ACCOUNT.SET",
                    "ac:1",
                    "attributes",
                    r#"{"luck":12}"#,
                    "metrics.gear_score",
                    "40",
                    "skills.fire.lvl",
                    "2"
                ]
            ),
            "OK"
        );
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(d["bio"]["name"], "Legolas");
        assert_eq!(d["attributes"]["luck"], 12);
        assert_eq!(
            d["attributes"]["strength"], 8,
            "a replaced section is filled with defaults"
        );
        assert_eq!(d["metrics"]["gear_score"], 40);
        assert_eq!(d["skills"], json!({"fire": {"lvl": 2}}));
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        // One bad pair rejects the whole call.
        let cases: &[(&[&str], &str)] = &[
            (
                &["bio.name", r#""X""#, "attributes.luck", "-1"],
                "SCHEMA attributes.luck must be at least 0",
            ),
            (
                &["bio.name", r#""X""#, "stats.level", "1"],
                "NOPATH no such path 'stats.level'",
            ),
            (
                &["bio.name", r#""X""#, "bio", "[1]"],
                "SCHEMA bio must be an object",
            ),
            (
                &["bio.name", r#""X""#, "bio", "{"],
                "INVALIDJSON malformed JSON at line 1 column 1",
            ),
            (
                &["bio.name", r#""X""#, "stats.hp.max", "10"],
                "SCHEMA stats.hp.cur must not exceed stats.hp.max",
            ),
            (
                &["stats.hp", r#"{"age":3}"#],
                "SCHEMA unknown field 'stats.hp.age'",
            ),
            (
                &["skills.fire.lvl.x", "1"],
                "SCHEMA skills.fire.lvl must be an object",
            ),
        ];
        for (pairs, want) in cases {
            let mut args = vec!["ACCOUNT.SET", "ac:1"];
            args.extend_from_slice(pairs);
            assert_eq!(expect_err(&mut c, &args), *want, "{pairs:?}");
        }
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name"]),
            "ERR wrong number of arguments for 'account.set' command"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "1", "x"]),
            "ERR wrong number of arguments for 'account.set' command"
        );
        assert_eq!(q::<String>(&mut c, &["JSON.GET", "ac:1"]), before);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:404", "bio.name", r#""X""#]),
            "NOACCOUNT no such account"
        );
        assert_eq!(q::<i64>(&mut c, &["EXISTS", "ac:404"]), 0);
    });
}

#[test]
fn state_transitions_keep_prev_state_and_honour_from() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.STATE", "ac:1", "scenario"]),
            "onboarding"
        );
        assert_eq!(
            q::<String>(
                &mut c,
                &["ACCOUNT.STATE", "ac:1", "combat", "FROM", "scenario"]
            ),
            "scenario"
        );
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(
            (d["state"].as_str(), d["prev_state"].as_str()),
            (Some("combat"), Some("scenario"))
        );
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.STATE", "ac:1", "lobby", "FROM", "scenario"]
            ),
            "STATECONFLICT state is 'combat', not 'scenario'"
        );
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["state"], "combat");
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", ""]),
            "SCHEMA state must be a string of at least 1 character"
        );
        assert_eq!(expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "a", "WHEN", "b"]), "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]");
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.STATE", "ac:404", "a"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "a", "FROM"]), "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]");
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.state", "5"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "a"]),
            "CORRUPT stored document: state must be a string"
        );
    });
}

#[test]
fn concurrent_transitions_with_from_never_both_succeed() {
    for_each_server(transitions_race);
}

fn transitions_race(s: &Server) {
    let mut c = s.conn();
    for round in 0..20 {
        q::<String>(
            &mut c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"state":"exploration"}"#],
        );
        let wins: usize = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|i| {
                    scope.spawn(move || {
                        let mut c = s.conn();
                        let to = format!("combat_{i}");
                        redis::cmd("ACCOUNT.STATE")
                            .arg("ac:1")
                            .arg(&to)
                            .arg("FROM")
                            .arg("exploration")
                            .query::<String>(&mut c)
                            .is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap() as usize)
                .sum()
        });
        assert_eq!(wins, 1, "round {round}");
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(d["prev_state"], "exploration");
        assert!(d["state"].as_str().unwrap().starts_with("combat_"));
    }
}

#[test]
fn move_keeps_the_previous_location() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.MOVE", "ac:1", "dark_forest"]),
            "start_village"
        );
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.MOVE", "ac:1", "castle"]),
            "dark_forest"
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["location"],
            json!({"current": "castle", "prev": "dark_forest"})
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MOVE", "ac:404", "x"]),
            "NOACCOUNT no such account"
        );
        let long = "x".repeat(1025);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MOVE", "ac:1", &long]),
            "SCHEMA location.current must be a string of at most 1024 characters or null"
        );
    });
}

#[test]
fn session_links_and_clears() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.SESSION", "ac:1", "combat", "c_123"]),
            None
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.SESSION", "ac:1", "inventory", "inv_456"]),
            None
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.SESSION", "ac:1", "combat", "c_789"]),
            Some("c_123".into())
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.SESSION", "ac:1", "SCENARIO", "s_1"]),
            None
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["sessions"],
            json!({"combat_id": "c_789", "inventory_id": "inv_456", "scenario_id": "s_1"})
        );
        assert_eq!(
            q::<Option<String>>(&mut c, &["ACCOUNT.SESSION", "ac:1", "combat", "none"]),
            Some("c_789".into())
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["sessions"]["combat_id"],
            json!(null)
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SESSION", "ac:1", "trade", "t"]),
            "SYNTAX session must be combat, inventory or scenario"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SESSION", "ac:404", "combat", "c"]),
            "NOACCOUNT no such account"
        );
    });
}

#[test]
fn setstat_clamps_cur_and_validates_max() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "85"]),
            vec![85, 100]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "500"]),
            vec![100, 100]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "mp", "-5"]),
            vec![0, 50]
        );
        assert_eq!(
            q::<Vec<i64>>(
                &mut c,
                &["ACCOUNT.SETSTAT", "ac:1", "stamina", "150", "200"]
            ),
            vec![150, 200]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "stamina", "150", "20"]),
            vec![20, 20]
        );
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(
            (
                d["stats"]["hp"]["cur"].as_i64(),
                d["stats"]["hp"]["max"].as_i64()
            ),
            (Some(100), Some(100))
        );
        assert_eq!(
            (
                d["stats"]["mp"]["cur"].as_i64(),
                d["stats"]["mp"]["max"].as_i64()
            ),
            (Some(0), Some(50))
        );
        assert!(
            d["stats"]["mp"]["since"].is_f64(),
            "mp left full: its clock started"
        );
        assert_eq!(
            (
                d["stats"]["stamina"]["cur"].as_i64(),
                d["stats"]["stamina"]["max"].as_i64()
            ),
            (Some(20), Some(20))
        );
        let max_err = "BADNUMBER max must be an integer from 0 to 1000000000000000";
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "5", "-1"]),
            max_err
        );
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.SETSTAT", "ac:1", "hp", "5", "1000000000000001"]
            ),
            max_err
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "5.5"]),
            "BADNUMBER cur must be an integer"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "xp", "5"]),
            "SYNTAX stat must be hp, mp or stamina"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SETSTAT", "ac:404", "hp", "5"]),
            "NOACCOUNT no such account"
        );
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["stats"]["hp"]["cur"], 100);
        // A vital at rest and without a clock keeps `since` null: a write that a merge patch
        // cannot express (null would delete the field) goes by path.
        fresh(&mut c, "ac:2");
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:2", "hp", "120", "120"]),
            vec![120, 120]
        );
        let hp = &json_get(&mut c, "ac:2").unwrap()["stats"]["hp"];
        assert_eq!(
            hp.to_string(),
            r#"{"cur":120,"max":120,"regen":1.0,"since":null}"#
        );
    });
}

#[test]
fn incr_is_an_exact_integer_increment() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"]),
            1
        );
        assert_eq!(
            q::<i64>(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "41"]
            ),
            42
        );
        assert_eq!(
            q::<i64>(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_rating", "-15"]
            ),
            -15
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "attributes.luck", "2"]),
            10
        );
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.SET",
                "ac:1",
                "metrics.gear_score",
                "9223372036854775806",
            ],
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "1"]),
            i64::MAX
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "1"]),
            "OVERFLOW increment would overflow"
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["metrics"]["gear_score"],
            i64::MAX
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "attributes.luck", "-11"]),
            "SCHEMA attributes.luck must be at least 0"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "bio.name", "1"]),
            "SCHEMA bio.name is not a number field"
        );
        // A metric the schema does not name (the original counts `kills`) starts from 0; metrics
        // take decimal deltas (the original's arena_rating 1200.7), attributes do not.
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.kills", "2"]),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.kills", "1"]),
            3
        );
        q::<String>(
            &mut c,
            &["ACCOUNT.SET", "ac:1", "metrics.arena_rating", "1200"],
        );
        assert_eq!(
            q::<String>(
                &mut c,
                &["ACCOUNT.INCR", "ac:1", "metrics.arena_rating", "0.7"]
            ),
            "1200.7"
        );
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["metrics"]["arena_rating"],
            1200.7
        );
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["metrics"]["kills"], 3);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "attributes.luck", "1.5"]),
            "BADNUMBER delta must be an integer from -9223372036854775808 to 9223372036854775807"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "stats.hp.x", "1"]),
            "NOPATH no such path 'stats.hp.x'"
        );
        q::<String>(
            &mut c,
            &["ACCOUNT.SET", "ac:1", "metrics.title", r#""champion""#],
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.title", "1"]),
            "SCHEMA metrics.title must be a number"
        );

        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.INCR", "ac:404", "metrics.arena_wins", "1"]
            ),
            "NOACCOUNT no such account"
        );
        // A document written before a section existed: the count starts from the default, and
        // is stored (the section is written whole, with the schema's defaults for the rest).
        fresh(&mut c, "ac:2");
        q::<i64>(&mut c, &["JSON.DEL", "ac:2", "$.metrics"]);
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:2", "metrics.arena_wins", "2"]),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:2", "metrics.arena_wins", "3"]),
            5
        );
        assert_eq!(
            q::<String>(&mut c, &["JSON.GET", "ac:2", "$.metrics"]),
            r#"[{"gear_score":0,"arena_rating":0,"arena_wins":5,"arena_losses":0,"win_streak":0}]"#
        );
        let metrics: String = q(&mut c, &["ACCOUNT.GET", "ac:2", "metrics"]);
        assert_eq!(
            metrics,
            r#"{"gear_score":0,"arena_rating":0,"arena_wins":5,"arena_losses":0,"win_streak":0}"#
        );
    });
}

#[test]
fn concurrent_increments_lose_nothing() {
    for_each_server(increments_race);
}

fn increments_race(s: &Server) {
    let mut c = s.conn();
    fresh(&mut c, "ac:1");
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(move || {
                let mut c = s.conn();
                for _ in 0..250 {
                    q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "metrics.arena_wins", "1"]);
                }
            });
        }
    });
    assert_eq!(
        json_get(&mut c, "ac:1").unwrap()["metrics"]["arena_wins"],
        2000
    );
}

#[test]
fn mget_reads_many_documents_or_one_path_of_each() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(
            &mut c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"bio":{"name":"A"}}"#],
        );
        q::<String>(
            &mut c,
            &["ACCOUNT.CREATE", "ac:2", r#"{"bio":{"name":"B"}}"#],
        );
        q::<String>(&mut c, &["SET", "ac:3", "x"]);
        // redis-rs turns an error element into an error for the whole reply: read it as redis-cli shows it.
        assert_eq!(
            s.cli_line("ACCOUNT.MGET PATH bio.name ac:1 ac:404 ac:2 ac:3"),
            "1) \"\\\"A\\\"\"\n2) (nil)\n3) \"\\\"B\\\"\"\n4) (error) WRONGTYPE Operation against a key holding the wrong kind of value"
        );
        let whole: Vec<Option<String>> = q(&mut c, &["ACCOUNT.MGET", "ac:1", "ac:404"]);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(whole[0].as_ref().unwrap()).unwrap(),
            json_get(&mut c, "ac:1").unwrap()
        );
        assert_eq!(whole[1], None);
        assert_eq!(
            q::<Vec<String>>(
                &mut c,
                &[
                    "COMMAND",
                    "GETKEYS",
                    "ACCOUNT.MGET",
                    "PATH",
                    "bio",
                    "ac:1",
                    "ac:2"
                ]
            ),
            vec!["ac:1", "ac:2"]
        );
        assert_eq!(
            q::<Vec<String>>(
                &mut c,
                &["COMMAND", "GETKEYS", "ACCOUNT.MGET", "ac:1", "ac:2"]
            ),
            vec!["ac:1", "ac:2"]
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MGET", "PATH", "stats.nope", "ac:1"]),
            "NOPATH no such path 'stats.nope'"
        );
    });
}

#[test]
fn link_and_unlink_many_characters() {
    for_each_server(|s| {
        let mut c = s.conn();
        for k in ["{g}ac:1", "{g}ac:2", "{g}ac:3"] {
            fresh(&mut c, k);
        }
        assert_eq!(
            q::<i64>(
                &mut c,
                &[
                    "ACCOUNT.LINK",
                    "combat",
                    "c_9",
                    "{g}ac:1",
                    "{g}ac:2",
                    "{g}ac:3"
                ]
            ),
            3
        );
        for k in ["{g}ac:1", "{g}ac:2", "{g}ac:3"] {
            assert_eq!(json_get(&mut c, k).unwrap()["sessions"]["combat_id"], "c_9");
        }
        // All or nothing: one missing character and nobody is linked.
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.LINK", "combat", "c_10", "{g}ac:1", "{g}ac:404"]
            ),
            "NOACCOUNT no such account"
        );
        assert_eq!(
            json_get(&mut c, "{g}ac:1").unwrap()["sessions"]["combat_id"],
            "c_9"
        );
        q::<i64>(&mut c, &["ACCOUNT.DEL", "{g}ac:3"]);
        assert_eq!(
            q::<i64>(
                &mut c,
                &["ACCOUNT.UNLINK", "combat", "{g}ac:1", "{g}ac:2", "{g}ac:3"]
            ),
            2
        );
        assert_eq!(
            q::<i64>(&mut c, &["ACCOUNT.UNLINK", "combat", "{g}ac:1", "{g}ac:2"]),
            0
        );
        assert_eq!(
            json_get(&mut c, "{g}ac:2").unwrap()["sessions"]["combat_id"],
            json!(null)
        );
        assert_eq!(
            q::<Vec<String>>(
                &mut c,
                &[
                    "COMMAND",
                    "GETKEYS",
                    "ACCOUNT.LINK",
                    "combat",
                    "c",
                    "{g}ac:1",
                    "{g}ac:2"
                ]
            ),
            vec!["{g}ac:1", "{g}ac:2"]
        );
        assert_eq!(
            q::<Vec<String>>(
                &mut c,
                &["COMMAND", "GETKEYS", "ACCOUNT.UNLINK", "combat", "{g}ac:1"]
            ),
            vec!["{g}ac:1"]
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.LINK", "trade", "t", "{g}ac:1"]),
            "SYNTAX session must be combat, inventory or scenario"
        );
    });
}

#[test]
fn writes_to_a_corrupted_document_are_refused() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.stats.hp.max", r#""big""#]);
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        let corrupt =
            "CORRUPT stored document: stats.hp.max must be an integer from 0 to 1000000000000000";
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "hp", "5"]),
            corrupt
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "stats.hp.cur", "5"]),
            corrupt
        );
        assert_eq!(
            q::<String>(&mut c, &["JSON.GET", "ac:1"]),
            before,
            "a refused write changed the document"
        );
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.sessions", "[]"]);
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SESSION", "ac:1", "combat", "c"]),
            "CORRUPT stored document: sessions must be an object"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.LINK", "combat", "c", "ac:1"]),
            "CORRUPT stored document: sessions must be an object"
        );
        assert_eq!(
            q::<String>(&mut c, &["JSON.GET", "ac:1"]),
            before,
            "a refused write changed the document"
        );
    });
}

/// Documents as the original game writes them (plain JSON.SET, fields the module's schema does
/// not name, an upper-case state, hp above max) are read and written through every command.
#[test]
fn documents_the_original_game_writes_keep_working() {
    for_each_server(|s| {
        let mut c = s.conn();
        let original = json!({
            "state": "SCENARIO", "prev_state": "exploration", "active_quest": "tutorial_quest",
            "bio": {"name": "Aragorn", "gender": "male", "created_at": null, "title": "Scout"},
            "location": {"current": "53_52", "prev": "52_52", "previous": "52_52"}, "location_id": "53_52",
            "stats": {"hp": {"cur": 130, "max": 100, "regen": 0.0}, "mp": {"cur": 50, "max": 50, "regen": 0.0},
                      "stamina": {"cur": 100, "max": 100, "regen": 0.0}, "last_update": 1700000000.5},
            "attributes": {"strength": 8}, "sessions": {"combat_id": null, "scenario_id": "sc_1"},
            "metrics": {"gear_score": 0, "arena_rating": 1200.7, "kills": 4}, "skills": {}, "tokens": {"gold": 5}
        });
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$", &original.to_string()]);
        let whole: serde_json::Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1"])).unwrap();
        for (k, v) in [
            ("active_quest", json!("tutorial_quest")),
            ("location_id", json!("53_52")),
            ("tokens", json!({"gold": 5})),
            ("state", json!("SCENARIO")),
        ] {
            assert_eq!(whole[k], v, "{k}");
        }
        assert_eq!(whole["bio"]["title"], "Scout");
        assert_eq!(whole["location"]["previous"], "52_52");
        assert_eq!(whole["metrics"]["kills"], 4);
        assert_eq!(whole["metrics"]["arena_rating"], 1200.7);
        // hp above max is served clamped, and changed clamped.
        assert_eq!(whole["stats"]["hp"]["cur"], 100);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats.hp.cur"]),
            "100"
        );
        let stats: serde_json::Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats"])).unwrap();
        assert_eq!(stats["hp"]["cur"], 100);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "active_quest"]),
            r#""tutorial_quest""#
        );
        let mget: Vec<String> = q(&mut c, &["ACCOUNT.MGET", "PATH", "bio.title", "ac:1"]);
        assert_eq!(mget, vec![r#""Scout""#.to_string()]);
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "30"]),
            vec![70, 30]
        );
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.SET",
                "ac:1",
                "bio.title",
                r#""Ranger""#,
                "active_quest",
                "null",
            ],
        );
        assert_eq!(
            q::<String>(
                &mut c,
                &["ACCOUNT.STATE", "ac:1", "EXPLORATION", "FROM", "SCENARIO"]
            ),
            "SCENARIO"
        );
        let stored = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(stored["bio"]["title"], "Ranger");
        assert_eq!(stored["active_quest"], json!(null));
        assert_eq!(stored["tokens"], json!({"gold": 5}));
        assert_eq!(stored["location"]["previous"], "52_52");
        assert_eq!(stored["stats"]["hp"]["cur"], 70);
        assert_eq!(
            (stored["state"].clone(), stored["prev_state"].clone()),
            (json!("EXPLORATION"), json!("SCENARIO"))
        );
    });
}

/// ACCOUNT.STATE ... SET: a transition that sets other places in the same step (the original's
/// enter_scenario / leave_scenario), all or nothing.
#[test]
fn state_transitions_set_other_places_in_the_same_step() {
    for_each_server(|s| {
        let mut c = s.conn();
        fresh(&mut c, "ac:1");
        let enter = [
            "ACCOUNT.STATE",
            "ac:1",
            "SCENARIO",
            "SET",
            "sessions.scenario_id",
            r#""sc_1""#,
            "active_quest",
            r#""tutorial_quest""#,
        ];
        assert_eq!(q::<String>(&mut c, &enter), "onboarding");
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(
            (d["state"].clone(), d["prev_state"].clone()),
            (json!("SCENARIO"), json!("onboarding"))
        );
        assert_eq!(
            (
                d["sessions"]["scenario_id"].clone(),
                d["active_quest"].clone()
            ),
            (json!("sc_1"), json!("tutorial_quest"))
        );
        let before: String = q(&mut c, &["JSON.GET", "ac:1"]);
        // Refused, whole: a wrong FROM, a value that breaks the schema, a malformed tail.
        let refused: &[(&[&str], &str)] = &[
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "FROM", "combat", "SET", "active_quest", "null"], "STATECONFLICT state is 'SCENARIO', not 'combat'"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET", "active_quest", "null", "sessions.scenario_id", "5"], "SCHEMA sessions.scenario_id must be a string or null"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET", "active_quest", "{"], "INVALIDJSON malformed JSON at line 1 column 1"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET", "active_quest"], "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET"], "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "FROM"], "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET", "state", r#""x""#], "SYNTAX state is set by the transition itself"),
            (&["ACCOUNT.STATE", "ac:1", "EXPLORATION", "SET", "stats.hp.x", "1"], "NOPATH no such path 'stats.hp.x'"),
            (&["ACCOUNT.STATE", "ac:404", "EXPLORATION", "SET", "active_quest", "null"], "NOACCOUNT no such account"),
        ];
        for (args, want) in refused {
            assert_eq!(expect_err(&mut c, args), *want, "{args:?}");
            assert_eq!(
                q::<String>(&mut c, &["JSON.GET", "ac:1"]),
                before,
                "{args:?} changed the document"
            );
        }
        let leave = [
            "ACCOUNT.STATE",
            "ac:1",
            "EXPLORATION",
            "FROM",
            "SCENARIO",
            "SET",
            "sessions.scenario_id",
            "null",
            "active_quest",
            "null",
        ];
        assert_eq!(q::<String>(&mut c, &leave), "SCENARIO");
        let d = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(
            (d["state"].clone(), d["prev_state"].clone()),
            (json!("EXPLORATION"), json!("SCENARIO"))
        );
        assert_eq!(
            (
                d["sessions"]["scenario_id"].clone(),
                d["active_quest"].clone()
            ),
            (json!(null), json!(null))
        );
    });
}
