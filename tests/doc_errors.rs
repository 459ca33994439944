//! Every error text docs/commands.md writes out in full (a backticked text that starts with an
//! error code and has no `<...>` placeholder) is read from the docs and produced by a real server
//! call here, on every server. A text added to the docs without a call here, or one that drifts
//! from what the server answers, fails this test.

mod common;
use common::*;

const CODES: &[&str] = &[
    "NOACCOUNT",
    "WRONGTYPE",
    "INVALIDJSON",
    "SCHEMA",
    "CORRUPT",
    "NOPATH",
    "LOBBY",
    "BADNUMBER",
    "LIMIT",
    "SYNTAX",
    "INSUFFICIENT",
    "STATECONFLICT",
    "OVERFLOW",
    "INTERNAL",
    "NOJSON",
    "CROSSSLOT",
];

/// Texts whose server call needs another setup than one standalone server with RedisJSON: the
/// test that produces each exactly.
const ELSEWHERE: &[(&str, &str)] = &[
    (
        "CORRUPT stored document: not valid JSON",
        "none: RedisJSON's own reply does not parse (defensive; a client cannot store such a text)",
    ),
    (
        "INTERNAL the command failed and changed nothing",
        "tests/faults.rs (fault injection)",
    ),
    (
        "NOJSON RedisJSON is not loaded",
        "tests/nojson.rs (a server without RedisJSON)",
    ),
    (
        "CROSSSLOT Keys in request don't hash to the same slot",
        "Redis's own reply (tests/servers.rs cluster)",
    ),
];

const GAME_SCHEMA: &str = r#"{"type":"object","properties":{
"stats":{"type":"object","properties":{"hp":{"type":"object","properties":{"cur":{"type":"integer"},"max":{"type":"integer","default":100}}}}},
"bio":{"type":"object","required":["gender"],"properties":{"name":{"type":"string","maxLength":64,"description":"shown in the party list"},"gender":{"type":"string"}}},
"metrics":{"type":"object","properties":{"kills":{"type":"number"}}}}}"#;

/// The documented exact texts, in the order they appear (code blocks left out: tests/docs.rs
/// replays those).
fn documented() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    let mut prose = String::new();
    for (i, part) in text.split("```").enumerate() {
        if i % 2 == 0 {
            prose.push_str(part);
        }
    }
    let prose = prose.replace('\n', " ");
    let mut out: Vec<String> = Vec::new();
    for (i, t) in prose.split('`').enumerate() {
        let exact = i % 2 == 1
            && CODES.iter().any(|c| t.starts_with(&format!("{c} ")))
            && !t.contains('<')
            && !t.replace("...]", "").contains("...");
        if exact && !out.iter().any(|o| o == t) {
            out.push(t.to_string());
        }
    }
    out
}

/// The calls that produce a documented text: setup commands, then the call whose error it is.
fn calls(text: &str) -> Option<Vec<Vec<Vec<u8>>>> {
    let big_json = format!("\"{}\"", "x".repeat(1_048_577));
    let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
    let big_doc = format!("\"{}\"", "x".repeat(262_144));
    let big_lobby = format!(
        "[{{\"character_id\":1,\"user_id\":1,\"notes\":\"{}\"}}]",
        "x".repeat(65_536)
    );
    let long = format!("\"{}\"", "x".repeat(1025));
    let s = |v: &[&str]| v.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>();
    let create = s(&["ACCOUNT.CREATE", "ac:1"]);
    let one = |v: &[&str]| Some(vec![create.clone(), s(v)]);
    // The docs' schema-section examples are of a game schema with descriptions and a required
    // field (the shipped one has neither).
    let custom = |v: &[&str]| {
        Some(vec![
            s(&["ACCOUNT.SCHEMA", "SET", GAME_SCHEMA]),
            s(&[
                "ACCOUNT.CREATE",
                "ac:1",
                r#"{"bio":{"name":"A","gender":"male"}}"#,
            ]),
            s(v),
        ])
    };
    Some(match text {
        "CORRUPT stored document: the document must be an object" => {
            vec![s(&["JSON.SET", "ac:2", "$", "[1]"]), s(&["ACCOUNT.GET", "ac:2"])]
        }
        "SCHEMA stats.hp.cur must not exceed stats.hp.max" => {
            return one(&["ACCOUNT.CREATE", "ac:1", r#"{"stats":{"hp":{"cur":150}}}"#])
        }
        "SCHEMA schema not loaded: unsupported keyword 'patternProperties' at '/properties/x'" => vec![s(&[
            "ACCOUNT.SCHEMA",
            "SET",
            r#"{"type":"object","properties":{"x":{"patternProperties":{"^a":{}}}}}"#,
        ])],
        "SCHEMA bio.name must be a string of at most 64 characters (shown in the party list)" => {
            let name = format!("\"{}\"", "x".repeat(65));
            return custom(&["ACCOUNT.SET", "ac:1", "bio.name", &name]);
        }
        "SCHEMA bio.gender is required" => return custom(&["ACCOUNT.SET", "ac:1", "bio", r#"{"name":"A"}"#]),
        "SCHEMA unknown field 'stats.xp'" => return one(&["ACCOUNT.CREATE", "ac:1", r#"{"stats":{"xp":3}}"#]),
        "SCHEMA attributes.luck must be at least 0" => return one(&["ACCOUNT.SET", "ac:1", "attributes.luck", "-1"]),
        "SCHEMA metrics.kills must be a number" => return custom(&["ACCOUNT.SET", "ac:1", "metrics.kills", r#""x""#]),
        "WRONGTYPE Operation against a key holding the wrong kind of value" => {
            vec![s(&["SET", "ac:2", "x"]), s(&["ACCOUNT.GET", "ac:2"])]
        }
        "NOACCOUNT no such account" => vec![s(&["ACCOUNT.SET", "ac:404", "bio.name", r#""A""#])],
        "INVALIDJSON value must be JSON: quote strings ('\"Aragorn\"')" => {
            return one(&["ACCOUNT.SET", "ac:1", "bio.name", "Aragorn"])
        }
        "SCHEMA the document must be an object" => vec![s(&["ACCOUNT.CREATE", "ac:1", "[1,2]"])],
        "CORRUPT stored document: lobby cache is not valid JSON" => vec![
            s(&["SET", "lobby_session:1", "{"]),
            s(&["LOBBY.GETCACHE", "lobby_session:1"]),
        ],
        "BADNUMBER EX must be an integer from 1 to 31536000" => {
            vec![s(&["LOBBY.SETCACHE", "lobby_session:1", "[]", "EX", "0"])]
        }
        "BADNUMBER amount must be an integer from 1 to 9223372036854775807" => {
            return one(&["ACCOUNT.DAMAGE", "ac:1", "0"])
        }
        "BADNUMBER delta must be a non-zero integer from -9223372036854775808 to 9223372036854775807" => {
            return one(&["ACCOUNT.APPLY", "ac:1", "hp", "0"])
        }
        "BADNUMBER delta must be an integer from -9223372036854775808 to 9223372036854775807" => {
            return one(&["ACCOUNT.INCR", "ac:1", "attributes.luck", "1.5"])
        }
        "BADNUMBER cur must be an integer" => return one(&["ACCOUNT.SETSTAT", "ac:1", "hp", "x"]),
        "BADNUMBER max must be an integer from 0 to 1000000000000000" => {
            return one(&["ACCOUNT.SETSTAT", "ac:1", "hp", "1", "-1"])
        }
        "LIMIT JSON argument larger than 1048576 bytes" => vec![s(&["ACCOUNT.CREATE", "ac:1", &big_json])],
        "LIMIT JSON nested deeper than 32 levels" => return one(&["ACCOUNT.SET", "ac:1", "skills.fire", &deep]),
        "LIMIT document larger than 262144 bytes" => {
            return one(&["ACCOUNT.SET", "ac:1", "bio.title", &big_doc])
        }
        "LIMIT lobby array larger than 65536 bytes" => vec![s(&["LOBBY.SETCACHE", "lobby_session:1", &big_lobby])],
        "SYNTAX argument is not valid UTF-8" => {
            vec![create, vec![b"ACCOUNT.STATE".to_vec(), b"ac:1".to_vec(), vec![0xff, 0xfe]]]
        }
        "SYNTAX stat must be hp, mp or stamina" => return one(&["ACCOUNT.DAMAGE", "ac:1", "5", "luck"]),
        "SYNTAX session must be combat, inventory or scenario" => {
            return one(&["ACCOUNT.SESSION", "ac:1", "arena", "x"])
        }
        "SYNTAX the stream must be another key than the account" => return one(&["ACCOUNT.LOGOUT", "ac:1", "ac:1"]),
        "OVERFLOW increment would overflow" => vec![
            create,
            s(&["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "9223372036854775807"]),
            s(&["ACCOUNT.INCR", "ac:1", "metrics.gear_score", "1"]),
        ],
        "CORRUPT stored document: bio must be an object" => vec![
            create,
            s(&["JSON.SET", "ac:1", "$.bio", "5"]),
            s(&["ACCOUNT.SET", "ac:1", "bio.name", r#""A""#]),
        ],
        "LIMIT more than 1000 keys" => {
            let mut v = s(&["ACCOUNT.MGET"]);
            v.extend((0..1001).map(|i| format!("ac:{i}").into_bytes()));
            vec![v]
        }
        "SYNTAX expected: ACCOUNT.CREATE key [json] [NX] [IDMP request-id]" => return one(&["ACCOUNT.CREATE", "ac:2", "NX", "NX"]),
        "SCHEMA state must be a string of at least 1 character" => return one(&["ACCOUNT.STATE", "ac:1", ""]),
        "SYNTAX state is set by the transition itself" => {
            return one(&["ACCOUNT.STATE", "ac:1", "COMBAT", "SET", "state", r#""x""#])
        }
        "SCHEMA location.current must be a string of at most 1024 characters or null" => {
            return one(&["ACCOUNT.MOVE", "ac:1", &"x".repeat(1025)])
        }
        "SCHEMA sessions.combat_id must be a string of at most 1024 characters or null" => {
            return one(&["ACCOUNT.SESSION", "ac:1", "combat", &long])
        }
        "BADNUMBER delta must be a number" => return one(&["ACCOUNT.INCR", "ac:1", "metrics.kills", "x"]),
        "SYNTAX expected: ACCOUNT.SCHEMA GET | ACCOUNT.SCHEMA SET json" => vec![s(&["ACCOUNT.SCHEMA", "PUT"])],
        "BADNUMBER cursor must be an unsigned integer" => vec![s(&["ACCOUNT.CHECK", "x"])],
        "BADNUMBER COUNT must be an integer from 1 to 10000" => vec![s(&["ACCOUNT.CHECK", "0", "COUNT", "0"])],
        "SYNTAX expected: ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]" => vec![s(&["ACCOUNT.CHECK", "0", "FOO"])],
        "SYNTAX expected: ACCOUNT.MGET [PATH path] key [key ...]" => vec![s(&["ACCOUNT.MGET", "PATH", "bio"])],
        "SYNTAX the request id must be 1 to 64 bytes" => {
            vec![create, s(&["ACCOUNT.DAMAGE", "ac:1", "5", "IDMP", ""])]
        }
        "SYNTAX IDMP needs a key with a hash tag or without '}'" => {
            vec![s(&["ACCOUNT.DEL", "a}b", "IDMP", "r"])]
        }
        "LOBBY value must be a JSON array" => vec![s(&["LOBBY.SETCACHE", "lobby_session:1", "{}"])],
        "LOBBY entry 0: character_id is required" => vec![s(&["LOBBY.SETCACHE", "lobby_session:1", r#"[{"user_id":1}]"#])],
        "LOBBY entry 1: gender must be one of \"male\", \"female\", \"other\", null" => vec![s(&[
            "LOBBY.SETCACHE",
            "lobby_session:1",
            r#"[{"character_id":1,"user_id":1},{"character_id":2,"user_id":1,"gender":"elf"}]"#,
        ])],
        "LOBBY entry 0: the entry must be an object" => vec![s(&["LOBBY.SETCACHE", "lobby_session:1", "[1]"])],
        "LOBBY all entries must have the same user_id" => vec![s(&[
            "LOBBY.SETCACHE",
            "lobby_session:1",
            r#"[{"character_id":1,"user_id":1},{"character_id":2,"user_id":2}]"#,
        ])],
        "SYNTAX expected: LOBBY.SETCACHE key json [EX seconds] [IDMP request-id]" => {
            vec![s(&["LOBBY.SETCACHE", "lobby_session:1", "[]", "PX", "5"])]
        }
        "SYNTAX expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]" => {
            return one(&["ACCOUNT.STATE", "ac:1", "COMBAT", "FROM"])
        }
        _ => return None,
    })
}

#[test]
fn every_exact_error_text_of_the_docs_is_what_the_server_answers() {
    let texts = documented();
    assert!(texts.len() >= 45, "{texts:?}");
    let missing: Vec<&String> = texts
        .iter()
        .filter(|t| calls(t).is_none() && !ELSEWHERE.iter().any(|(e, _)| e == t))
        .collect();
    assert!(
        missing.is_empty(),
        "documented exact texts with no call in tests/doc_errors.rs: {missing:#?}"
    );
    let shipped = std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap();
    for_each_server(|s| {
        let mut c = s.conn();
        for text in &texts {
            let Some(steps) = calls(text) else { continue };
            let _: () = redis::cmd("FLUSHALL").query(&mut c).unwrap();
            let _: () = redis::cmd("ACCOUNT.SCHEMA")
                .arg("SET")
                .arg(&shipped)
                .query(&mut c)
                .unwrap();
            let (last, setup) = steps.split_last().unwrap();
            for step in setup {
                let mut cmd = redis::cmd(std::str::from_utf8(&step[0]).unwrap());
                for a in &step[1..] {
                    cmd.arg(&a[..]);
                }
                let _: redis::Value = cmd
                    .query(&mut c)
                    .unwrap_or_else(|e| panic!("{text}: setup {e}"));
            }
            let mut cmd = redis::cmd(std::str::from_utf8(&last[0]).unwrap());
            for a in &last[1..] {
                cmd.arg(&a[..]);
            }
            let got = match cmd.query::<redis::Value>(&mut c) {
                Ok(v) => format!("(no error: {v:?})"),
                Err(e) => err_text(&e),
            };
            assert_eq!(&got, text, "documented in docs/commands.md");
        }
    });
}

/// docs/commands.md, ACCOUNT.SET and ACCOUNT.GET: under the default `moderate` level only the
/// written place is checked (a `bio.name` broken by JSON.SET stays while `bio.gender` is
/// written), and a broken document is served as stored.
#[test]
fn a_broken_place_outside_the_write_stays_and_is_served_as_stored() {
    let doc = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    assert!(doc.contains("`bio.name` stored broken by `JSON.SET` stays while `bio.gender` is"));
    assert!(doc.contains("is served as\nstored (reads do not validate)"));
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:1"]);
        q::<String>(&mut c, &["JSON.SET", "ac:1", "$.bio.name", "5"]);
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:1", "bio.gender", r#""male""#]);
        assert_eq!(
            q::<String>(&mut c, &["ACCOUNT.GET", "ac:1", "bio"]),
            r#"{"name":5,"gender":"male","created_at":null}"#
        );
    });
}
