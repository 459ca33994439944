//! redis-cli transcripts under tests/transcripts/*.txt: each `redis> ` line is typed into
//! redis-cli (its own quoting), and the lines after it are exactly what redis-cli prints.
//! They double as examples; every one runs on both servers.

mod common;
use common::*;

fn run(file: &str) {
    let path = root().join("tests/transcripts").join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    // (command line, expected output, line number)
    let mut steps: Vec<(String, Vec<String>, usize)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if let Some(cmd) = line.strip_prefix("redis> ") {
            steps.push((cmd.to_string(), vec![], n + 1));
        } else if line.starts_with('#')
            || (line.is_empty() && steps.last().is_none_or(|s| s.1.is_empty()))
        {
            continue;
        } else if let Some(last) = steps.last_mut() {
            last.1.push(line.to_string());
        }
    }
    assert!(!steps.is_empty(), "{file}: no commands");
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        for (cmd, want, line) in &steps {
            let mut want = want.clone();
            while want.last().is_some_and(|l| l.is_empty()) {
                want.pop();
            }
            let got = s.cli_line(cmd);
            assert_eq!(got, want.join("\n"), "{flavor:?} {file}:{line}: {cmd}");
        }
    }
}

#[test]
fn foundation() {
    run("foundation.txt");
}

#[test]
fn onboarding_flow() {
    run("onboarding.txt");
}

#[test]
fn combat_flow() {
    run("combat.txt");
}

#[test]
fn lobby_flow() {
    run("lobby.txt");
}
