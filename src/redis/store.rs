//! The one layer that reads and writes account documents and lobby caches in Redis. Every write
//! goes through `rm::call` with `!` so replicas and the AOF receive it (as the RedisJSON or
//! string command, never as ours), and every write is a single inner call, made after all
//! validation: a rejected command changes nothing.

use crate::error::{Error, Result};
use crate::limits;
use crate::path::DocPath;
use crate::rm::{self, Arg, CallArg, Ctx, KeyKind};
use crate::patch::{self, Patch};
use crate::printed;
use crate::schema;
use crate::text::Text;
use crate::rejson::{self, Open};
use crate::vitals::{self, Source, Stat, Stats, Vital};
use serde_json::Value;

/// The one check every account command makes before it touches a key: `Ok(false)` when the key
/// is missing, `Ok(true)` when it holds a RedisJSON document whose root is an object. Any other
/// type (other modules' types included) is WRONGTYPE; a RedisJSON value whose root is not an
/// object is CORRUPT. Writes made after this check (a root `JSON.MERGE` among them) can never
/// replace a document's root.
pub fn account(ctx: Ctx, key: Arg) -> Result<bool> {
    if let Some(api) = rejson::api(ctx) {
        return Ok(root(ctx, api, key)?.is_some());
    }
    match rm::key_kind(ctx, key) {
        KeyKind::Missing => Ok(false),
        // Only RedisJSON answers JSON.TYPE for a module key; any other module's key is an error
        // reply that `rm::call` turns into WRONGTYPE.
        KeyKind::Module => match rm::call(ctx, false, "JSON.TYPE", &[key.into()])?.bytes() {
            Some(b"object") => Ok(true),
            Some(_) => Err(not_object()),
            None => Err(Error::Internal),
        },
        _ => Err(Error::WrongType),
    }
}

/// `account`'s check through the shared API, giving the document's root: `Ok(None)` when the key
/// is missing.
fn root(ctx: Ctx, api: &'static rejson::Api, key: Arg) -> Result<Option<rejson::Node>> {
    match rejson::open(ctx, api, key) {
        Open::Missing => Ok(None),
        Open::WrongType => Err(Error::WrongType),
        Open::NotObject => Err(not_object()),
        Open::Doc(root) => Ok(Some(root)),
    }
}

/// A RedisJSON document whose root is not an object.
pub fn not_object() -> Error {
    Error::Corrupt("the document must be an object".into())
}

/// Fails with WRONGTYPE unless the key is missing or a string (a lobby cache).
pub fn expect_string_or_missing(ctx: Ctx, key: Arg) -> Result<KeyKind> {
    match rm::key_kind(ctx, key) {
        k @ (KeyKind::Missing | KeyKind::String) => Ok(k),
        _ => Err(Error::WrongType),
    }
}

/// The stored text at a JSONPath (`None` reads the whole document). `Ok(None)`: no such key.
/// `Ok(Some(None))`: the key exists but the path matches nothing.
pub fn read_text(ctx: Ctx, key: Arg, path: Option<&DocPath>) -> Result<Option<Option<Vec<u8>>>> {
    if !account(ctx, key)? {
        return Ok(None);
    }
    let jp;
    let reply = match path {
        None => rm::call(ctx, false, "JSON.GET", &[key.into()])?,
        Some(p) => {
            jp = p.jsonpath();
            rm::call(ctx, false, "JSON.GET", &[key.into(), (&jp).into()])?
        }
    };
    if reply.is_null() {
        return Ok(None);
    }
    let text = reply.bytes().ok_or(Error::Internal)?;
    if path.is_none() {
        return Ok(Some(Some(text.to_vec())));
    }
    // A JSONPath reply is an array of the matches: "[<value>]" or "[]".
    match text {
        b"[]" => Ok(Some(None)),
        [b'[', inner @ .., b']'] => Ok(Some(Some(inner.to_vec()))),
        _ => Err(Error::Internal),
    }
}

/// Reads the whole document as stored: `Ok(None)` if the key is missing. Reads never refuse a
/// document because some field breaks the schema (ACCOUNT.CHECK finds those); only text that is
/// not JSON is CORRUPT. Missing places that the schema gives a default are filled.
pub fn read_document(ctx: Ctx, key: Arg) -> Result<Option<Value>> {
    match read_text(ctx, key, None)? {
        None => Ok(None),
        Some(text) => {
            let mut doc: Value = parse_json(&text.unwrap_or_default())?;
            schema::rules().schema.fill_defaults(&mut doc);
            Ok(Some(doc))
        }
    }
}

/// Some top-level members of an account as stored, for a write that changes only them.
pub struct Members {
    /// Each name asked for, with its stored value (`None`: absent).
    pub values: Vec<(String, Option<Value>)>,
    /// The bytes the present members take in the stored text (`"name":value,` each).
    pub len: usize,
    /// The length of the whole stored text, when it was read anyway.
    pub whole_len: Option<usize>,
}

/// The bytes a member takes in a document's text: its quoted name, a colon, its value, a comma.
pub fn member_len(name: &str, value_len: usize) -> usize {
    name.len() + 4 + value_len
}

/// The top-level members `names` of an account (no defaults filled): `Ok(None)` if the key is
/// missing. Through the shared API each member is serialized by RedisJSON alone (the rest of the
/// document is neither serialized nor parsed); else the whole document is read with `JSON.GET`.
pub fn read_members(ctx: Ctx, key: Arg, names: &[&str]) -> Result<Option<Members>> {
    if let Some(api) = rejson::api(ctx) {
        let Some(root) = root(ctx, api, key)? else { return Ok(None) };
        let mut m = Members { values: names.iter().map(|n| (n.to_string(), None)).collect(), len: 0, whole_len: None };
        // One pass over the root's members (the key iterator allocates a string per member).
        let mut found: Vec<(usize, rejson::Node)> = Vec::with_capacity(names.len());
        root.each(&mut |k, node| {
            if let Some(i) = names.iter().position(|n| n.as_bytes() == k) {
                found.push((i, node));
            }
            found.len() < names.len()
        });
        for (i, node) in found {
            let (v, n) = node.text(ctx, |t| (parse_json(t), t.len())).ok_or(Error::Internal)?;
            m.len += member_len(names[i], n);
            m.values[i].1 = Some(v?);
        }
        return Ok(Some(m));
    }
    let Some(text) = read_text(ctx, key, None)? else { return Ok(None) };
    let text = text.unwrap_or_default();
    let Value::Object(mut doc) = parse_json(&text)? else { return Err(not_object()) };
    let mut m = Members { values: Vec::with_capacity(names.len()), len: 0, whole_len: Some(text.len()) };
    for &name in names {
        let value = doc.remove(name);
        if let Some(v) = &value {
            m.len += member_len(name, crate::json::text_len(v));
        }
        m.values.push((name.to_string(), value));
    }
    Ok(Some(m))
}

/// The length of an existing account's whole stored text.
pub fn document_len(ctx: Ctx, key: Arg) -> Result<usize> {
    read_whole_text(ctx, key, <[u8]>::len)?.ok_or(Error::NoAccount)
}

/// `f` of an account's whole stored JSON text (it lives only during `f`); `None` if the key is
/// missing. Through the shared API it is RedisJSON's serialization without a command call; else
/// `JSON.GET`.
pub fn read_whole_text<R>(ctx: Ctx, key: Arg, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
    if let Some(api) = rejson::api(ctx) {
        return root(ctx, api, key)?.map(|root| root.text(ctx, f).ok_or(Error::Internal)).transpose();
    }
    Ok(read_text(ctx, key, None)?.map(|t| f(&t.unwrap_or_default())))
}

/// The whole document exactly as stored (no defaults filled): for ACCOUNT.CHECK.
pub fn read_document_raw(ctx: Ctx, key: Arg) -> Result<Option<Value>> {
    match read_text(ctx, key, None)? {
        None => Ok(None),
        Some(text) => Ok(Some(parse_json(&text.unwrap_or_default())?)),
    }
}

fn parse_json(text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|_| Error::Corrupt("not valid JSON".into()))
}

/// Writes a whole, already validated document. With `nx`, only if the key does not exist:
/// returns false when it did.
pub fn write_document(ctx: Ctx, key: Arg, doc: &Value, nx: bool) -> Result<bool> {
    let text = crate::json::to_string(doc);
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Error::Limit(format!("document larger than {} bytes", limits::MAX_DOCUMENT_BYTES)));
    }
    let reply = if nx {
        rm::call(ctx, true, "JSON.SET", &[key.into(), "$".into(), (&text).into(), "NX".into()])?
    } else {
        rm::call(ctx, true, "JSON.SET", &[key.into(), "$".into(), (&text).into()])?
    };
    let written = !reply.is_null();
    if written {
        refresh_idle(ctx, key)?;
    }
    Ok(written)
}

/// Deletes a key; returns how many were removed (0 or 1).
pub fn delete(ctx: Ctx, key: Arg) -> Result<i64> {
    rm::call(ctx, true, "DEL", &[key.into()])?.integer().ok_or(Error::Internal)
}

/// Stores a lobby cache string with its TTL.
pub fn write_lobby(ctx: Ctx, key: Arg, text: &str, ttl_seconds: i64) -> Result<()> {
    let ttl = ttl_seconds.to_string();
    rm::call(ctx, true, "SET", &[key.into(), text.into(), "EX".into(), (&ttl).into()])?;
    Ok(())
}

/// The lobby cache string, `None` on a miss.
pub fn read_lobby(ctx: Ctx, key: Arg) -> Result<Option<Vec<u8>>> {
    let reply = rm::call(ctx, false, "GET", &[CallArg::Key(key)])?;
    if reply.is_null() {
        return Ok(None);
    }
    Ok(Some(reply.bytes().ok_or(Error::Internal)?.to_vec()))
}

/// The value at a path of an existing account, as stored (defaults filled inside it); NOACCOUNT
/// if the key is missing. An absent place reads as the schema's default for it, or `None`
/// where the schema gives none; a place under something that is not an object is CORRUPT.
pub fn read_at(ctx: Ctx, key: Arg, path: &DocPath) -> Result<Option<Value>> {
    let found = read_text(ctx, key, Some(path))?.ok_or(Error::NoAccount)?;
    let rules = schema::rules();
    match found {
        Some(text) => {
            let mut v = parse_json(&text)?;
            rules.schema.fill_defaults_at(&path.segments, &mut v);
            Ok(Some(v))
        }
        None => {
            check_parents(ctx, key, path)?;
            Ok(rules.default_at(path))
        }
    }
}

/// When a path matched nothing: CORRUPT if a place on the way to it holds something that is
/// not an object (its absence is a default, a scalar in its way is not).
fn check_parents(ctx: Ctx, key: Arg, path: &DocPath) -> Result<()> {
    if path.segments.len() < 2 {
        return Ok(());
    }
    let section = DocPath::parse(path.section())?;
    let Some(Some(text)) = read_text(ctx, key, Some(&section))? else { return Ok(()) };
    let mut here: Value = serde_json::from_slice(&text).map_err(|_| Error::Corrupt("not valid JSON".into()))?;
    for (i, seg) in path.segments[1..].iter().enumerate() {
        let Value::Object(mut m) = here else {
            return Err(Error::Corrupt(format!("{} must be an object", path.segments[..=i].join("."))));
        };
        match m.remove(seg.as_str()) {
            Some(v) => here = v,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// One write of `JSON.MSET`: a key, a JSONPath and the JSON text to put there.
pub struct Put<'a> {
    pub key: Arg,
    pub path: &'a str,
    pub json: String,
}

/// Writes several paths, on one or several keys, in one atomic `JSON.MSET` (all or nothing).
pub fn put_all(ctx: Ctx, puts: &[Put]) -> Result<()> {
    let mut args: Vec<CallArg> = Vec::with_capacity(puts.len() * 3);
    for p in puts {
        args.push(CallArg::Key(p.key));
        args.push(CallArg::Bytes(p.path.as_bytes()));
        args.push(CallArg::Bytes(p.json.as_bytes()));
    }
    if rejson::can_mset(ctx) {
        rm::call(ctx, true, "JSON.MSET", &args)?;
    } else {
        // One JSON.SET each: still all or nothing, as every put was checked before, and the
        // command runs alone (replicas get them in one MULTI/EXEC).
        for p in puts {
            let reply = rm::call(ctx, true, "JSON.SET", &[CallArg::Key(p.key), CallArg::Bytes(p.path.as_bytes()), CallArg::Bytes(p.json.as_bytes())])?;
            if reply.is_null() {
                return Err(Error::Internal);
            }
        }
    }
    for (i, p) in puts.iter().enumerate() {
        if !puts[..i].iter().any(|q| q.key.bytes() == p.key.bytes()) {
            refresh_idle(ctx, p.key)?;
        }
    }
    Ok(())
}

/// With `account.idle-ttl` set, gives the account that TTL again. Every write command that
/// succeeds on an existing account refreshes it, also when it changes nothing (a HEAL at full,
/// an UNLINK of an unlinked account): it is the session's activity that keeps it alive. Redis
/// propagates it as an absolute PEXPIREAT.
pub fn refresh_idle(ctx: Ctx, key: Arg) -> Result<()> {
    let ttl = crate::config::idle_ttl();
    if ttl > 0 {
        let ms = (ttl * 1000).to_string();
        rm::call(ctx, true, "PEXPIRE", &[key.into(), (&ms).into()])?;
    }
    Ok(())
}

/// Applies a merge patch at the root of an existing document (`JSON.MERGE key $ patch`).
fn merge(ctx: Ctx, key: Arg, patch: &str) -> Result<()> {
    rm::call(ctx, true, "JSON.MERGE", &[key.into(), "$".into(), patch.into()])?;
    refresh_idle(ctx, key)
}

/// One validated vital of an existing account (NOACCOUNT if missing, CORRUPT if the stored
/// stats do not hold it). Through RedisJSON's shared API when it is verified, else `JSON.GET`.
pub fn read_vital(ctx: Ctx, key: Arg, stat: Stat) -> Result<Vital> {
    if let Some(api) = rejson::api(ctx) {
        let root = root(ctx, api, key)?.ok_or(Error::NoAccount)?;
        return vitals::stored_vital(root, stat).map_err(Error::stored);
    }
    let root = read_stats_json(ctx, key)?.ok_or(Error::NoAccount)?;
    vitals::stored_vital(&root, stat).map_err(Error::stored)
}

/// The validated stats section of an account; `None` if the key is missing.
pub fn read_stats(ctx: Ctx, key: Arg) -> Result<Option<Stats>> {
    let stats = read_stats_text(ctx, key, |t| printed::stats(t).map_or_else(|| vitals::stats_from(Text::new(t)), Ok))?;
    stats.transpose().map_err(Error::stored)
}

/// `f` of the stored JSON text of an account's stats section (it lives only during `f`); `None`
/// if the key is missing, CORRUPT if the document has no stats section. Through the shared API
/// it is one serialization by RedisJSON: cheaper, for its 17 fields, than the two allocations
/// per field of the key iterator. Else `JSON.GET key $.stats`.
pub fn read_stats_text<R>(ctx: Ctx, key: Arg, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
    let set = vitals::vital_set();
    let no_stats = || Error::Corrupt(format!("no {} object", set.all[0].path()));
    if let Some(api) = rejson::api(ctx) {
        let Some(root) = root(ctx, api, key)? else { return Ok(None) };
        return Ok(Some(root.field(set.section).ok_or_else(no_stats)?.text(ctx, f).ok_or(Error::Internal)?));
    }
    match read_text(ctx, key, Some(&DocPath::parse(set.section)?))? {
        None => Ok(None),
        Some(None) => Err(no_stats()),
        Some(Some(text)) => Ok(Some(f(&text))),
    }
}

/// `{"stats": <the value at $.stats>}` read with `JSON.GET` (`{}` if nothing matched: no stats,
/// or a root that is not an object); `None` if the key is missing.
fn read_stats_json(ctx: Ctx, key: Arg) -> Result<Option<Value>> {
    if !account(ctx, key)? {
        return Ok(None);
    }
    let section = vitals::vital_set().section;
    let path = DocPath::parse(section)?.jsonpath();
    let reply = rm::call(ctx, false, "JSON.GET", &[key.into(), (&path).into()])?;
    if reply.is_null() {
        return Ok(None);
    }
    let text = reply.bytes().ok_or(Error::Internal)?;
    let found: Value = serde_json::from_slice(text).map_err(|_| Error::Corrupt("not valid JSON".into()))?;
    let mut root = serde_json::Map::new();
    if let Value::Array(mut items) = found {
        if let Some(v) = items.pop() {
            root.insert(section.into(), v);
        }
    }
    Ok(Some(Value::Object(root)))
}

/// The one write that stores a vital's change from `before` to `after`: only `cur` when nothing
/// else changed (the hot case), else the whole vital; `None` when nothing changed.
fn vital_put(key: Arg, stat: Stat, before: &Vital, after: &Vital) -> Option<Put<'static>> {
    if after == before {
        None
    } else if (Vital { cur: before.cur, ..*after }) == *before {
        Some(Put { key, path: cur_path(stat), json: after.cur.to_string() })
    } else {
        Some(Put { key, path: vital_path(stat), json: after.to_json() })
    }
}

/// The one write of vital changes: a root `JSON.MERGE` (no JSONPath to compile), or, when a
/// field becomes null (which a merge patch cannot store), one `JSON.MSET` of paths.
pub fn save(ctx: Ctx, key: Arg, changes: &[(Stat, Vital, Vital)], last_update: Option<f64>) -> Result<()> {
    match patch::vitals(changes, last_update) {
        // A write command that changes nothing still counts as activity: the TTL is refreshed.
        Patch::Unchanged => refresh_idle(ctx, key),
        Patch::Merge(json) if rejson::can_merge(ctx) => merge(ctx, key, &json),
        Patch::Merge(_) | Patch::NeedsNull => {
            let mut puts: Vec<Put> = changes.iter().filter_map(|(s, b, a)| vital_put(key, *s, b, a)).collect();
            if let Some(t) = last_update {
                puts.push(Put { key, path: vitals::vital_set().last_update_jsonpath, json: vitals::time_json(Some(t)) });
            }
            put_all(ctx, &puts)
        }
    }
}

fn vital_path(stat: Stat) -> &'static str {
    stat.def().jsonpath
}

fn cur_path(stat: Stat) -> &'static str {
    stat.def().cur_jsonpath
}

/// The vitals commands' store (`ops::Store`) over one account key of the running command.
pub struct RedisVitals {
    pub ctx: Ctx,
    pub key: Arg,
}

impl crate::ops::Store for RedisVitals {
    fn vital(&mut self, stat: Stat) -> Result<Vital> {
        read_vital(self.ctx, self.key, stat)
    }

    fn stats(&mut self) -> Result<Stats> {
        read_stats(self.ctx, self.key)?.ok_or(Error::NoAccount)
    }

    fn save(&mut self, changes: &[(Stat, Vital, Vital)], last_update: Option<f64>) -> Result<()> {
        save(self.ctx, self.key, changes, last_update)
    }

    fn announce(&mut self, event: crate::ops::Event) {
        use crate::ops::Event;
        let name = match event {
            Event::Damage => c"account.damage",
            Event::Heal => c"account.heal",
            Event::Spend => c"account.spend",
            Event::Apply => c"account.apply",
            Event::Regen => c"account.regen",
            Event::SetStat => c"account.setstat",
            Event::Death => c"account.death",
        };
        rm::notify(self.ctx, name, self.key);
    }

    fn count(&mut self, what: crate::ops::Count) {
        use crate::stats;
        match what {
            crate::ops::Count::Clamp => stats::add(&stats::CLAMPS, 1),
            crate::ops::Count::Regen => stats::add(&stats::REGENS, 1),
        }
    }
}

/// The server clock (`RM_Milliseconds`), as `ops::Clock`.
pub struct ServerClock;

impl crate::ops::Clock for ServerClock {
    fn now(&self) -> f64 {
        rm::now()
    }
}
