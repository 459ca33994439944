//! Request ids: every write command takes an optional trailing `IDMP <request-id>`. The first
//! call with an id applies and records its reply; a later call with the same id on the same key
//! within `account.request-window` seconds applies nothing and answers the recorded reply (the
//! same value or the same error). docs/commands.md, "Request ids".
//!
//! The record is a Redis hash beside the account, in the account's own hash slot
//! (`{<key>}:idmp`, or `{<tag>}:idmp:<key>` when the key has a hash tag): one field per request
//! id, its value `<expiry ms>:<reply>`, the hash's own expire up to an eighth of the window
//! after the latest of them. It is written
//! with the low-level key API in the same command as the change (so in the same MULTI/EXEC the
//! server propagates) and replicated as plain `HSET`/`HDEL`/`PEXPIREAT`: a replica or an AOF
//! without the module follows, a failover or a slot migration carries it with the account, and
//! an account whose window is empty costs nothing (the hash expired).
//!
//! Check first, write once: the record's key type and the id are looked up before the command
//! runs; the record write after it cannot fail (a hash, or nothing, was found there).

use crate::error::{Error, Result};
use crate::limits;
use crate::rm::{Arg, Ctx, OwnedString, Reply};
use redis_module::raw;
use std::os::raw::c_int;
use std::ptr;

/// Splits a trailing `IDMP <request-id>` off a write command's arguments (name included).
pub fn split<'a, 'b>(args: &'a [Arg<'b>]) -> Result<(&'a [Arg<'b>], Option<&'a Arg<'b>>)> {
    let n = args.len();
    if n >= 4 && args[n - 2].is("IDMP") {
        let id = &args[n - 1];
        if id.bytes().is_empty() || id.bytes().len() > limits::MAX_REQUEST_ID_BYTES {
            return Err(Error::Syntax(format!(
                "the request id must be 1 to {} bytes",
                limits::MAX_REQUEST_ID_BYTES
            )));
        }
        return Ok((&args[..n - 2], Some(id)));
    }
    Ok((args, None))
}

/// The key positions of a variadic-key command from `first`, without a trailing `IDMP <id>`.
pub fn key_range(args: &[Arg], first: usize) -> std::ops::Range<usize> {
    let n = args.len();
    let end = if n >= 4 && args[n - 2].is("IDMP") {
        n - 2
    } else {
        n
    };
    first.min(end)..end
}

/// The record's key name: in the slot of `key` (its hash tag, or the whole key).
pub fn record_name(key: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(key.len() + 16);
    match hash_tag(key) {
        Some(tag) => {
            out.push(b'{');
            out.extend_from_slice(tag);
            out.extend_from_slice(b"}:idmp:");
            out.extend_from_slice(key);
        }
        // Without a tag the whole key is hashed; as a tag it must not hold a `}`.
        None if key.contains(&b'}') => {
            return Err(Error::Syntax(
                "IDMP needs a key with a hash tag or without '}'".into(),
            ))
        }
        None => {
            out.push(b'{');
            out.extend_from_slice(key);
            out.extend_from_slice(b"}:idmp");
        }
    }
    Ok(out)
}

/// The part of the key a cluster hashes, when it has one (`{...}`, non-empty, first pair).
fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = key.iter().position(|&b| b == b'{')?;
    let close = key[open + 1..].iter().position(|&b| b == b'}')? + open + 1;
    (close > open + 1).then(|| &key[open + 1..close])
}

/// What a recorded call answered: a reply, or an error's full text (code first).
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Reply(Reply),
    Error(String),
}

/// A command's result as it is recorded, or `None` for a result a retry must not see again:
/// INTERNAL (nothing was changed, so a retry may apply), NOJSON, the wrong-arity reply and an
/// inner server error (OOM, READONLY, ...), none of which depend on the call having happened.
pub fn outcome(result: &Result<Reply>) -> Option<Outcome> {
    match result {
        Ok(r) => Some(Outcome::Reply(r.clone())),
        Err(Error::Internal | Error::NoJson | Error::WrongArity | Error::Redis(_)) => None,
        Err(e) => Some(Outcome::Error(e.to_string())),
    }
}

/// `<tag><payload>`: `+` OK, `_` nil, `:` integer `;`, `$` bulk, `=` text, `!` an error
/// element (each `<len>;<bytes>`), `*` array `<n>;` items; a recorded error is `-<len>;<text>`.
pub fn encode(o: &Outcome, out: &mut Vec<u8>) {
    match o {
        Outcome::Reply(r) => encode_reply(r, out),
        Outcome::Error(text) => counted(b'-', text.as_bytes(), out),
    }
}

fn counted(tag: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    out.extend_from_slice(bytes.len().to_string().as_bytes());
    out.push(b';');
    out.extend_from_slice(bytes);
}

fn encode_reply(r: &Reply, out: &mut Vec<u8>) {
    match r {
        Reply::Ok => out.push(b'+'),
        Reply::Nil => out.push(b'_'),
        Reply::Int(i) => {
            out.push(b':');
            out.extend_from_slice(i.to_string().as_bytes());
            out.push(b';');
        }
        Reply::Bulk(b) => counted(b'$', b, out),
        Reply::Text(s) => counted(b'=', s.as_bytes(), out),
        Reply::Error(s) => counted(b'!', s.as_bytes(), out),
        Reply::Array(items) => {
            out.push(b'*');
            out.extend_from_slice(items.len().to_string().as_bytes());
            out.push(b';');
            for i in items {
                encode_reply(i, out);
            }
        }
    }
}

/// The inverse of `encode`; `None` for text it did not write. Arrays nest at most as deep as a
/// reply does (`MAX_REPLY_DEPTH`), so decoding a tampered record cannot recurse without bound.
pub fn decode(text: &[u8]) -> Option<Outcome> {
    let mut at = 0;
    let o = if text.first() == Some(&b'-') {
        at = 1;
        let b = take_counted(text, &mut at)?;
        Outcome::Error(String::from_utf8(b.to_vec()).ok()?)
    } else {
        Outcome::Reply(decode_reply(text, &mut at, 0)?)
    };
    (at == text.len()).then_some(o)
}

const MAX_REPLY_DEPTH: usize = 4;

fn number(text: &[u8], at: &mut usize) -> Option<i64> {
    let end = text[*at..].iter().position(|&b| b == b';')? + *at;
    let n = std::str::from_utf8(&text[*at..end]).ok()?.parse().ok()?;
    *at = end + 1;
    Some(n)
}

fn take_counted<'t>(text: &'t [u8], at: &mut usize) -> Option<&'t [u8]> {
    let len = usize::try_from(number(text, at)?).ok()?;
    let end = at.checked_add(len)?;
    let b = text.get(*at..end)?;
    *at = end;
    Some(b)
}

fn decode_reply(text: &[u8], at: &mut usize, depth: usize) -> Option<Reply> {
    let tag = *text.get(*at)?;
    *at += 1;
    Some(match tag {
        b'+' => Reply::Ok,
        b'_' => Reply::Nil,
        b':' => Reply::Int(number(text, at)?),
        b'$' => Reply::Bulk(take_counted(text, at)?.to_vec()),
        b'=' => Reply::Text(String::from_utf8(take_counted(text, at)?.to_vec()).ok()?),
        b'!' => Reply::Error(String::from_utf8(take_counted(text, at)?.to_vec()).ok()?),
        b'*' if depth < MAX_REPLY_DEPTH => {
            let n = usize::try_from(number(text, at)?).ok()?;
            // Each item takes at least one byte: a count beyond the text is not ours.
            if n > text.len() - *at {
                return None;
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(decode_reply(text, at, depth + 1)?);
            }
            Reply::Array(items)
        }
        _ => return None,
    })
}

/// A field's value: `<expiry ms>:<encoded outcome>`.
fn split_value(v: &[u8]) -> Option<(i64, &[u8])> {
    let colon = v.iter().position(|&b| b == b':')?;
    let at = std::str::from_utf8(&v[..colon]).ok()?.parse().ok()?;
    Some((at, &v[colon + 1..]))
}

/// What a request id finds before its command runs.
pub enum Before<'a> {
    /// The window is 0 (`account.request-window`): ids are accepted and nothing is recorded.
    Off,
    /// The call was made before, within the window: answer this, apply nothing.
    Replay(Outcome),
    /// A first call: run it, then `record`.
    Fresh(Record<'a>),
}

/// A first call's place in the record, found by `before`.
pub struct Record<'a> {
    name: OwnedString,
    /// The request id: the command's own argument, used as the field name without a copy.
    id: &'a Arg<'a>,
    now: i64,
    window_ms: i64,
}

/// A key of the record opened for reading and writing, closed on drop.
struct Opened(*mut raw::RedisModuleKey);

impl Opened {
    fn open(ctx: Ctx, name: &OwnedString) -> Opened {
        let mode = (raw::REDISMODULE_READ | raw::REDISMODULE_WRITE) as c_int;
        // SAFETY: ctx is the running command's context, name a live string it only reads; the key
        // handle is closed in Drop, before the command returns.
        Opened(unsafe { raw::RedisModule_OpenKey.unwrap()(ctx, name.arg().as_ptr(), mode) })
    }

    fn kind(&self) -> c_int {
        if self.0.is_null() {
            return raw::REDISMODULE_KEYTYPE_EMPTY as c_int;
        }
        // SAFETY: self.0 is an open key handle.
        unsafe { raw::RedisModule_KeyType.unwrap()(self.0) }
    }

    /// Fields in the hash (0 when it does not exist).
    fn len(&self) -> usize {
        if self.0.is_null() {
            return 0;
        }
        // SAFETY: self.0 is an open key handle.
        unsafe { raw::RedisModule_ValueLength.unwrap()(self.0) }
    }

    /// A field's value (the key must be a hash or empty).
    fn get(&self, ctx: Ctx, field: &Arg) -> Option<Vec<u8>> {
        if self.0.is_null() || self.kind() != raw::REDISMODULE_KEYTYPE_HASH as c_int {
            return None;
        }
        let mut out: *mut raw::RedisModuleString = ptr::null_mut();
        // SAFETY: self.0 is an open hash key; the variadic list is (field, &out) pairs ended by a
        // null pointer, as RM_HashGet with REDISMODULE_HASH_NONE reads it; `field` is a live
        // string for the call.
        unsafe {
            raw::RedisModule_HashGet.unwrap()(
                self.0,
                raw::REDISMODULE_HASH_NONE as c_int,
                field.as_ptr(),
                &mut out as *mut *mut raw::RedisModuleString,
                ptr::null_mut::<raw::RedisModuleString>(),
            )
        };
        // SAFETY: a non-null `out` is a new string RM_HashGet made in the key's context, owned
        // by the caller from here on (freed once, by OwnedString's drop).
        let value = unsafe { OwnedString::from_raw(ctx, out) }?;
        Some(value.bytes().to_vec())
    }

    /// Sets (`Some`) or deletes (`None`) one field.
    fn set(&self, field: &Arg, value: Option<&Arg>) {
        let vp = match value {
            Some(v) => v.as_ptr(),
            None => raw::REDISMODULE_HASH_DELETE as *mut raw::RedisModuleString,
        };
        // SAFETY: self.0 is a key opened for writing (a hash or empty); the variadic list is one
        // (field, value) pair ended by a null pointer; the strings are live for the call (Redis
        // copies or retains what it keeps).
        unsafe {
            raw::RedisModule_HashSet.unwrap()(
                self.0,
                raw::REDISMODULE_HASH_NONE as c_int,
                field.as_ptr(),
                vp,
                ptr::null_mut::<raw::RedisModuleString>(),
            )
        };
    }

    /// The key's absolute expire in ms, or -1 for none.
    fn expire_at(&self) -> i64 {
        // SAFETY: self.0 is an open key handle.
        unsafe { raw::RedisModule_GetAbsExpire.unwrap()(self.0) }
    }

    fn set_expire_at(&self, at: i64) {
        // SAFETY: self.0 is a key opened for writing that exists (a field was just set).
        unsafe { raw::RedisModule_SetAbsExpire.unwrap()(self.0, at) };
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle was opened by `open` and is closed once, here.
            unsafe { raw::RedisModule_CloseKey.unwrap()(self.0) };
        }
    }
}

fn now_ms() -> i64 {
    // SAFETY: RM_Milliseconds only reads the clock.
    unsafe { raw::RedisModule_Milliseconds.unwrap()() }
}

/// Looks the request id up before the command runs. WRONGTYPE if the record's key holds
/// something that is not a hash; CORRUPT if the id's record is not one this module wrote.
pub fn before<'a>(ctx: Ctx, key: &Arg, id: &'a Arg<'a>) -> Result<Before<'a>> {
    let window = crate::config::request_window();
    if window == 0 {
        return Ok(Before::Off);
    }
    let name = OwnedString::new(&record_name(key.bytes())?);
    let now = now_ms();
    {
        let k = Opened::open(ctx, &name);
        let kind = k.kind();
        if kind != raw::REDISMODULE_KEYTYPE_EMPTY as c_int
            && kind != raw::REDISMODULE_KEYTYPE_HASH as c_int
        {
            return Err(Error::WrongType);
        }
        if let Some(v) = k.get(ctx, id) {
            let unreadable = || {
                Error::Corrupt(format!(
                    "the record of this request id in {} is unreadable",
                    String::from_utf8_lossy(name.bytes())
                ))
            };
            let (expires, encoded) = split_value(&v).ok_or_else(unreadable)?;
            if expires > now {
                let o = decode(encoded).ok_or_else(unreadable)?;
                return Ok(Before::Replay(o));
            }
        }
    }
    Ok(Before::Fresh(Record {
        name,
        id,
        now,
        window_ms: window.saturating_mul(1000),
    }))
}

/// Records a first call's outcome (when it is one to record, see `outcome`), in the same
/// command, replicated as `HSET`/`HDEL`/`PEXPIREAT`; at `MAX_REQUEST_IDS` ids the expired ones
/// and then the oldest go (`prune`).
pub fn record(ctx: Ctx, rec: Record, result: &Result<Reply>) {
    let Some(o) = outcome(result) else { return };
    let expires = rec.now.saturating_add(rec.window_ms);
    let mut value = expires.to_string().into_bytes();
    value.push(b':');
    encode(&o, &mut value);
    let value = OwnedString::new(&value);
    let k = Opened::open(ctx, &rec.name);
    if k.len() >= limits::MAX_REQUEST_IDS {
        prune(ctx, &k, &rec);
    }
    k.set(rec.id, Some(&value.arg()));
    replicate(ctx, c"HSET", &rec.name, &[rec.id, &value.arg()]);
    // The hash outlives its newest id by up to an eighth of the window, so its expire is
    // written (and replicated) once in that time, not at every call.
    if k.expire_at() < expires {
        let at = expires.saturating_add(rec.window_ms / 8);
        k.set_expire_at(at);
        replicate_expire(ctx, &rec.name, at);
    }
}

/// Makes room: drops the expired ids, then the oldest, down to three quarters of
/// `MAX_REQUEST_IDS`, so a key that stays busy reads its record whole once in 8 writes, not
/// at every one.
fn prune(ctx: Ctx, k: &Opened, rec: &Record) {
    let mut fields = match crate::rm::call(
        ctx,
        false,
        c"HGETALL",
        &[crate::rm::CallArg::Key(&rec.name.arg())],
    ) {
        Ok(r) => {
            let items = r.array_items();
            let mut out: Vec<(i64, Vec<u8>)> = Vec::with_capacity(items.len() / 2);
            for pair in items.chunks(2) {
                if let [f, v] = pair {
                    let f = f.bytes().unwrap_or_default().to_vec();
                    let at = v.bytes().and_then(split_value).map_or(i64::MIN, |(a, _)| a);
                    out.push((at, f));
                }
            }
            out
        }
        Err(_) => return,
    };
    fields.sort();
    let keep = limits::MAX_REQUEST_IDS * 3 / 4;
    let expired = fields.iter().filter(|(at, _)| *at <= rec.now).count();
    let drop = expired.max(fields.len().saturating_sub(keep));
    for (_, f) in fields.iter().take(drop) {
        let f = OwnedString::new(f);
        k.set(&f.arg(), None);
        replicate(ctx, c"HDEL", &rec.name, &[&f.arg()]);
    }
}

/// Propagates `cmd key args...` to replicas and the AOF, in the command's MULTI/EXEC.
fn replicate(ctx: Ctx, cmd: &std::ffi::CStr, key: &OwnedString, args: &[&Arg]) {
    // SAFETY: ctx is the running command's context; cmd and the formats are NUL-terminated;
    // each "s" takes a live string (Redis retains what it keeps).
    unsafe {
        let r = raw::RedisModule_Replicate.unwrap();
        match args {
            [a] => r(
                ctx,
                cmd.as_ptr(),
                c"ss".as_ptr(),
                key.arg().as_ptr(),
                a.as_ptr(),
            ),
            [a, b] => r(
                ctx,
                cmd.as_ptr(),
                c"sss".as_ptr(),
                key.arg().as_ptr(),
                a.as_ptr(),
                b.as_ptr(),
            ),
            _ => raw::REDISMODULE_ERR as c_int,
        }
    };
}

/// Propagates `PEXPIREAT key at`.
fn replicate_expire(ctx: Ctx, key: &OwnedString, at: i64) {
    // SAFETY: as in `replicate`; "l" takes a long long.
    unsafe {
        raw::RedisModule_Replicate.unwrap()(
            ctx,
            c"PEXPIREAT".as_ptr(),
            c"sl".as_ptr(),
            key.arg().as_ptr(),
            at as std::os::raw::c_longlong,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        let cases = [
            Outcome::Reply(Reply::Ok),
            Outcome::Reply(Reply::Nil),
            Outcome::Reply(Reply::Int(-9_223_372_036_854_775_808)),
            Outcome::Reply(Reply::Bulk(b"a;b\x00c".to_vec())),
            Outcome::Reply(Reply::Text("1700000000000-0".into())),
            Outcome::Reply(Reply::Array(vec![
                Reply::Int(80),
                Reply::Array(vec![Reply::Nil, Reply::Error("NOACCOUNT no".into())]),
                Reply::Text(String::new()),
            ])),
            Outcome::Error("INSUFFICIENT mp: have 3, need 5".into()),
        ];
        for o in cases {
            let mut b = Vec::new();
            encode(&o, &mut b);
            assert_eq!(
                decode(&b),
                Some(o.clone()),
                "{:?}",
                String::from_utf8_lossy(&b)
            );
        }
    }

    #[test]
    fn tampered_records_are_refused() {
        for bad in [
            &b""[..],
            b"+x",
            b":12",
            b"$5;ab",
            b"*2;+",
            b"*99999999999;",
            b"-3;ab",
            b"?",
            b"*1;*1;*1;*1;*1;+",
        ] {
            assert_eq!(decode(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn the_record_shares_the_slot_of_its_key() {
        assert_eq!(record_name(b"ac:1").unwrap(), b"{ac:1}:idmp");
        assert_eq!(record_name(b"ac:{7}").unwrap(), b"{7}:idmp:ac:{7}");
        // An empty tag does not count: the whole key is hashed, and it holds a `}`.
        assert!(record_name(b"a{}b").is_err());
        assert_eq!(record_name(b"a{b").unwrap(), b"{a{b}:idmp");
    }

    #[test]
    fn what_is_recorded() {
        assert!(outcome(&Err(Error::Internal)).is_none());
        assert!(outcome(&Err(Error::Redis("OOM".into()))).is_none());
        assert_eq!(
            outcome(&Err(Error::NoAccount)),
            Some(Outcome::Error("NOACCOUNT no such account".into()))
        );
    }
}
