//! The redis-cli examples of README.md and docs/commands.md, replayed exactly as printed, on
//! both servers. The examples are read from the markdown at test time, so a doc that drifts
//! from the server fails `make test`.
//!
//! What counts as an example: inside a ``` block, a line starting with `redis> ` or
//! `127.0.0.1:6379> ` is a command line typed into redis-cli (its own quoting); the lines after
//! it, up to the next command line or the end of the block, are exactly what redis-cli prints.
//! Other lines before the first command line (`$ redis-cli`) are not part of the session.
//!
//! Sessions: all the examples under one `##` heading are one session, replayed in order on a
//! fresh server, so each section works on its own from the keys it creates.
//!
//! Ids and times are matched by shape, not by value: a stream id (`1700000000000-0`), unix
//! milliseconds (13 digits) and unix seconds (10 digits, up to 3 decimals) in the doc match
//! any value of the same shape within an hour of now. The first match binds the doc's value
//! to the server's: later the same doc value must be the same server value (a stream id also
//! binds its milliseconds), and command lines get the bound value typed in its place (so the
//! doc's `XACK ... 1795491482139-0` acknowledges the id the server gave).
//!
//! The README's `sh` blocks: the logout worker loop runs as printed against a server
//! (`readme_logout_worker_acknowledges_every_session`); the set-up block is `make test` itself;
//! the schema workflow's commands are replayed by the redis-cli session printed after it.
//!
//! `SUBSCRIBE channel`: starts a second redis-cli subscribed to the channel; the lines after it
//! are everything that subscriber prints, and the rest of the section is typed by the first
//! client while it listens (the doc says so). Its output is compared at the end of the section.

mod common;
use common::*;
use std::io::Read;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PROMPTS: [&str; 2] = ["redis> ", "127.0.0.1:6379> "];

/// One command line of the docs and what redis-cli prints for it.
#[derive(Debug)]
struct Step {
    line: usize,
    cmd: String,
    want: Vec<String>,
}

/// The examples under one `##` heading.
#[derive(Debug)]
struct Section {
    file: &'static str,
    title: String,
    steps: Vec<Step>,
}

fn sections(file: &'static str) -> Vec<Section> {
    let text = std::fs::read_to_string(root().join(file)).unwrap();
    let mut out: Vec<Section> = Vec::new();
    let mut title = String::from("(top)");
    let mut in_block = false;
    let mut in_step = false;
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("```") {
            in_block = !in_block;
            in_step = false;
            continue;
        }
        if !in_block {
            if let Some(t) = line.strip_prefix("## ") {
                title = t.trim().to_string();
            }
            continue;
        }
        if let Some(cmd) = PROMPTS.iter().find_map(|p| line.strip_prefix(p)) {
            if out.last().is_none_or(|s| s.title != title) {
                out.push(Section {
                    file,
                    title: title.clone(),
                    steps: vec![],
                });
            }
            out.last_mut().unwrap().steps.push(Step {
                line: n + 1,
                cmd: cmd.to_string(),
                want: vec![],
            });
            in_step = true;
        } else if in_step {
            out.last_mut()
                .unwrap()
                .steps
                .last_mut()
                .unwrap()
                .want
                .push(line.to_string());
        }
    }
    assert!(!in_block, "{file}: a ``` block is not closed");
    out
}

// --- ids and times by shape --------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    StreamId,
    UnixMs,
    UnixSeconds,
}

/// A line cut into literal text and id/time tokens.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Token(Shape, &'a str),
}

/// Finds the ids and times in a line: digit runs of those shapes, not inside a longer number.
fn pieces(line: &str) -> Vec<Piece<'_>> {
    let b = line.as_bytes();
    let digits_from = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut out = Vec::new();
    let (mut i, mut lit) = (0, 0);
    while i < b.len() {
        let starts_number = b[i].is_ascii_digit()
            && (i == 0 || !(b[i - 1].is_ascii_digit() || b[i - 1] == b'.' || b[i - 1] == b'-'));
        if !starts_number {
            i += 1;
            continue;
        }
        let n = digits_from(i);
        let mut end = i + n;
        let mut shape = None;
        if n == 13 && b[i] == b'1' {
            shape = Some(Shape::UnixMs);
            if end + 1 < b.len() && b[end] == b'-' && b[end + 1].is_ascii_digit() {
                end += 1 + digits_from(end + 1);
                shape = Some(Shape::StreamId);
            }
        } else if n == 10 && b[i] == b'1' {
            shape = Some(Shape::UnixSeconds);
            if end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_digit() {
                let f = digits_from(end + 1);
                end += if f <= 3 { 1 + f } else { 0 };
                if f > 3 {
                    shape = None;
                }
            }
        }
        // A token must end the number (no more digits, no decimals beyond it).
        if end < b.len()
            && (b[end].is_ascii_digit()
                || (b[end] == b'.' && end + 1 < b.len() && b[end + 1].is_ascii_digit()))
        {
            shape = None;
        }
        match shape {
            Some(s) => {
                if lit < i {
                    out.push(Piece::Text(&line[lit..i]));
                }
                out.push(Piece::Token(s, &line[i..end]));
                lit = end;
                i = end;
            }
            None => i += n,
        }
    }
    if lit < b.len() {
        out.push(Piece::Text(&line[lit..]));
    }
    out
}

/// The doc's ids and times, bound to the server's.
#[derive(Default)]
struct Bindings(Vec<(String, String)>);

impl Bindings {
    fn get(&self, doc: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(d, _)| d == doc)
            .map(|(_, a)| a.as_str())
    }

    /// Binds (or checks the binding of) one doc token to the server's token.
    fn bind(&mut self, shape: Shape, doc: &str, actual: &str) -> Result<(), String> {
        if let Some(bound) = self.get(doc) {
            return if bound == actual {
                Ok(())
            } else {
                Err(format!("{doc} stands for {bound} earlier, here {actual}"))
            };
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let secs: f64 = match shape {
            Shape::StreamId => actual.split('-').next().unwrap().parse::<f64>().unwrap() / 1000.0,
            Shape::UnixMs => actual.parse::<f64>().unwrap() / 1000.0,
            Shape::UnixSeconds => actual.parse().unwrap(),
        };
        if (secs - now).abs() > 3600.0 {
            return Err(format!("{actual} is not a time within an hour of now"));
        }
        self.0.push((doc.to_string(), actual.to_string()));
        if shape == Shape::StreamId {
            let (d, a) = (
                doc.split('-').next().unwrap(),
                actual.split('-').next().unwrap(),
            );
            self.bind(Shape::UnixMs, d, a)?;
        }
        Ok(())
    }

    /// Compares one printed line with the doc's line: text exactly, ids and times by shape.
    fn matches(&mut self, want: &str, got: &str) -> Result<(), String> {
        let (w, g) = (pieces(want), pieces(got));
        if w.len() != g.len() {
            return Err("differs".into());
        }
        for (w, g) in w.iter().zip(&g) {
            match (w, g) {
                (Piece::Text(a), Piece::Text(b)) if a == b => {}
                (Piece::Token(s, d), Piece::Token(t, a)) if s == t => self.bind(*s, d, a)?,
                _ => return Err("differs".into()),
            }
        }
        Ok(())
    }

    /// The command line with the server's values typed in place of bound doc ids and times.
    fn substitute(&self, cmd: &str) -> String {
        pieces(cmd)
            .iter()
            .map(|p| match p {
                Piece::Text(t) => t.to_string(),
                Piece::Token(_, d) => self.get(d).unwrap_or(d).to_string(),
            })
            .collect()
    }
}

fn compare(b: &mut Bindings, want: &[String], got: &str) -> Result<(), String> {
    let mut want: Vec<&str> = want.iter().map(|s| s.as_str()).collect();
    while want.last().is_some_and(|l| l.is_empty()) {
        want.pop();
    }
    let got: Vec<&str> = if got.is_empty() {
        vec![]
    } else {
        got.split('\n').collect()
    };
    if want.len() != got.len() {
        return Err(format!(
            "{} lines printed, the doc shows {}",
            got.len(),
            want.len()
        ));
    }
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        b.matches(w, g)
            .map_err(|e| format!("line {}: {e}", i + 1))?;
    }
    Ok(())
}

// --- replay ------------------------------------------------------------------------------------

/// A second redis-cli in subscribe mode, its output collected as it comes.
struct Subscriber {
    child: std::process::Child,
    out: Arc<Mutex<String>>,
    step: usize,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn subscribe(s: &Server, cmd: &str, step: usize) -> Subscriber {
    // Redis 7.0.15's redis-cli, as the docs print a subscriber ("Reading messages... (press
    // Ctrl-C to quit)"), through tests/servers.tsv's cli and lib column.
    let mut child = s
        .redis70_cli()
        .arg("--no-raw")
        .args(cmd.split_whitespace())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-cli");
    let out = Arc::new(Mutex::new(String::new()));
    let (mut pipe, sink) = (child.stdout.take().unwrap(), out.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    // Wait until the server counts the subscription.
    let channel = cmd.split_whitespace().nth(1).expect("SUBSCRIBE channel");
    let mut c = s.conn();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let n: Vec<redis::Value> = q(&mut c, &["PUBSUB", "NUMSUB", channel]);
        if redis::from_redis_value::<i64>(&n[1]).unwrap() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{cmd}: the subscriber did not subscribe"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    Subscriber { child, out, step }
}

fn replay(s: &Server, sec: &Section) {
    let mut b = Bindings::default();
    let mut sub: Option<Subscriber> = None;
    let at = |st: &Step| {
        format!(
            "{:?} {}:{} ({}): {}",
            s.flavor, sec.file, st.line, sec.title, st.cmd
        )
    };
    for st in &sec.steps {
        let cmd = b.substitute(&st.cmd);
        if cmd
            .split_whitespace()
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("SUBSCRIBE"))
        {
            assert!(sub.is_none(), "{}: one SUBSCRIBE per section", at(st));
            sub = Some(subscribe(
                s,
                &cmd,
                sec.steps.iter().position(|x| std::ptr::eq(x, st)).unwrap(),
            ));
            continue;
        }
        let got = s.cli_line(&cmd);
        if let Err(e) = compare(&mut b, &st.want, &got) {
            panic!(
                "{}\n{e}\n--- the doc shows:\n{}\n--- redis-cli printed:\n{got}\n",
                at(st),
                st.want.join("\n").trim_end()
            );
        }
    }
    if let Some(sub) = sub {
        let st = &sec.steps[sub.step];
        let lines = st.want.iter().rev().skip_while(|l| l.is_empty()).count();
        let deadline = Instant::now() + Duration::from_secs(5);
        while sub.out.lock().unwrap().lines().count() < lines && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        // A moment more, so that a message the doc does not show would be seen.
        std::thread::sleep(Duration::from_millis(100));
        let got = sub.out.lock().unwrap().trim_end_matches('\n').to_string();
        if let Err(e) = compare(&mut b, &st.want, &got) {
            panic!(
                "{}\n{e}\n--- the doc shows:\n{}\n--- the subscriber printed:\n{got}\n",
                at(st),
                st.want.join("\n").trim_end()
            );
        }
    }
}

fn replay_file(file: &'static str, at_least: usize) {
    let all = sections(file);
    let n: usize = all.iter().map(|s| s.steps.len()).sum();
    assert!(
        n >= at_least,
        "{file}: only {n} example command lines found"
    );
    for flavor in FLAVORS {
        for sec in &all {
            let s = Server::start(flavor);
            replay(&s, sec);
        }
    }
    eprintln!(
        "{file}: {} sections, {n} command lines, replayed on {} servers",
        all.len(),
        FLAVORS.len()
    );
}

#[test]
fn readme_examples_reply_as_printed() {
    replay_file("README.md", 7);
}

#[test]
fn command_reference_examples_reply_as_printed() {
    replay_file("docs/commands.md", 40);
}

#[test]
fn every_command_section_has_examples() {
    let text = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    let with_examples: Vec<String> = sections("docs/commands.md")
        .into_iter()
        .map(|s| s.title)
        .collect();
    for title in text.lines().filter_map(|l| l.strip_prefix("## ")) {
        if title.starts_with("ACCOUNT.") || title.starts_with("LOBBY.") {
            assert!(
                with_examples.iter().any(|t| t == title),
                "docs/commands.md: {title} has no redis-cli example"
            );
        }
    }
}

#[test]
fn ids_and_times_are_matched_by_shape_and_bound() {
    let mut b = Bindings::default();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let (id, ms, secs) = (
        format!("{now}-0"),
        now.to_string(),
        format!("{}.5", now / 1000),
    );
    b.matches("\"1795491482139-0\"", &format!("\"{id}\""))
        .unwrap();
    // The id's milliseconds are bound with it; the same doc value must be the same server value.
    b.matches("4) \"1795491482139\"", &format!("4) \"{ms}\""))
        .unwrap();
    assert!(b
        .matches("4) \"1795491482139\"", &format!("4) \"{}\"", now + 1))
        .is_err());
    assert_eq!(
        b.substitute("XACK s g 1795491482139-0"),
        format!("XACK s g {id}")
    );
    b.matches(
        "\"last_update\":1795491311.2}",
        &format!("\"last_update\":{secs}}}"),
    )
    .unwrap();
    // Everything else is compared exactly.
    assert!(b.matches("(integer) 75", "(integer) 76").is_err());
    assert!(b
        .matches("\"since\":null", &format!("\"since\":{secs}"))
        .is_err());
    assert!(b
        .matches("1) (integer) 1", "1) (integer) 1795491311")
        .is_err());
    // Not a time: a shape inside a longer number, or one far from now.
    assert_eq!(pieces("12345678901234").len(), 1);
    assert!(matches!(pieces("x 1234567890.12345")[..], [Piece::Text(_)]));
    assert!(Bindings::default()
        .matches("1795491311", "1000000000")
        .is_err());
}

// The README's logout worker (python -m redis_account.worker) is replayed by the Python suite,
// where the PostgreSQL fixture lives: clients/python/tests/test_readme.py.

/// The README's grant for the application's user, run as printed (on Redis 7.0, which has no
/// module categories, docs/commands.md's full grant by name): the game's commands work, the
/// administration commands answer NOPERM, so that user can neither change the schema nor walk
/// the keyspace with ACCOUNT.CHECK; the schema in force is unchanged.
#[test]
fn the_readme_grant_cannot_change_the_schema() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let commands = std::fs::read_to_string(root().join("docs/commands.md")).unwrap();
    let grant_in = |text: &str, after: &str| -> Vec<String> {
        let from = text.find(after).unwrap_or_else(|| panic!("no {after:?}"));
        let rest = &text[from..];
        let start = rest.find("`ACL SETUSER game").expect("a grant") + 1;
        let end = start + rest[start..].find('`').unwrap();
        rest[start..end]
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let readme_grant = grant_in(&readme, "Grant the application's ACL user");
    assert!(
        readme_grant.contains(&"+@account".to_string()),
        "{readme_grant:?}"
    );
    let grant_70 = grant_in(&commands, "A full grant on 7.0");
    // A schema that loads (the shipped one and one more property): only the grant refuses it.
    let mut other: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/account.schema.json")).unwrap(),
    )
    .unwrap();
    other["properties"]["guild"] = serde_json::json!({"type": ["string", "null"], "default": null});
    let other = other.to_string();
    for_each_server(|s| {
        let mut c = s.conn();
        let grant = if s.flavor.has_acl_categories() {
            &readme_grant
        } else {
            &grant_70
        };
        let args: Vec<&str> = grant.iter().map(String::as_str).collect();
        q::<String>(&mut c, &args);
        let hash: Vec<redis::Value> = q(&mut c, &["ACCOUNT.SCHEMA", "GET"]);
        let mut u = s.conn();
        q::<String>(&mut u, &["AUTH", "game", "pw"]);
        q::<String>(&mut u, &["ACCOUNT.CREATE", "ac:1"]);
        assert_eq!(
            q::<Vec<i64>>(&mut u, &["ACCOUNT.DAMAGE", "ac:1", "5"]),
            [95, 5]
        );
        for call in [
            &["ACCOUNT.SCHEMA", "SET", other.as_str()][..],
            &["ACCOUNT.SCHEMA", "GET"],
            &["ACCOUNT.CHECK", "0"],
        ] {
            let e = expect_err(&mut u, call);
            assert!(e.starts_with("NOPERM"), "{:?}: {call:?}: {e}", s.flavor);
        }
        assert_eq!(
            q::<Vec<redis::Value>>(&mut c, &["ACCOUNT.SCHEMA", "GET"]),
            hash,
            "{:?}",
            s.flavor
        );
        // The same schema loads for the default user (so NOPERM above was the grant's doing).
        q::<String>(&mut c, &["ACCOUNT.SCHEMA", "SET", &other]);
    });
}
