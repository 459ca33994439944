//! ACCOUNT.SCHEMA GET | SET json, ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]
//!
//! The schema is configuration, like CONFIG SET: putting one in force is not replicated and
//! not written to the AOF (replicas and the AOF keep receiving plain RedisJSON commands); load
//! the same schema on every node and compare the hashes (`INFO account`: `account_schema_hash`).

use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::{schema, store};
use redis_module::raw;

const SYNTAX: &str = "expected: ACCOUNT.SCHEMA GET | ACCOUNT.SCHEMA SET json";

pub fn account_schema(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    match args.get(1) {
        Some(a) if a.is("GET") && args.len() == 2 => {
            let r = schema::rules();
            let vitals = r
                .schema
                .vitals
                .iter()
                .map(|v| Reply::Text(v.path.join(".")))
                .collect();
            Ok(Reply::Array(vec![
                Reply::Text("hash".into()),
                Reply::Text(r.schema.hash.clone()),
                Reply::Text("source".into()),
                Reply::Text(r.source.clone()),
                Reply::Text("vitals".into()),
                Reply::Array(vitals),
                Reply::Text("schema".into()),
                Reply::Text(r.schema.text.clone()),
            ]))
        }
        Some(a) if a.is("SET") && args.len() == 3 => {
            if args[2].bytes().len() > crate::limits::MAX_JSON_BYTES {
                return Err(Error::Limit(format!(
                    "JSON argument larger than {} bytes",
                    crate::limits::MAX_JSON_BYTES
                )));
            }
            let rules = schema::Rules::new(args[2].bytes(), "inline")
                .map_err(|e| Error::Schema(format!("schema not loaded: {e}")))?;
            let hash = rules.schema.hash.clone();
            // Kept in a file in the server's dir, which CONFIG GET account.schema then names, so
            // that CONFIG REWRITE writes a config that starts again with this schema.
            let kept = keep_inline(args[2].bytes(), &hash)
                .map_err(|e| Error::Schema(format!("schema not loaded: {e}")))?;
            schema::install(rules);
            crate::config::set_inline_file(&hash, &kept);
            rm::log(
                ctx,
                "notice",
                &format!("account: schema {hash} in force (ACCOUNT.SCHEMA SET), kept in {kept}"),
            );
            Ok(Reply::Text(hash))
        }
        _ => Err(Error::Syntax(SYNTAX.into())),
    }
}

/// Writes an inline schema's text to `account-schema-<hash>.json` in the server's working
/// directory (its `dir`), beside and then renamed over, so a reader never sees half a file; an
/// existing file with the same text is kept as it is. Returns the file's absolute path.
fn keep_inline(text: &[u8], hash: &str) -> std::result::Result<String, String> {
    let dir =
        std::env::current_dir().map_err(|e| format!("cannot keep it: the server's dir: {e}"))?;
    let path = dir.join(format!("account-schema-{hash}.json"));
    let shown = path.to_string_lossy().into_owned();
    if std::fs::read(&path).is_ok_and(|old| old == text) {
        return Ok(shown);
    }
    let tmp = dir.join(format!(
        "account-schema-{hash}.json.{}.tmp",
        std::process::id()
    ));
    let written = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot keep it in {shown}: {e}"));
    }
    Ok(shown)
}

/// Most documents one ACCOUNT.CHECK step may visit.
const MAX_COUNT: i64 = 10_000;

pub fn account_check(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let syntax =
        || Error::Syntax("expected: ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]".into());
    let cursor = args[1].text()?;
    if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadNumber(
            "cursor must be an unsigned integer".into(),
        ));
    }
    let (mut pattern, mut count) = (None, 100i64);
    let mut rest = &args[2..];
    while let [opt, value, tail @ ..] = rest {
        if opt.is("MATCH") {
            pattern = Some(value);
        } else if opt.is("COUNT") {
            count = match crate::vitals::parse_i64(value.bytes()) {
                Some(n) if (1..=MAX_COUNT).contains(&n) => n,
                _ => {
                    return Err(Error::BadNumber(format!(
                        "COUNT must be an integer from 1 to {MAX_COUNT}"
                    )))
                }
            };
        } else {
            return Err(syntax());
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(syntax());
    }
    // SCAN only RedisJSON documents: other types are never accounts.
    let count_text = count.to_string();
    let mut scan: Vec<rm::CallArg> = vec![cursor.into()];
    if let Some(p) = pattern {
        scan.push("MATCH".into());
        scan.push(rm::CallArg::Key(p));
    }
    scan.extend([
        "COUNT".into(),
        (&count_text).into(),
        "TYPE".into(),
        "ReJSON-RL".into(),
    ]);
    let reply = rm::call(ctx, false, c"SCAN", &scan)?;
    let items = reply.array_items();
    let next = items
        .first()
        .and_then(|e| e.bytes())
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .ok_or(Error::Internal)?;
    let keys: Vec<Vec<u8>> = items
        .get(1)
        .map(|k| {
            k.array_items()
                .iter()
                .filter_map(|e| e.bytes().map(<[u8]>::to_vec))
                .collect()
        })
        .unwrap_or_default();
    let rules = schema::rules();
    let caller = Caller::current(ctx);
    let mut found = Vec::new();
    for name in keys {
        // Only keys the calling user may read: a key outside its read patterns is neither read
        // nor reported (SCAN itself lists every key, whatever the user's patterns).
        if !caller.may_read(ctx, &name) {
            continue;
        }
        let key = rm::OwnedString::new(&name);
        let problem = match store::read_document_raw(ctx, &key.arg()) {
            Ok(None) => continue,
            Ok(Some(doc)) => rules.first_problem(&doc),
            Err(e) => Some(e.to_string()),
        };
        if let Some(p) = problem {
            found.push(Reply::Array(vec![Reply::Bulk(name), Reply::Text(p)]));
        }
    }
    Ok(Reply::Array(vec![Reply::Text(next), Reply::Array(found)]))
}

/// Whose key permissions ACCOUNT.CHECK applies: the calling client's ACL user.
enum Caller {
    /// No client user (the command runs without one, e.g. from the module itself): every key.
    Anyone,
    User(*mut raw::RedisModuleUser),
    /// The user could not be looked up: no key (fails closed).
    Nobody,
}

impl Caller {
    fn current(ctx: Ctx) -> Caller {
        // SAFETY: reads function pointers RedisModule_Init set (both exist from Redis 7.0 and in
        // every Valkey; None on older servers).
        let (Some(name_of), Some(user_of)) =
            (unsafe { raw::RedisModule_GetCurrentUserName }, unsafe {
                raw::RedisModule_GetModuleUserFromUserName
            })
        else {
            return Caller::Nobody;
        };
        // SAFETY: ctx is the command's context; the name is a new string this function owns.
        let name = unsafe { name_of(ctx) };
        if name.is_null() {
            return Caller::Anyone;
        }
        // SAFETY: name is a valid string; the user returned is ours to free (Drop).
        let user = unsafe { user_of(name) };
        // SAFETY: name was created for this call and is not used after this.
        unsafe { raw::RedisModule_FreeString.unwrap()(ctx, name) };
        if user.is_null() {
            Caller::Nobody
        } else {
            Caller::User(user)
        }
    }

    fn may_read(&self, ctx: Ctx, key: &[u8]) -> bool {
        let user = match self {
            Caller::Anyone => return true,
            Caller::Nobody => return false,
            Caller::User(u) => *u,
        };
        // SAFETY: reads a function pointer RedisModule_Init set (Redis 7.0 and later, Valkey).
        let Some(check) = (unsafe { raw::RedisModule_ACLCheckKeyPermissions }) else {
            return false;
        };
        // SAFETY: ctx is the command's context; key is a live slice copied by Redis.
        let name =
            unsafe { raw::RedisModule_CreateString.unwrap()(ctx, key.as_ptr().cast(), key.len()) };
        // SAFETY: user is a live module user (freed only in Drop), name a valid string; ACCESS
        // asks for read permission (`%R~` or `~`), as a read of the key's value would.
        let ok = unsafe {
            check(
                user,
                name,
                raw::REDISMODULE_CMD_KEY_ACCESS as std::os::raw::c_int,
            )
        } == raw::REDISMODULE_OK as std::os::raw::c_int;
        // SAFETY: name was created above and is not used after this.
        unsafe { raw::RedisModule_FreeString.unwrap()(ctx, name) };
        ok
    }
}

impl Drop for Caller {
    fn drop(&mut self) {
        if let Caller::User(u) = *self {
            // SAFETY: u came from RedisModule_GetModuleUserFromUserName and is freed once.
            unsafe { raw::RedisModule_FreeModuleUser.unwrap()(u) };
        }
    }
}
