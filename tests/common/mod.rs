//! Test harness: a guard that starts `redis-server` with RedisJSON and this module on a free
//! loopback port, in its own directory, and kills it on drop (also when a test panics).
//!
//! Every integration test runs on both supported servers: `for_each_server(|s| ...)`.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn ssl_dir() -> PathBuf {
    root().join(".deps/ssl/usr/lib/x86_64-linux-gnu")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// Redis Stack 7.4.1 (the primary target).
    Stack74,
    /// Debian's Redis 7.0.15 (the oldest supported server).
    Debian70,
}

impl Flavor {
    pub fn server(self) -> PathBuf {
        match self {
            Flavor::Stack74 => root().join(".deps/stack/bin/redis-server"),
            Flavor::Debian70 => PathBuf::from("/usr/bin/redis-server"),
        }
    }
    pub fn has_acl_categories(self) -> bool {
        self == Flavor::Stack74
    }
}

pub const FLAVORS: [Flavor; 2] = [Flavor::Stack74, Flavor::Debian70];

pub fn rejson() -> PathBuf {
    std::env::var_os("REJSON_SO").map(PathBuf::from).unwrap_or_else(|| root().join(".deps/stack/lib/rejson.so"))
}

/// The module under test: ACCOUNT_SO, else the newest release build (`cargo test --release`
/// leaves its fresh copy under deps/, `cargo build --release` at the top).
pub fn module() -> PathBuf {
    if let Some(p) = std::env::var_os("ACCOUNT_SO") {
        return PathBuf::from(p);
    }
    let candidates = ["target/release/libredis_account.so", "target/release/deps/libredis_account.so"];
    candidates
        .iter()
        .map(|c| root().join(c))
        .filter_map(|p| Some((std::fs::metadata(&p).ok()?.modified().ok()?, p)))
        .max()
        .map(|(_, p)| p)
        .expect("build the module first: cargo build --release")
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Server {
    child: Child,
    pub port: u16,
    pub flavor: Flavor,
    pub dir: PathBuf,
}

pub struct Options {
    /// Load this module (false: RedisJSON only).
    pub with_module: bool,
    pub extra: Vec<String>,
}

impl Options {
    /// AOF on, every write fsynced before it is acknowledged: a SIGKILL loses nothing.
    pub fn aof() -> Options {
        Options {
            extra: vec!["--appendonly".into(), "yes".into(), "--appendfsync".into(), "always".into()],
            ..Default::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options { with_module: true, extra: vec![] }
    }
}

impl Server {
    pub fn start(flavor: Flavor) -> Server {
        Server::start_with(flavor, Options::default())
    }

    pub fn start_with(flavor: Flavor, opts: Options) -> Server {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("redis-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::SeqCst)));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Server::start_in(flavor, dir, opts)
    }

    /// Starts a server in an existing directory (to restart from its AOF or RDB).
    pub fn start_in(flavor: Flavor, dir: PathBuf, opts: Options) -> Server {
        for _attempt in 0..5 {
            let port = free_port();
            let mut cmd = Command::new(flavor.server());
            cmd.env("LD_LIBRARY_PATH", ssl_dir())
                .current_dir(&dir)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
                .args(["--dir", dir.to_str().unwrap(), "--logfile", "redis.log"])
                .args(["--loadmodule", rejson().to_str().unwrap()]);
            if opts.with_module {
                cmd.args(["--loadmodule", module().to_str().unwrap()]);
            }
            for e in &opts.extra {
                cmd.arg(e);
            }
            let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn redis-server");
            let mut s = Server { child, port, flavor, dir: dir.clone() };
            if s.wait_ready() {
                return s;
            }
            // Port taken between probe and bind, or a start failure: show the log if it is not a port clash.
            let log = std::fs::read_to_string(dir.join("redis.log")).unwrap_or_default();
            if !log.contains("Address already in use") {
                panic!("{flavor:?} did not start:\n{log}");
            }
            let _ = s.child.kill();
        }
        panic!("no free port for redis-server");
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if let Ok(mut c) = self.try_conn() {
                if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn try_conn(&self) -> redis::RedisResult<redis::Connection> {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))?;
        client.get_connection_with_timeout(Duration::from_secs(5))
    }

    pub fn conn(&self) -> redis::Connection {
        self.try_conn().expect("connect")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    /// Runs one command line through redis-cli (its own quoting, its interactive output format).
    pub fn cli_line(&self, line: &str) -> String {
        use std::io::Write;
        let mut child = Command::new("redis-cli")
            .args(["-p", &self.port.to_string(), "--no-raw"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("redis-cli");
        child.stdin.take().unwrap().write_all(format!("{line}\n").as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end_matches('\n').to_string()
    }

    /// Kills the server at once (no shutdown, no save), as a crash would.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = self.dir.clone();
        self.dir = PathBuf::new(); // keep the directory for a restart
        dir
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Runs the body once on each supported server.
pub fn for_each_server(body: impl Fn(&Server)) {
    for flavor in FLAVORS {
        let s = Server::start(flavor);
        body(&s);
    }
}

/// Makes `replica` replicate `primary` and waits until the link is up.
pub fn attach(replica: &Server, primary: &Server) {
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

/// The full text of an error reply, as redis-cli shows it after "(error) ".
pub fn err_text(e: &redis::RedisError) -> String {
    match (e.code(), e.detail()) {
        (Some(code), Some(detail)) => format!("{code} {detail}"),
        (Some(code), None) => code.to_string(),
        _ => e.to_string(),
    }
}

/// Runs a command, expecting an error reply; returns its full text.
pub fn expect_err(con: &mut redis::Connection, args: &[&str]) -> String {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    match c.query::<redis::Value>(con) {
        Ok(v) => panic!("{args:?}: expected an error, got {v:?}"),
        Err(e) => err_text(&e),
    }
}

/// Runs a command and converts its reply.
pub fn q<T: redis::FromRedisValue>(con: &mut redis::Connection, args: &[&str]) -> T {
    let mut c = redis::cmd(args[0]);
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query::<T>(con).unwrap_or_else(|e| panic!("{args:?}: {}", err_text(&e)))
}

/// One field of `INFO account` (`account_read_path`, `account_calls_damage`, ...), as text.
pub fn info_field(con: &mut redis::Connection, name: &str) -> String {
    let info: String = q(con, &["INFO", "account"]);
    info.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no {name} in INFO account:\n{info}"))
        .trim_end()
        .to_string()
}

/// The document as plain RedisJSON returns it (`JSON.GET key`), parsed.
pub fn json_get(con: &mut redis::Connection, key: &str) -> Option<serde_json::Value> {
    let text: Option<String> = q(con, &["JSON.GET", key]);
    text.map(|t| serde_json::from_str(&t).unwrap())
}

pub fn exists_path(p: &Path) -> bool {
    p.exists()
}
