//! The one layer that reads and writes account documents and lobby caches in Redis. Every write
//! goes through `rm::call` with `!` so replicas and the AOF receive it (as the RedisJSON or
//! string command, never as ours), and every write is made after all validation: a rejected
//! command changes nothing. Where a command makes more than one inner write, `Writes` takes the
//! earlier ones back if a later one fails: all or nothing on every path.

use crate::error::{Error, Result};
use crate::limits;
use crate::patch::{self, Patch};
use crate::path::DocPath;
use crate::printed;
use crate::rejson::{self, Open};
use crate::rm::{self, Arg, CallArg, Ctx, KeyKind};
use crate::schema;
use crate::text::Text;
use crate::vitals::{self, Source, Stat, Stats, Vital};
use serde_json::Value;

/// The one check every account command makes before it touches a key: `Ok(false)` when the key
/// is missing, `Ok(true)` when it holds a RedisJSON document whose root is an object. Any other
/// type (other modules' types included) is WRONGTYPE; a RedisJSON value whose root is not an
/// object is CORRUPT. Writes made after this check (a root `JSON.MERGE` among them) can never
/// replace a document's root.
pub fn account(ctx: Ctx, key: &Arg) -> Result<bool> {
    if let Some(api) = rejson::api(ctx) {
        return Ok(root(ctx, api, key)?.is_some());
    }
    match rm::key_kind(ctx, key) {
        KeyKind::Missing => Ok(false),
        // Only RedisJSON answers JSON.TYPE for a module key; any other module's key is an error
        // reply that `rm::call` turns into WRONGTYPE.
        KeyKind::Module => match rm::call(ctx, false, c"JSON.TYPE", &[key.into()])?.bytes() {
            Some(b"object") => Ok(true),
            Some(_) => Err(not_object()),
            None => Err(Error::Internal),
        },
        _ => Err(Error::WrongType),
    }
}

/// `account`'s check through the shared API, giving the document's root: `Ok(None)` when the key
/// is missing.
fn root<'a>(
    ctx: Ctx,
    api: &'static rejson::Api,
    key: &'a Arg<'a>,
) -> Result<Option<rejson::Node<'a>>> {
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
pub fn expect_string_or_missing(ctx: Ctx, key: &Arg) -> Result<KeyKind> {
    match rm::key_kind(ctx, key) {
        k @ (KeyKind::Missing | KeyKind::String) => Ok(k),
        _ => Err(Error::WrongType),
    }
}

/// The stored text at a JSONPath (`None` reads the whole document). `Ok(None)`: no such key.
/// `Ok(Some(None))`: the key exists but the path matches nothing.
pub fn read_text(ctx: Ctx, key: &Arg, path: Option<&DocPath>) -> Result<Option<Option<Vec<u8>>>> {
    if !account(ctx, key)? {
        return Ok(None);
    }
    let jp;
    let reply = match path {
        None => rm::call(ctx, false, c"JSON.GET", &[key.into()])?,
        Some(p) => {
            jp = p.jsonpath();
            rm::call(ctx, false, c"JSON.GET", &[key.into(), (&jp).into()])?
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
pub fn read_document(ctx: Ctx, key: &Arg) -> Result<Option<Value>> {
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
pub fn read_members(ctx: Ctx, key: &Arg, names: &[&str]) -> Result<Option<Members>> {
    if let Some(api) = rejson::api(ctx) {
        let Some(root) = root(ctx, api, key)? else {
            return Ok(None);
        };
        let mut m = Members {
            values: names.iter().map(|n| (n.to_string(), None)).collect(),
            len: 0,
            whole_len: None,
        };
        // One pass over the root's members (the key iterator allocates a string per member).
        let mut found: Vec<(usize, rejson::Node)> = Vec::with_capacity(names.len());
        root.each(&mut |k, node| {
            if let Some(i) = names.iter().position(|n| n.as_bytes() == k) {
                found.push((i, node));
            }
            found.len() < names.len()
        });
        for (i, node) in found {
            let (v, n) = node
                .text(ctx, |t| (parse_json(t), t.len()))
                .ok_or(Error::Internal)?;
            m.len += member_len(names[i], n);
            m.values[i].1 = Some(v?);
        }
        return Ok(Some(m));
    }
    let Some(text) = read_text(ctx, key, None)? else {
        return Ok(None);
    };
    let text = text.unwrap_or_default();
    let Value::Object(mut doc) = parse_json(&text)? else {
        return Err(not_object());
    };
    let mut m = Members {
        values: Vec::with_capacity(names.len()),
        len: 0,
        whole_len: Some(text.len()),
    };
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
pub fn document_len(ctx: Ctx, key: &Arg) -> Result<usize> {
    read_whole_text(ctx, key, <[u8]>::len)?.ok_or(Error::NoAccount)
}

/// `f` of an account's whole stored JSON text (it lives only during `f`); `None` if the key is
/// missing. Through the shared API it is RedisJSON's serialization without a command call; else
/// `JSON.GET`.
pub fn read_whole_text<R>(ctx: Ctx, key: &Arg, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
    if let Some(api) = rejson::api(ctx) {
        return root(ctx, api, key)?
            .map(|root| root.text(ctx, f).ok_or(Error::Internal))
            .transpose();
    }
    Ok(read_text(ctx, key, None)?.map(|t| f(&t.unwrap_or_default())))
}

/// The whole document exactly as stored (no defaults filled): for ACCOUNT.CHECK.
pub fn read_document_raw(ctx: Ctx, key: &Arg) -> Result<Option<Value>> {
    match read_text(ctx, key, None)? {
        None => Ok(None),
        Some(text) => Ok(Some(parse_json(&text.unwrap_or_default())?)),
    }
}

fn parse_json(text: &[u8]) -> Result<Value> {
    serde_json::from_slice(text).map_err(|_| Error::Corrupt("not valid JSON".into()))
}

/// Writes a whole, already validated document; `exists` is what `account` found. With `nx`,
/// only if the key does not exist: returns false when it did. All or nothing with the idle TTL:
/// a new key that cannot get its TTL is deleted again; an existing one is put back as it was.
pub fn write_document(ctx: Ctx, key: &Arg, doc: &Value, nx: bool, exists: bool) -> Result<bool> {
    let text = crate::json::to_string(doc);
    if text.len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Error::Limit(format!(
            "document larger than {} bytes",
            limits::MAX_DOCUMENT_BYTES
        )));
    }
    if nx && exists {
        return Ok(false);
    }
    let mut w = Writes::new(ctx);
    if exists && crate::config::idle_ttl() > 0 {
        // A root JSON.SET may or may not keep the TTL (RedisJSON versions differ): the TTL is
        // given after it, so what a failure of that PEXPIRE must undo is the whole document.
        w.keep_whole(key)?;
    }
    let reply = if nx {
        rm::call(
            ctx,
            true,
            c"JSON.SET",
            &[key.into(), "$".into(), (&text).into(), "NX".into()],
        )?
    } else {
        rm::call(
            ctx,
            true,
            c"JSON.SET",
            &[key.into(), "$".into(), (&text).into()],
        )?
    };
    if reply.is_null() {
        return Ok(false);
    }
    if !exists {
        w.created(key);
    }
    w.give_idle_ttl(key)?;
    w.commit();
    Ok(true)
}

/// Deletes a key; returns how many were removed (0 or 1).
pub fn delete(ctx: Ctx, key: &Arg) -> Result<i64> {
    rm::call(ctx, true, c"DEL", &[key.into()])?
        .integer()
        .ok_or(Error::Internal)
}

/// Stores a lobby cache string with its TTL.
pub fn write_lobby(ctx: Ctx, key: &Arg, text: &str, ttl_seconds: i64) -> Result<()> {
    let ttl = ttl_seconds.to_string();
    rm::call(
        ctx,
        true,
        c"SET",
        &[key.into(), text.into(), "EX".into(), (&ttl).into()],
    )?;
    Ok(())
}

/// The lobby cache string, `None` on a miss.
pub fn read_lobby(ctx: Ctx, key: &Arg) -> Result<Option<Vec<u8>>> {
    let reply = rm::call(ctx, false, c"GET", &[CallArg::Key(key)])?;
    if reply.is_null() {
        return Ok(None);
    }
    Ok(Some(reply.bytes().ok_or(Error::Internal)?.to_vec()))
}

/// The value at a path of an existing account, as stored (defaults filled inside it); NOACCOUNT
/// if the key is missing. An absent place reads as the schema's default for it, or `None`
/// where the schema gives none; a place under something that is not an object is CORRUPT.
pub fn read_at(ctx: Ctx, key: &Arg, path: &DocPath) -> Result<Option<Value>> {
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
fn check_parents(ctx: Ctx, key: &Arg, path: &DocPath) -> Result<()> {
    if path.segments.len() < 2 {
        return Ok(());
    }
    let section = DocPath::parse(path.section())?;
    let Some(Some(text)) = read_text(ctx, key, Some(&section))? else {
        return Ok(());
    };
    let mut here: Value =
        serde_json::from_slice(&text).map_err(|_| Error::Corrupt("not valid JSON".into()))?;
    for (i, seg) in path.segments[1..].iter().enumerate() {
        let Value::Object(mut m) = here else {
            return Err(Error::Corrupt(format!(
                "{} must be an object",
                path.segments[..=i].join(".")
            )));
        };
        match m.remove(seg.as_str()) {
            Some(v) => here = v,
            None => return Ok(()),
        }
    }
    Ok(())
}

/// One write of `JSON.MSET`: a key, a JSONPath inside its top-level member `member`, and the
/// JSON text to put there.
pub struct Put<'a> {
    pub key: &'a Arg<'a>,
    pub member: &'a str,
    pub path: &'a str,
    pub json: String,
}

/// Writes several paths, on one or several keys, all or nothing, and refreshes the idle TTL of
/// each key written and of each key of `touch`. The paths go in one `JSON.MSET`; without it
/// (`account.json-merge no`, RedisJSON before 2.6) one `JSON.SET` each, after keeping the
/// top-level members they change, so that a failed one puts the earlier ones back.
pub fn put_all(ctx: Ctx, puts: &[Put], touch: &[&Arg]) -> Result<()> {
    let mut w = Writes::new(ctx);
    for (i, p) in puts.iter().enumerate() {
        if !puts[..i].iter().any(|q| q.key.bytes() == p.key.bytes()) {
            w.refresh_idle(p.key)?;
        }
    }
    for &key in touch {
        w.refresh_idle(key)?;
    }
    if puts.is_empty() {
        w.commit();
        return Ok(());
    }
    if rejson::can_mset(ctx) {
        let mut args: Vec<CallArg> = Vec::with_capacity(puts.len() * 3);
        for p in puts {
            args.push(CallArg::Key(p.key));
            args.push(CallArg::Bytes(p.path.as_bytes()));
            args.push(CallArg::Bytes(p.json.as_bytes()));
        }
        rm::call(ctx, true, c"JSON.MSET", &args)?;
    } else {
        if puts.len() > 1 {
            for (i, p) in puts.iter().enumerate() {
                if !puts[..i]
                    .iter()
                    .any(|q| q.key.bytes() == p.key.bytes() && q.member == p.member)
                {
                    w.keep_member(p.key, p.member)?;
                }
            }
        }
        for p in puts {
            let reply = rm::call(
                ctx,
                true,
                c"JSON.SET",
                &[
                    CallArg::Key(p.key),
                    CallArg::Bytes(p.path.as_bytes()),
                    CallArg::Bytes(p.json.as_bytes()),
                ],
            )?;
            if reply.is_null() {
                return Err(Error::Internal);
            }
        }
    }
    w.commit();
    Ok(())
}

/// With `account.idle-ttl` set, gives an existing account that TTL again. Every write command
/// that succeeds on an existing account refreshes it, also when it changes nothing (a HEAL at
/// full, an UNLINK of an unlinked account): it is the session's activity that keeps it alive.
/// Redis propagates it as an absolute PEXPIREAT.
pub fn refresh_idle(ctx: Ctx, key: &Arg) -> Result<()> {
    let mut w = Writes::new(ctx);
    w.refresh_idle(key)?;
    w.commit();
    Ok(())
}

/// The inner writes of one command, all or nothing. A command makes its checks first and its
/// writes last; where it makes more than one write (the idle TTL and the document, several
/// keys, several paths without `JSON.MSET`), each write that a later failure would leave behind
/// records here, before it is made, how to take it back. Unless the command calls `commit`,
/// dropping this (an error returned, or a panic unwinding) makes those undo writes, last first,
/// within the same command: replicas and the AOF get the writes and their undo, plain Redis and
/// RedisJSON commands, and end where they began. INTERNAL (or the inner error) then means what
/// docs/commands.md says: the command changed nothing.
pub struct Writes<'a> {
    ctx: Ctx,
    undo: Vec<Undo<'a>>,
}

/// How to take one write back.
enum Undo<'a> {
    /// The key was created: delete it.
    Delete(&'a Arg<'a>),
    /// The key's expire was changed: put back this absolute time in ms (`None`: no TTL).
    Expire(&'a Arg<'a>, Option<i64>),
    /// A top-level member was written: put back its text (JSONPath, `None`: it was absent).
    Member(&'a Arg<'a>, String, Option<Vec<u8>>),
    /// The whole document was written: put back its text and its expire.
    Whole(&'a Arg<'a>, Vec<u8>, Option<i64>),
}

impl<'a> Writes<'a> {
    pub fn new(ctx: Ctx) -> Writes<'a> {
        Writes {
            ctx,
            undo: Vec::new(),
        }
    }

    /// Every write was made: nothing is to be taken back.
    pub fn commit(mut self) {
        self.undo.clear();
    }

    /// The key's expire as an absolute unix time in ms (`None`: none, or no such key).
    fn expire_at(&self, key: &Arg) -> Result<Option<i64>> {
        let at = rm::call(self.ctx, false, c"PEXPIRETIME", &[key.into()])?
            .integer()
            .ok_or(Error::Internal)?;
        Ok((at >= 0).then_some(at))
    }

    /// With `account.idle-ttl` set, refreshes an existing key's TTL, to be put back on failure.
    pub fn refresh_idle(&mut self, key: &'a Arg<'a>) -> Result<()> {
        if crate::config::idle_ttl() > 0 {
            let before = self.expire_at(key)?;
            self.undo.push(Undo::Expire(key, before));
            self.give_idle_ttl(key)?;
        }
        Ok(())
    }

    /// `PEXPIRE` with `account.idle-ttl`, where an undo recorded earlier covers it.
    fn give_idle_ttl(&mut self, key: &Arg) -> Result<()> {
        let ttl = crate::config::idle_ttl();
        if ttl > 0 {
            let ms = (ttl * 1000).to_string();
            rm::call(self.ctx, true, c"PEXPIRE", &[key.into(), (&ms).into()])?;
        }
        Ok(())
    }

    /// The key was just created: a later failure deletes it.
    pub fn created(&mut self, key: &'a Arg<'a>) {
        self.undo.push(Undo::Delete(key));
    }

    /// Keeps the top-level member `member` of an existing account, to be put back on failure.
    pub fn keep_member(&mut self, key: &'a Arg<'a>, member: &str) -> Result<()> {
        let path = DocPath::parse(member)?;
        let old = read_text(self.ctx, key, Some(&path))?.ok_or(Error::NoAccount)?;
        self.undo.push(Undo::Member(key, path.jsonpath(), old));
        Ok(())
    }

    /// Keeps the whole document and the expire of an existing account, to be put back on failure.
    pub fn keep_whole(&mut self, key: &'a Arg<'a>) -> Result<()> {
        let text = read_whole_text(self.ctx, key, <[u8]>::to_vec)?.ok_or(Error::NoAccount)?;
        let at = self.expire_at(key)?;
        self.undo.push(Undo::Whole(key, text, at));
        Ok(())
    }

    fn put_back_expire(&self, key: &Arg, at: Option<i64>) -> Result<()> {
        match at {
            Some(at) => rm::call(
                self.ctx,
                true,
                c"PEXPIREAT",
                &[key.into(), (&at.to_string()).into()],
            )?,
            None => rm::call(self.ctx, true, c"PERSIST", &[key.into()])?,
        };
        Ok(())
    }

    fn take_back(&self, u: &Undo) -> Result<()> {
        let ctx = self.ctx;
        match u {
            Undo::Delete(key) => {
                rm::call(ctx, true, c"DEL", &[(*key).into()])?;
            }
            Undo::Expire(key, at) => self.put_back_expire(key, *at)?,
            Undo::Member(key, path, Some(text)) => {
                rm::call(
                    ctx,
                    true,
                    c"JSON.SET",
                    &[(*key).into(), path.into(), CallArg::Bytes(text)],
                )?;
            }
            Undo::Member(key, path, None) => {
                rm::call(ctx, true, c"JSON.DEL", &[(*key).into(), path.into()])?;
            }
            Undo::Whole(key, text, at) => {
                rm::call(
                    ctx,
                    true,
                    c"JSON.SET",
                    &[(*key).into(), "$".into(), CallArg::Bytes(text)],
                )?;
                self.put_back_expire(key, *at)?;
            }
        }
        Ok(())
    }
}

impl Drop for Writes<'_> {
    fn drop(&mut self) {
        for u in self.undo.iter().rev() {
            if let Err(e) = self.take_back(u) {
                // Two failures in one command: the first one's reply stands, the log says more.
                rm::log(
                    self.ctx,
                    "warning",
                    &format!("account: a failed command could not undo one of its writes: {e}"),
                );
            }
        }
    }
}

/// Applies a merge patch at the root of an existing document (`JSON.MERGE key $ patch`), after
/// refreshing its idle TTL (put back if the merge fails).
fn merge(ctx: Ctx, key: &Arg, patch: &str) -> Result<()> {
    let mut w = Writes::new(ctx);
    w.refresh_idle(key)?;
    rm::call(
        ctx,
        true,
        c"JSON.MERGE",
        &[key.into(), "$".into(), patch.into()],
    )?;
    w.commit();
    Ok(())
}

/// One validated vital of an existing account (NOACCOUNT if missing, CORRUPT if the stored
/// stats do not hold it). Through RedisJSON's shared API when it is verified, else `JSON.GET`.
pub fn read_vital(ctx: Ctx, key: &Arg, stat: Stat) -> Result<Vital> {
    if let Some(api) = rejson::api(ctx) {
        let root = root(ctx, api, key)?.ok_or(Error::NoAccount)?;
        return vitals::stored_vital(root, stat).map_err(Error::stored);
    }
    let root = read_stats_json(ctx, key)?.ok_or(Error::NoAccount)?;
    vitals::stored_vital(&root, stat).map_err(Error::stored)
}

/// The validated stats section of an account; `None` if the key is missing.
pub fn read_stats(ctx: Ctx, key: &Arg) -> Result<Option<Stats>> {
    let stats = read_stats_text(ctx, key, |t| {
        printed::stats(t).map_or_else(|| vitals::stats_from(Text::new(t)), Ok)
    })?;
    stats.transpose().map_err(Error::stored)
}

/// `f` of the stored JSON text of an account's stats section (it lives only during `f`); `None`
/// if the key is missing, CORRUPT if the document has no stats section. Through the shared API
/// it is one serialization by RedisJSON: cheaper, for its 17 fields, than the two allocations
/// per field of the key iterator. Else `JSON.GET key $.stats`.
pub fn read_stats_text<R>(ctx: Ctx, key: &Arg, f: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
    let set = vitals::vital_set();
    let no_stats = || Error::Corrupt(format!("no {} object", set.all[0].path()));
    if let Some(api) = rejson::api(ctx) {
        let Some(root) = root(ctx, api, key)? else {
            return Ok(None);
        };
        return Ok(Some(
            root.field(set.section)
                .ok_or_else(no_stats)?
                .text(ctx, f)
                .ok_or(Error::Internal)?,
        ));
    }
    match read_text(ctx, key, Some(&DocPath::parse(set.section)?))? {
        None => Ok(None),
        Some(None) => Err(no_stats()),
        Some(Some(text)) => Ok(Some(f(&text))),
    }
}

/// `{"stats": <the value at $.stats>}` read with `JSON.GET` (`{}` if nothing matched: no stats,
/// or a root that is not an object); `None` if the key is missing.
fn read_stats_json(ctx: Ctx, key: &Arg) -> Result<Option<Value>> {
    if !account(ctx, key)? {
        return Ok(None);
    }
    let section = vitals::vital_set().section;
    let path = DocPath::parse(section)?.jsonpath();
    let reply = rm::call(ctx, false, c"JSON.GET", &[key.into(), (&path).into()])?;
    if reply.is_null() {
        return Ok(None);
    }
    let text = reply.bytes().ok_or(Error::Internal)?;
    let found: Value =
        serde_json::from_slice(text).map_err(|_| Error::Corrupt("not valid JSON".into()))?;
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
fn vital_put<'a>(key: &'a Arg<'a>, stat: Stat, before: &Vital, after: &Vital) -> Option<Put<'a>> {
    let member = vitals::vital_set().section;
    if after == before {
        None
    } else if (Vital {
        cur: before.cur,
        ..*after
    }) == *before
    {
        Some(Put {
            key,
            member,
            path: cur_path(stat),
            json: after.cur.to_string(),
        })
    } else {
        Some(Put {
            key,
            member,
            path: vital_path(stat),
            json: after.to_json(),
        })
    }
}

/// The one write of vital changes: a root `JSON.MERGE` (no JSONPath to compile), or, when a
/// field becomes null (which a merge patch cannot store), one `JSON.MSET` of paths.
pub fn save(
    ctx: Ctx,
    key: &Arg,
    changes: &[(Stat, Vital, Vital)],
    last_update: Option<f64>,
) -> Result<()> {
    match patch::vitals(changes, last_update) {
        // A write command that changes nothing still counts as activity: the TTL is refreshed.
        Patch::Unchanged => refresh_idle(ctx, key),
        Patch::Merge(json) if rejson::can_merge(ctx) => merge(ctx, key, &json),
        Patch::Merge(_) | Patch::NeedsNull => {
            let set = vitals::vital_set();
            let mut puts: Vec<Put> = changes
                .iter()
                .filter_map(|(s, b, a)| vital_put(key, *s, b, a))
                .collect();
            if let Some(t) = last_update {
                puts.push(Put {
                    key,
                    member: set.section,
                    path: set.last_update_jsonpath,
                    json: vitals::time_json(Some(t)),
                });
            }
            put_all(ctx, &puts, &[])
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
pub struct RedisVitals<'a> {
    pub ctx: Ctx,
    pub key: &'a Arg<'a>,
}

impl crate::ops::Store for RedisVitals<'_> {
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
