//! What a command writes reaches replicas and the AOF: replicas (with and without this module)
//! hold the same documents as the primary, and a server killed with SIGKILL comes back from its
//! AOF with every acknowledged write.

mod common;
use common::*;
use std::time::{Duration, Instant};

/// A fixed workload of the write commands that exist, including rejected calls.
fn workload(c: &mut redis::Connection) {
    for i in 0..50 {
        let key = format!("ac:{i}");
        q::<String>(c, &["ACCOUNT.CREATE", &key, &format!(r#"{{"bio":{{"name":"n{i}"}},"stats":{{"hp":{{"cur":{i},"max":100}}}}}}"#)]);
        let _ = expect_err(c, &["ACCOUNT.CREATE", &key, r#"{"bad":1}"#]);
        let _: Option<String> = q(c, &["ACCOUNT.CREATE", &key, "NX"]);
        if i % 5 == 0 {
            q::<i64>(c, &["ACCOUNT.DEL", &key]);
        }
        if i % 5 != 0 {
            let _ = q::<String>(c, &["ACCOUNT.SET", &key, "bio.gender", r#""female""#, "attributes.luck", &i.to_string()]);
            let _ = expect_err(c, &["ACCOUNT.SET", &key, "bio.gender", r#""x""#, "attributes.luck", "-1"]);
            let _ = q::<String>(c, &["ACCOUNT.STATE", &key, "combat"]);
            let _ = expect_err(c, &["ACCOUNT.STATE", &key, "lobby", "FROM", "scenario"]);
            let _ = q::<String>(c, &["ACCOUNT.MOVE", &key, &format!("zone_{i}")]);
            let _ = q::<Option<String>>(c, &["ACCOUNT.SESSION", &key, "inventory", &format!("inv_{i}")]);
            let _ = q::<Vec<i64>>(c, &["ACCOUNT.SETSTAT", &key, "mp", &(i * 3).to_string(), "120"]);
            let _ = q::<i64>(c, &["ACCOUNT.INCR", &key, "metrics.arena_wins", &i.to_string()]);
            let _ = expect_err(c, &["ACCOUNT.INCR", &key, "metrics.arena_wins", "9223372036854775807"]);
            let _ = q::<Vec<i64>>(c, &["ACCOUNT.DAMAGE", &key, &(i * 2).to_string()]);
            let _ = q::<Vec<i64>>(c, &["ACCOUNT.HEAL", &key, "3", "mp"]);
            let _ = redis::cmd("ACCOUNT.SPEND").arg(&key).arg("stamina").arg(i * 4).query::<redis::Value>(c);
            let _ = q::<redis::Value>(c, &["ACCOUNT.APPLY", &key, "hp", "-1", "mp", "-2", "stamina", "3"]);
            let _ = expect_err(c, &["ACCOUNT.DAMAGE", &key, "-1"]);
        }
        let lobby = format!("lobby:user:{i}");
        q::<String>(c, &["LOBBY.SETCACHE", &lobby, &format!(r#"[{{"character_id":{i},"user_id":{i}}}]"#)]);
        if i % 7 == 0 {
            q::<i64>(c, &["LOBBY.DELCACHE", &lobby]);
        }
    }
    // Bulk links across characters (one hash tag per group, as Redis Cluster would need).
    for g in 0..5 {
        let keys: Vec<String> = (0..4).map(|j| format!("{{g{g}}}ac:{j}")).collect();
        for k in &keys {
            q::<String>(c, &["ACCOUNT.CREATE", k]);
        }
        let mut link = vec!["ACCOUNT.LINK", "combat", "c_bulk"];
        link.extend(keys.iter().map(|k| k.as_str()));
        q::<i64>(c, &link);
        if g % 2 == 0 {
            let mut unlink = vec!["ACCOUNT.UNLINK", "combat"];
            unlink.extend(keys.iter().take(2).map(|k| k.as_str()));
            q::<i64>(c, &unlink);
        }
    }
}

/// Every key and its content (JSON text for documents, value and TTL presence for strings).
fn snapshot(c: &mut redis::Connection) -> Vec<(String, String)> {
    let mut keys: Vec<String> = q(c, &["KEYS", "*"]);
    keys.sort();
    keys.into_iter()
        .map(|k| {
            let t: String = q(c, &["TYPE", &k]);
            let v = if t == "ReJSON-RL" {
                q::<String>(c, &["JSON.GET", &k])
            } else {
                let ttl: i64 = q(c, &["TTL", &k]);
                format!("{} ttl>0:{}", q::<String>(c, &["GET", &k]), ttl > 0)
            };
            (k, v)
        })
        .collect()
}

fn attach(replica: &Server, primary: &Server) {
    let mut r = replica.conn();
    q::<String>(&mut r, &["REPLICAOF", "127.0.0.1", &primary.port.to_string()]);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info: String = q(&mut r, &["INFO", "replication"]);
        if info.contains("master_link_status:up") {
            return;
        }
        assert!(Instant::now() < deadline, "replica did not sync: {info}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn replica_matches(with_module: bool) {
    for flavor in FLAVORS {
        let primary = Server::start(flavor);
        let replica = Server::start_with(flavor, Options { with_module, ..Default::default() });
        attach(&replica, &primary);
        let mut p = primary.conn();
        workload(&mut p);
        let acked: i64 = q(&mut p, &["WAIT", "1", "5000"]);
        assert_eq!(acked, 1);
        let mut r = replica.conn();
        let (ps, rs) = (snapshot(&mut p), snapshot(&mut r));
        assert!(ps.len() > 50, "{flavor:?}: workload wrote {} keys", ps.len());
        assert_eq!(ps, rs, "{flavor:?}: replica differs");
        assert!(primary.log().contains("Module 'account' loaded"));
        assert_eq!(replica.log().contains("Module 'account' loaded"), with_module);
    }
}

#[test]
fn replica_with_the_module_holds_the_same_documents() {
    replica_matches(true);
}

#[test]
fn replica_without_the_module_still_follows() {
    // The replication stream carries JSON.SET / SET / DEL, never ACCOUNT.* or LOBBY.*.
    replica_matches(false);
}

#[test]
fn aof_restart_after_sigkill_keeps_every_acknowledged_write() {
    for flavor in FLAVORS {
        let aof = || Options {
            extra: vec!["--appendonly".into(), "yes".into(), "--appendfsync".into(), "always".into()],
            ..Default::default()
        };
        let s = Server::start_with(flavor, aof());
        let mut c = s.conn();
        workload(&mut c);
        let before = snapshot(&mut c);
        let dir = s.kill9();
        let s2 = Server::start_in(flavor, dir, aof());
        let mut c2 = s2.conn();
        assert_eq!(snapshot(&mut c2), before, "{flavor:?}");
    }
}
