//! The game owns its schema: the shipped one, a schema pydantic generates, a swap at run time
//! (and a broken one refused with the old kept), loading at start, validation levels and
//! actions, and the migration check.

mod common;
use common::*;
use serde_json::{json, Value};

fn schema_hash(c: &mut redis::Connection) -> String {
    let reply: Vec<redis::Value> = q(c, &["ACCOUNT.SCHEMA", "GET"]);
    match &reply[1] {
        redis::Value::BulkString(b) => String::from_utf8(b.clone()).unwrap(),
        other => panic!("{other:?}"),
    }
}

fn schema_get(c: &mut redis::Connection) -> (String, String, Vec<String>, Value) {
    let r: (
        String,
        String,
        String,
        String,
        String,
        Vec<String>,
        String,
        String,
    ) = q(c, &["ACCOUNT.SCHEMA", "GET"]);
    assert_eq!(
        (r.0.as_str(), r.2.as_str(), r.4.as_str(), r.6.as_str()),
        ("hash", "source", "vitals", "schema")
    );
    (r.1, r.3, r.5, serde_json::from_str(&r.7).unwrap())
}

/// The schema pydantic generates for a model of the original AccountContextDTO
/// (tests/pydantic/account_model.py), with Python >= 3.12 from `make deps`.
fn pydantic_schema(args: &[&str]) -> String {
    let py = root().join(".deps/py312/bin/python");
    let out = std::process::Command::new(&py)
        .arg(root().join("tests/pydantic/account_model.py"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e} (make deps installs it)", py.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("schemas-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn the_shipped_schema_is_in_force_and_shown_with_its_hash() {
    for_each_server(|s| {
        let mut c = s.conn();
        let (hash, source, vitals, schema) = schema_get(&mut c);
        assert_eq!(source, "shipped");
        assert_eq!(vitals, ["stats.hp", "stats.mp", "stats.stamina"]);
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(schema, file);
        assert_eq!(hash.len(), 16);
        assert_eq!(info_field(&mut c, "account_schema_hash"), hash);
        assert_eq!(info_field(&mut c, "account_schema_source"), "shipped");
        assert_eq!(info_field(&mut c, "account_validation_level"), "moderate");
        assert_eq!(info_field(&mut c, "account_validation_action"), "error");
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.schema"]),
            ["account.schema", ""]
        );
    });
}

#[test]
fn a_schema_swaps_at_run_time_and_a_broken_one_is_refused_with_the_old_kept() {
    for_each_server(|s| {
        let mut c = s.conn();
        let shipped = schema_hash(&mut c);
        // The shipped schema with a shorter name.
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        )
        .unwrap();
        doc["properties"]["bio"]["properties"]["name"] = json!({"type": "string", "maxLength": 5, "description": "shown in the party list", "default": "Hero"});
        let new_hash: String = q(&mut c, &["ACCOUNT.SCHEMA", "SET", &doc.to_string()]);
        assert_ne!(new_hash, shipped);
        assert_eq!(schema_get(&mut c).1, "inline");
        assert_eq!(info_field(&mut c, "account_schema_hash"), new_hash);
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.CREATE", "ac:1", r#"{"bio":{"name":"Aragorn"}}"#]
            ),
            "SCHEMA bio.name must be a string of at most 5 characters (shown in the party list)"
        );
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(
            json_get(&mut c, "ac:1").unwrap()["bio"]["name"],
            "Hero",
            "the new schema's default"
        );
        // Refused, all of it: the schema in force stays.
        for (bad, why) in [
            (r#"{"type":"object","properties":{"x":{"type":"object","patternProperties":{"^a":{}}}}}"#, "SCHEMA schema not loaded: unsupported keyword 'patternProperties' at '/properties/x'"),
            (r#"{"type":"object","properties":{"x":{"type":"string","pattern":"(a"}}}"#, "SCHEMA schema not loaded: 'pattern' is not a regular expression the module reads (unclosed group) at '/properties/x/pattern'"),
            ("{", "SCHEMA schema not loaded: not valid JSON: EOF while parsing an object at line 1 column 1"),
            (r#"{"type":"object"}"#, "SCHEMA schema not loaded: the schema declares the vitals []; the module needs 1 to 16 vitals, all members of one object of the document (as stats.hp, stats.mp)"),
        ] {
            assert_eq!(expect_err(&mut c, &["ACCOUNT.SCHEMA", "SET", bad]), why);
            assert_eq!(schema_hash(&mut c), new_hash);
        }
        // From a file, with CONFIG SET (what redis.conf and CONFIG REWRITE keep).
        let broken = temp_file(
            "broken.json",
            r#"{"type":"object","properties":{"a":{"if":{}}}}"#,
        );
        let e = expect_err(&mut c, &["CONFIG", "SET", "account.schema", &broken]);
        assert!(
            e.contains(&format!(
                "SCHEMA {broken}: unsupported keyword 'if' at '/properties/a'"
            )),
            "{e}"
        );
        assert_eq!(schema_hash(&mut c), new_hash);
        let missing = "/nonexistent/schema.json";
        assert!(
            expect_err(&mut c, &["CONFIG", "SET", "account.schema", missing])
                .contains("SCHEMA cannot read /nonexistent/schema.json")
        );
        let file = temp_file(
            "shipped.json",
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        );
        q::<String>(&mut c, &["CONFIG", "SET", "account.schema", &file]);
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.schema"]),
            ["account.schema", file.as_str()]
        );
        let (hash, source, _, _) = schema_get(&mut c);
        assert_eq!(
            (hash, source),
            (shipped.clone(), file.clone()),
            "the same schema has the same hash"
        );
        q::<String>(&mut c, &["CONFIG", "SET", "account.schema", ""]);
        assert_eq!(schema_get(&mut c).1, "shipped");
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SCHEMA", "DROP"]),
            "SYNTAX expected: ACCOUNT.SCHEMA GET | ACCOUNT.SCHEMA SET json"
        );
    });
}

#[test]
fn a_schema_file_loads_at_start_and_a_broken_one_stops_the_load() {
    let text = pydantic_schema(&["--vitals"]);
    let good = temp_file("pydantic.json", &text);
    let broken = temp_file(
        "start-broken.json",
        r#"{"type":"object","properties":{"a":{"patternProperties":{"x":{}}}}}"#,
    );
    for flavor in FLAVORS {
        let path = module().to_str().unwrap().to_string();
        let extra = ["--loadmodule", &path, "schema", &good]
            .map(String::from)
            .to_vec();
        let s = Server::start_with(
            flavor,
            Options {
                extra,
                with_module: false,
                ..Default::default()
            },
        );
        let mut c = s.conn();
        let (_, source, vitals, _) = schema_get(&mut c);
        assert_eq!(
            (source.as_str(), vitals),
            (
                good.as_str(),
                vec![
                    "stats.hp".to_string(),
                    "stats.mp".into(),
                    "stats.stamina".into()
                ]
            )
        );
        drop(s);
        // A server told to load a schema that does not compile does not start with another:
        // it exits (not 127: the binary ran, through the harness's one path) and logs why.
        let extra = ["--loadmodule", &path, "schema", &broken]
            .map(String::from)
            .to_vec();
        let failed = Server::start_failing(
            flavor,
            Options {
                extra,
                with_module: false,
                ..Default::default()
            },
        );
        assert!(
            !failed.status.success(),
            "{flavor:?} started with a broken schema"
        );
        assert_eq!(failed.status.code(), Some(1), "{flavor:?}: {}", failed.log);
        assert!(
            failed
                .log
                .contains("unsupported keyword 'patternProperties' at '/properties/a'"),
            "{flavor:?}: {}",
            failed.log
        );
    }
}

/// The schema pydantic generates from the original's DTO loads and works: documents as the
/// original writes them pass; what the game's own model forbids is refused, or with `warn`
/// accepted and counted.
#[test]
fn a_pydantic_generated_schema_loads_and_works() {
    let plain = pydantic_schema(&[]);
    for_each_server(|s| {
        let mut c = s.conn();
        // Unmarked: the vitals are found by their shape (integer cur and max).
        let hash: String = q(&mut c, &["ACCOUNT.SCHEMA", "SET", &plain]);
        assert_eq!(
            schema_get(&mut c).2,
            ["stats.hp", "stats.mp", "stats.stamina"]
        );
        assert_eq!(info_field(&mut c, "account_schema_hash"), hash);
        let doc = json!({
            "state": "exploration", "prev_state": null,
            "bio": {"name": "Aragorn", "gender": "male", "created_at": "2025-01-20T10:30:00Z"},
            "location": {"current": "52_52", "prev": null},
            "stats": {"hp": {"cur": 100, "max": 100, "regen": 1.0}, "mp": {"cur": 50, "max": 50, "regen": 1.0},
                      "stamina": {"cur": 100, "max": 100, "regen": 5.0}, "last_update": null},
            "attributes": {"strength": 8, "agility": 8, "endurance": 8, "intelligence": 8, "wisdom": 8, "men": 8,
                           "perception": 8, "charisma": 8, "luck": 8},
            "sessions": {"combat_id": null, "inventory_id": null, "scenario_id": null},
            "metrics": {"gear_score": 0}, "skills": {}
        });
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", &doc.to_string()]);
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "30"]),
            vec![70, 30]
        );
        assert_eq!(
            q::<String>(
                &mut c,
                &["ACCOUNT.STATE", "ac:1", "combats", "FROM", "exploration"]
            ),
            "exploration"
        );
        // The model's rules, in the module's words.
        assert_eq!(
            expect_err(
                &mut c,
                &["ACCOUNT.CREATE", "ac:2", r#"{"state":"exploration"}"#]
            ),
            "SCHEMA bio is required"
        );
        let e = expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "SCENARIO"]);
        assert!(
            e.starts_with(r#"SCHEMA state must be one of "exploration", "inventory", "status""#),
            "{e}"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "attributes.luck", "1.5"]),
            "SCHEMA attributes.luck must be an integer"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio", r#"{"name":"x"}"#]),
            "SCHEMA bio.gender is required"
        );
        // A game trying its schema on live traffic first: warn accepts, logs and counts.
        q::<String>(
            &mut c,
            &["CONFIG", "SET", "account.validation-action", "warn"],
        );
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.STATE", "ac:1", "SCENARIO"]),
            "combats"
        );
        assert_eq!(info_field(&mut c, "account_schema_warnings"), "1");
        assert!(
            s.log().contains(
                "schema violation accepted (validation-action warn) on key 'ac:1' at path 'state': state must be one of"
            ),
            "{}",
            s.log()
        );
        q::<String>(
            &mut c,
            &["CONFIG", "SET", "account.validation-action", "error"],
        );
        // Marked with json_schema_extra: the same vitals.
        q::<String>(
            &mut c,
            &["ACCOUNT.SCHEMA", "SET", &pydantic_schema(&["--vitals"])],
        );
        assert_eq!(
            schema_get(&mut c).2,
            ["stats.hp", "stats.mp", "stats.stamina"]
        );
    });
}

/// A model that constrains a string with a pattern (pydantic's `StringConstraints(pattern=...)`):
/// its schema loads, and the module refuses what the game's own model would.
#[test]
fn a_pydantic_pattern_is_enforced() {
    let schema = pydantic_schema(&["--pattern"]);
    assert!(schema.contains(r#""pattern": "^\\d+_\\d+$""#), "{schema}");
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &schema]);
        let doc = json!({
            "state": "exploration", "bio": {"name": "A", "gender": "male", "created_at": null},
            "location": {"current": "52_52", "prev": null},
            "stats": {"hp": {"cur": 100, "max": 100, "regen": 1.0}, "mp": {"cur": 50, "max": 50, "regen": 1.0},
                      "stamina": {"cur": 100, "max": 100, "regen": 5.0}, "last_update": null},
            "attributes": {"strength": 8, "agility": 8, "endurance": 8, "intelligence": 8, "wisdom": 8, "men": 8,
                           "perception": 8, "charisma": 8, "luck": 8},
            "sessions": {"combat_id": null, "inventory_id": null, "scenario_id": null}, "metrics": {"gear_score": 0}
        });
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1", &doc.to_string()]);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.MOVE", "ac:1", "53_52"]),
            "52_52"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MOVE", "ac:1", "town"]),
            r"SCHEMA location.current must be a string matching the pattern ^\d+_\d+$"
        );
        assert_eq!(
            expect_err(
                &mut c,
                &[
                    "ACCOUNT.SET",
                    "ac:1",
                    "location",
                    r#"{"current":"1_1","prev":"x"}"#
                ]
            ),
            r"SCHEMA location.prev must be a string matching the pattern ^\d+_\d+$ or null"
        );
        let loc = json_get(&mut c, "ac:1").unwrap()["location"].clone();
        assert_eq!(loc, json!({"current": "53_52", "prev": "52_52"}));
    });
}

/// strict, moderate, off; error, warn.
#[test]
fn validation_levels_and_actions() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        // A document already broken elsewhere (written behind the module's back).
        q::<String>(
            &mut c,
            &["JSON.SET", "ac:1", "$.attributes.luck", r#""lots""#],
        );
        let set = |c: &mut redis::Connection, level: &str, action: &str| {
            q::<String>(
                c,
                &[
                    "CONFIG",
                    "SET",
                    "account.validation-level",
                    level,
                    "account.validation-action",
                    action,
                ],
            );
        };
        // moderate: the valid change goes through; the invalid one is refused.
        set(&mut c, "moderate", "error");
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", r#""A""#]);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "5"]),
            "SCHEMA bio.name must be a string or null"
        );
        // strict: the whole document must be valid; what was stored broken is CORRUPT.
        set(&mut c, "strict", "error");
        let before = json_get(&mut c, "ac:1");
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", r#""B""#]),
            "CORRUPT stored document: attributes.luck must be an integer"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MOVE", "ac:1", "town"]),
            "CORRUPT stored document: attributes.luck must be an integer"
        );
        assert_eq!(json_get(&mut c, "ac:1"), before);
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "attributes.luck", "9"]);
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", r#""B""#]);
        // off: nothing is checked but the vital rules.
        set(&mut c, "off", "error");
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "5"]);
        assert_eq!(json_get(&mut c, "ac:1").unwrap()["bio"]["name"], 5);
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "stats.hp.cur", "500"]),
            "SCHEMA stats.hp.cur must not exceed stats.hp.max"
        );
        // warn: accepted, logged, counted.
        set(&mut c, "strict", "warn");
        let warned: i64 = info_field(&mut c, "account_schema_warnings")
            .parse()
            .unwrap();
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.gender", "7"]);
        assert_eq!(
            info_field(&mut c, "account_schema_warnings"),
            (warned + 1).to_string()
        );
        assert!(s.log().contains("schema violation accepted (validation-action warn) on key 'ac:1' at path 'bio.name': bio.name must be a string or null"), "{}", s.log());
        set(&mut c, "moderate", "error");
        let mut got: Vec<(String, String)> = q(&mut c, &["CONFIG", "GET", "account.validation-*"]);
        got.sort();
        assert_eq!(
            got,
            [
                ("account.validation-action".into(), "error".into()),
                ("account.validation-level".into(), "moderate".into())
            ]
        );
        assert!(expect_err(
            &mut c,
            &["CONFIG", "SET", "account.validation-level", "lax"]
        )
        .starts_with("ERR"));
    });
}

/// ACCOUNT.CHECK: a SCAN-style walk that reports the documents breaking the schema in force,
/// and the first reason for each, without changing them.
#[test]
fn the_migration_check_reports_broken_documents_and_changes_nothing() {
    for_each_server(|s| {
        let mut c = s.conn();
        for i in 0..40 {
            q::<String>(&mut c, &["ACCOUNT.CREATE", &format!("ac:{i}")]);
        }
        q::<String>(&mut c, &["JSON.SET", "ac:3", "$.bio.name", "5"]);
        q::<String>(&mut c, &["JSON.SET", "ac:17", "$.stats.hp.cur", "500"]);
        q::<String>(&mut c, &["JSON.SET", "ac:29", "$", "[1]"]);
        q::<String>(&mut c, &["JSON.SET", "other:1", "$", r#"{"x":5}"#]);
        q::<String>(&mut c, &["SET", "ac:str", "x"]);
        let before: Vec<Option<String>> = (0..40)
            .map(|i| q(&mut c, &["JSON.GET", &format!("ac:{i}")]))
            .collect();
        let mut cursor = "0".to_string();
        let mut found = std::collections::BTreeMap::new();
        let mut steps = 0;
        loop {
            let (next, items): (String, Vec<(String, String)>) = q(
                &mut c,
                &["ACCOUNT.CHECK", &cursor, "MATCH", "ac:*", "COUNT", "7"],
            );
            found.extend(items);
            steps += 1;
            cursor = next;
            if cursor == "0" {
                break;
            }
        }
        assert!(steps > 1, "a walk in steps");
        let want: std::collections::BTreeMap<String, String> = [
            ("ac:3", "bio.name must be a string or null"),
            ("ac:17", "stats.hp.cur must not exceed stats.hp.max"),
            (
                "ac:29",
                "CORRUPT stored document: the document must be an object",
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(found, want);
        let after: Vec<Option<String>> = (0..40)
            .map(|i| q(&mut c, &["JSON.GET", &format!("ac:{i}")]))
            .collect();
        assert_eq!(after, before);
        // Against a stricter schema, every document is reported.
        let mut strict: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        )
        .unwrap();
        strict["required"] = json!(["guild"]);
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &strict.to_string()]);
        let (_, items): (String, Vec<(String, String)>) = q(
            &mut c,
            &["ACCOUNT.CHECK", "0", "MATCH", "ac:1", "COUNT", "10000"],
        );
        assert_eq!(
            items,
            vec![("ac:1".to_string(), "guild is required".to_string())]
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CHECK", "x"]),
            "BADNUMBER cursor must be an unsigned integer"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CHECK", "0", "COUNT", "0"]),
            "BADNUMBER COUNT must be an integer from 1 to 10000"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CHECK", "0", "LIMIT", "1"]),
            "SYNTAX expected: ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]"
        );
    });
}

/// The shipped schema with two more vitals, `rage` (empties by itself) and `energy`.
fn five_vitals() -> String {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
    )
    .unwrap();
    let stats = &mut doc["properties"]["stats"]["properties"];
    stats["rage"] = json!({"$ref": "#/$defs/Vital", "default": {"cur": 0, "max": 100, "regen": 0.0, "since": null}});
    stats["energy"] = json!({"$ref": "#/$defs/Vital", "default": {"cur": 10, "max": 10, "regen": 0.0, "since": null}});
    doc.to_string()
}

/// Vitals are the schema's: a fourth and fifth get every vital command, the hot read and the
/// regeneration rules; names the schema does not declare are refused.
#[test]
fn a_five_vital_schema_gives_every_vital_command_its_vitals() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &five_vitals()]);
        assert_eq!(
            schema_get(&mut c).2,
            [
                "stats.hp",
                "stats.mp",
                "stats.stamina",
                "stats.rage",
                "stats.energy"
            ]
        );
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"stats":{"hp":{"regen":0},"mp":{"regen":0},"stamina":{"regen":0}}}"#,
            ],
        );
        let stats: Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "stats"])).unwrap();
        assert_eq!(
            stats["rage"],
            json!({"cur": 0, "max": 100, "regen": 0.0, "since": null})
        );
        assert_eq!(
            stats["energy"],
            json!({"cur": 10, "max": 10, "regen": 0.0, "since": null})
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.HEAL", "ac:1", "30", "rage"]),
            vec![30, 30]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "500", "RAGE"]),
            vec![0, 30]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SPEND", "ac:1", "energy", "4"]),
            vec![6, 4]
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SPEND", "ac:1", "energy", "7"]),
            "INSUFFICIENT energy is 6, needs 7"
        );
        assert_eq!(
            q::<Vec<Vec<i64>>>(
                &mut c,
                &[
                    "ACCOUNT.APPLY",
                    "ac:1",
                    "rage",
                    "40",
                    "energy",
                    "-6",
                    "hp",
                    "-1"
                ]
            ),
            vec![vec![40, 40], vec![0, -6], vec![99, -1]]
        );
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.SETSTAT", "ac:1", "energy", "5", "20"]),
            vec![5, 20]
        );
        // Without a stat, DAMAGE and HEAL take the first vital the schema declares.
        assert_eq!(
            q::<Vec<i64>>(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "9"]),
            vec![90, 9]
        );
        let regen: Value =
            serde_json::from_str(&q::<String>(&mut c, &["ACCOUNT.REGEN", "ac:1"])).unwrap();
        assert_eq!(
            (regen["rage"]["cur"].clone(), regen["energy"]["max"].clone()),
            (json!(40), json!(20))
        );
        let stored = json_get(&mut c, "ac:1").unwrap();
        assert_eq!(stored["stats"]["rage"]["cur"], 40);
        assert_eq!(
            stored["stats"]["energy"],
            json!({"cur": 5, "max": 20, "regen": 0.0, "since": null})
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "1", "xp"]),
            "SYNTAX stat must be hp, mp, stamina, rage or energy"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "stats.rage.cur", "101"]),
            "SCHEMA stats.rage.cur must not exceed stats.rage.max"
        );
        // Back to three vitals: rage and energy are names no more, and a stored document with
        // them breaks the closed stats section.
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.SCHEMA",
                "SET",
                &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
            ],
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.HEAL", "ac:1", "1", "rage"]),
            "SYNTAX stat must be hp, mp or stamina"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "stats"]),
            "CORRUPT stored document: unknown field 'stats.rage'"
        );
        let (_, items): (String, Vec<(String, String)>) =
            q(&mut c, &["ACCOUNT.CHECK", "0", "COUNT", "100"]);
        assert_eq!(
            items,
            vec![("ac:1".to_string(), "unknown field 'stats.rage'".to_string())]
        );
    });
}

/// The places a command writes (STATE: state and prev_state; MOVE: location.current and prev;
/// SESSION: sessions.<kind>_id) are checked like any write: a schema that does not allow them
/// gets a clear error from that command, never a wrong write.
#[test]
fn a_schema_without_the_places_a_command_writes_gets_a_clear_error() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        )
        .unwrap();
        doc["additionalProperties"] = json!(false);
        doc["properties"]
            .as_object_mut()
            .unwrap()
            .remove("prev_state");
        doc["properties"]["location"]["additionalProperties"] = json!(false);
        doc["properties"]["location"]["properties"]
            .as_object_mut()
            .unwrap()
            .remove("prev");
        doc["properties"]["sessions"]["properties"]["combat_id"] =
            json!({"type": "string", "maxLength": 8});
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &doc.to_string()]);
        q::<i64>(&mut c, &["JSON.DEL", "ac:1", "$.prev_state"]);
        q::<i64>(&mut c, &["JSON.DEL", "ac:1", "$.location.prev"]);
        let before = json_get(&mut c, "ac:1");
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.STATE", "ac:1", "combat"]),
            "SCHEMA unknown field 'prev_state'"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MOVE", "ac:1", "town"]),
            "SCHEMA unknown field 'location.prev'"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SESSION", "ac:1", "combat", "NONE"]),
            "SCHEMA sessions.combat_id must be a string"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.GET", "ac:1", "prev_state"]),
            "NOPATH no such path 'prev_state'"
        );
        assert_eq!(json_get(&mut c, "ac:1"), before);
    });
}

/// The lobby entries are the game's too: a lobby schema file, loaded all or nothing.
#[test]
fn the_lobby_schema_is_a_file_too() {
    for_each_server(|s| {
        let mut c = s.conn();
        let shipped = info_field(&mut c, "account_lobby_schema_hash");
        assert_eq!(info_field(&mut c, "account_lobby_schema_source"), "shipped");
        // Open: a field the game adds is kept.
        q::<String>(
            &mut c,
            &[
                "LOBBY.SETCACHE",
                "lobby:1",
                r#"[{"character_id":1,"user_id":7,"level":3}]"#,
            ],
        );
        let strict = temp_file(
            "lobby-strict.json",
            r#"{"type":"object","properties":{"character_id":{"type":"integer"},"user_id":{"type":"integer"},"name":{"type":"string","maxLength":3}},"additionalProperties":false}"#,
        );
        q::<String>(&mut c, &["CONFIG", "SET", "account.lobby-schema", &strict]);
        assert_ne!(info_field(&mut c, "account_lobby_schema_hash"), shipped);
        assert_eq!(
            expect_err(
                &mut c,
                &[
                    "LOBBY.SETCACHE",
                    "lobby:1",
                    r#"[{"character_id":1,"user_id":7,"level":3}]"#
                ]
            ),
            "LOBBY entry 0: unknown field 'level'"
        );
        assert_eq!(
            expect_err(
                &mut c,
                &[
                    "LOBBY.SETCACHE",
                    "lobby:1",
                    r#"[{"character_id":1,"user_id":7,"name":"Aragorn"}]"#
                ]
            ),
            "LOBBY entry 0: name must be a string of at most 3 characters"
        );
        // What is stored under the old schema and breaks the new one is reported, not served.
        assert_eq!(
            expect_err(&mut c, &["LOBBY.GETCACHE", "lobby:1"]),
            "CORRUPT stored document: LOBBY entry 0: unknown field 'level'"
        );
        let broken = temp_file(
            "lobby-broken.json",
            r#"{"type":"object","properties":{"user_id":{"type":"integer"}}}"#,
        );
        let e = expect_err(&mut c, &["CONFIG", "SET", "account.lobby-schema", &broken]);
        assert!(
            e.contains("the lobby schema must declare 'character_id' as an integer"),
            "{e}"
        );
        assert_eq!(
            q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.lobby-schema"]),
            ["account.lobby-schema", strict.as_str()]
        );
        q::<String>(&mut c, &["CONFIG", "SET", "account.lobby-schema", ""]);
        assert_eq!(info_field(&mut c, "account_lobby_schema_hash"), shipped);
    });
}

/// A write of a member the document lacks gives it what reading the whole document would:
/// the default of a property the root names, nothing from `allOf` or `additionalProperties`
/// (which filling a document never adds), at every level and on both read paths.
#[test]
fn an_absent_member_gets_only_the_defaults_a_read_would_give() {
    for_each_server(|s| {
        let mut c = s.conn();
        let mut doc: Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
        )
        .unwrap();
        doc["allOf"] = serde_json::json!([{"properties": {"extra": {"type": "object", "default": {"seed": 1}}}}]);
        doc["additionalProperties"] = serde_json::json!({"type": "object", "default": {"seed": 2}});
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &doc.to_string()]);
        for shared in ["yes", "no"] {
            for level in ["moderate", "strict", "off"] {
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
                q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "extra.x", "2"]);
                assert_eq!(
                    q::<i64>(&mut c, &["ACCOUNT.INCR", "ac:1", "other.seed", "1"]),
                    1,
                    "{shared} {level}"
                );
                let d = json_get(&mut c, "ac:1").unwrap();
                assert_eq!(
                    (&d["extra"], &d["other"]),
                    (
                        &serde_json::json!({"x": 2}),
                        &serde_json::json!({"seed": 1})
                    ),
                    "{shared} {level}"
                );
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

/// An inline schema (ACCOUNT.SCHEMA SET) is kept in a file in the server's dir, which CONFIG GET
/// account.schema names: CONFIG REWRITE writes that path, and the server started again from the
/// rewritten config has the same schema (same hash) in force. A second SET and REWRITE moves it on.
#[test]
fn an_inline_schema_survives_config_rewrite_and_a_restart() {
    let first = pydantic_schema(&["--vitals"]);
    let shipped = std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap();
    let mut second: Value = serde_json::from_str(&shipped).unwrap();
    second["properties"]["bio"]["properties"]["title"] =
        json!({"type": ["string", "null"], "default": null});
    let second = second.to_string();
    for flavor in FLAVORS {
        let dir = new_dir();
        let conf = dir.join("redis.conf");
        let loads = format!(
            "loadmodule {}\nloadmodule {}\nsave \"\"\nappendonly no\n",
            rejson().display(),
            module().display()
        );
        std::fs::write(&conf, &loads).unwrap();
        let opts = || Options {
            config: Some(conf.clone()),
            ..Default::default()
        };
        let mut want = Vec::new();
        let mut s = Server::start_in(flavor, dir.clone(), opts());
        for text in [&first, &second] {
            let mut c = s.conn();
            let hash: String = q(&mut c, &["ACCOUNT.SCHEMA", "SET", text]);
            let kept = dir.join(format!("account-schema-{hash}.json"));
            assert_eq!(
                std::fs::read_to_string(&kept).unwrap(),
                *text,
                "{flavor:?}: the file holds the schema as given"
            );
            assert_eq!(schema_get(&mut c).1, "inline");
            assert_eq!(
                q::<Vec<String>>(&mut c, &["CONFIG", "GET", "account.schema"]),
                ["account.schema", kept.to_str().unwrap()]
            );
            q::<String>(&mut c, &["CONFIG", "REWRITE"]);
            let written = std::fs::read_to_string(&conf).unwrap();
            assert!(
                written
                    .lines()
                    .any(|l| l == format!("account.schema {}", kept.display())
                        || l == format!("account.schema \"{}\"", kept.display())),
                "{flavor:?}: {written}"
            );
            assert!(!written.contains("account.schema inline"), "{written}");
            let dir = s.kill9();
            s = Server::start_in(flavor, dir, opts());
            let mut c = s.conn();
            let (hash_after, source, _, _) = schema_get(&mut c);
            assert_eq!(
                (hash_after.as_str(), source.as_str()),
                (hash.as_str(), kept.to_str().unwrap()),
                "{flavor:?}: the same schema after the restart"
            );
            want.push(hash);
        }
        assert_ne!(want[0], want[1]);
        // Back to the shipped schema: REWRITE and restart keep that too.
        let mut c = s.conn();
        q::<String>(&mut c, &["CONFIG", "SET", "account.schema", ""]);
        q::<String>(&mut c, &["CONFIG", "REWRITE"]);
        let dir = s.kill9();
        let s = Server::start_in(flavor, dir, opts());
        assert_eq!(schema_get(&mut s.conn()).1, "shipped");
    }
}

/// ACCOUNT.CHECK reports only the keys the calling user may read: a user limited to `~ac:*`, or
/// to read permission on them (`%R~ac:*`), is told nothing about a broken `secret:1`, and neither
/// is one with write permission only on it (`%W~secret:*`); the default user (`~*`) sees both.
#[test]
fn the_migration_check_reports_only_keys_the_user_may_read() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:2"]);
        q::<String>(&mut c, &["JSON.SET", "ac:2", "$.bio.name", "5"]);
        q::<String>(
            &mut c,
            &["JSON.SET", "secret:1", "$", r#"{"bio":{"name":5}}"#],
        );
        let check = |c: &mut redis::Connection| {
            let (next, items): (String, Vec<(String, String)>) =
                q(c, &["ACCOUNT.CHECK", "0", "COUNT", "10000"]);
            assert_eq!(next, "0");
            items
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let reason = "bio.name must be a string or null".to_string();
        let both: std::collections::BTreeMap<String, String> = [
            ("ac:2".to_string(), reason.clone()),
            ("secret:1".to_string(), reason.clone()),
        ]
        .into();
        assert_eq!(
            check(&mut c),
            both,
            "{:?}: the default user reads every key",
            s.flavor
        );
        let only_ac: std::collections::BTreeMap<String, String> =
            [("ac:2".to_string(), reason.clone())].into();
        for (user, patterns) in [
            ("plain", &["~ac:*"][..]),
            ("reader", &["%R~ac:*"][..]),
            ("writer", &["%R~ac:*", "%W~secret:*"][..]),
        ] {
            let mut args = vec!["ACL", "SETUSER", user, "on", ">pw", "+account.check"];
            args.extend_from_slice(patterns);
            q::<String>(&mut c, &args);
            let mut u = s.conn();
            q::<String>(&mut u, &["AUTH", user, "pw"]);
            assert_eq!(
                check(&mut u),
                only_ac,
                "{:?}: {user} {patterns:?}",
                s.flavor
            );
            // MATCH aimed at the key changes nothing.
            let (_, items): (String, Vec<(String, String)>) = q(
                &mut u,
                &["ACCOUNT.CHECK", "0", "MATCH", "secret:*", "COUNT", "10000"],
            );
            assert!(items.is_empty(), "{:?}: {user}: {items:?}", s.flavor);
        }
    });
}
