//! Errors that say what to do (issue 24, item 5): exact replies, and nothing changed.

mod common;
use common::*;

#[test]
fn errors_name_the_fix() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(
            &mut c,
            &["ACCOUNT.CREATE", "ac:1", r#"{"bio":{"name":"Kept"}}"#],
        );
        let before = json_get(&mut c, "ac:1");
        // An unquoted string where JSON is expected: the reply shows the quoted value.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio.name", "Aragorn"]),
            r#"INVALIDJSON value must be JSON: quote strings ('"Aragorn"')"#
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE", "ac:2", "Aragorn"]),
            r#"INVALIDJSON value must be JSON: quote strings ('"Aragorn"')"#
        );
        // Broken JSON that is not a bare word keeps the place.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.SET", "ac:1", "bio", "{"]),
            "INVALIDJSON malformed JSON at line 1 column 1"
        );
        // NX twice is a syntax error, not a document named NX.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.CREATE", "ac:2", "NX", "NX"]),
            "SYNTAX expected: ACCOUNT.CREATE key [json] [NX] [IDMP request-id]"
        );
        // Numbers out of range name the range.
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "99999999999999999999"]),
            "BADNUMBER amount must be an integer from 1 to 9223372036854775807"
        );
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.DAMAGE", "ac:1", "0"]),
            "BADNUMBER amount must be an integer from 1 to 9223372036854775807"
        );
        assert_eq!(
            expect_err(
                &mut c,
                &[
                    "ACCOUNT.INCR",
                    "ac:1",
                    "attributes.luck",
                    "99999999999999999999"
                ]
            ),
            "BADNUMBER delta must be an integer from -9223372036854775808 to 9223372036854775807"
        );
        // MGET with PATH and no key is a syntax error (not keys named PATH and bio).
        assert_eq!(
            expect_err(&mut c, &["ACCOUNT.MGET", "PATH", "bio"]),
            "SYNTAX expected: ACCOUNT.MGET [PATH path] key [key ...]"
        );
        assert_eq!(json_get(&mut c, "ac:1"), before);
        assert_eq!(json_get(&mut c, "ac:2"), None);
        // A document without a state (a schema with no default for it): the transition
        // answers nil (the old state), not "".
        q::<String>(
            &mut c,
            &[
                "ACCOUNT.SCHEMA",
                "SET",
                r#"{"type":"object","properties":{"stats":{"type":"object","properties":{"hp":{"type":"object","properties":{"cur":{"type":"integer"},"max":{"type":"integer","default":100}}}}},"state":{"type":"string"},"prev_state":{"type":["string","null"]}}}"#,
            ],
        );
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:3"]);
        let old: Option<String> = q(&mut c, &["ACCOUNT.STATE", "ac:3", "EXPLORATION"]);
        assert_eq!(old, None);
        let old: Option<String> = q(&mut c, &["ACCOUNT.STATE", "ac:3", "COMBAT"]);
        assert_eq!(old.as_deref(), Some("EXPLORATION"));
    });
}

#[test]
fn warn_mode_logs_name_the_key_and_the_path() {
    for_each_server(|s| {
        let mut c = s.conn();
        q::<String>(&mut c, &["ACCOUNT.CREATE", "ac:9"]);
        q::<String>(
            &mut c,
            &["CONFIG", "SET", "account.validation-action", "warn"],
        );
        q::<String>(&mut c, &["ACCOUNT.SET", "ac:9", "bio.name", "5"]);
        let line = "account: schema violation accepted (validation-action warn) on key 'ac:9' at path 'bio.name': bio.name must be a string or null";
        assert!(s.log().contains(line), "{}", s.log());
    });
}
