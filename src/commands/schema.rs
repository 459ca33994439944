//! ACCOUNT.SCHEMA GET | SET json, ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]
//!
//! The schema is configuration, like CONFIG SET: putting one in force is not replicated and
//! not written to the AOF (replicas and the AOF keep receiving plain RedisJSON commands); load
//! the same schema on every node and compare the hashes (`INFO account`: `account_schema_hash`).

use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::{schema, store};

const SYNTAX: &str = "expected: ACCOUNT.SCHEMA GET | ACCOUNT.SCHEMA SET json";

pub fn account_schema(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    match args.get(1) {
        Some(a) if a.is("GET") && args.len() == 2 => {
            let r = schema::rules();
            let vitals = r.schema.vitals.iter().map(|v| Reply::Text(v.path.join("."))).collect();
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
                return Err(Error::Limit(format!("JSON argument larger than {} bytes", crate::limits::MAX_JSON_BYTES)));
            }
            let rules = schema::Rules::new(args[2].bytes(), "inline").map_err(|e| Error::Schema(format!("schema not loaded: {e}")))?;
            let hash = rules.schema.hash.clone();
            schema::install(rules);
            rm::log(ctx, "notice", &format!("account: schema {hash} in force (ACCOUNT.SCHEMA SET)"));
            Ok(Reply::Text(hash))
        }
        _ => Err(Error::Syntax(SYNTAX.into())),
    }
}

/// Most documents one ACCOUNT.CHECK step may visit.
const MAX_COUNT: i64 = 10_000;

pub fn account_check(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let syntax = || Error::Syntax("expected: ACCOUNT.CHECK cursor [MATCH pattern] [COUNT count]".into());
    let cursor = args[1].text()?;
    if cursor.is_empty() || !cursor.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::BadNumber("cursor must be an unsigned integer".into()));
    }
    let (mut pattern, mut count) = (None, 100i64);
    let mut rest = &args[2..];
    while let [opt, value, tail @ ..] = rest {
        if opt.is("MATCH") {
            pattern = Some(value);
        } else if opt.is("COUNT") {
            count = match crate::vitals::parse_i64(value.bytes()) {
                Some(n) if (1..=MAX_COUNT).contains(&n) => n,
                _ => return Err(Error::BadNumber(format!("COUNT must be an integer from 1 to {MAX_COUNT}"))),
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
    scan.extend(["COUNT".into(), (&count_text).into(), "TYPE".into(), "ReJSON-RL".into()]);
    let reply = rm::call(ctx, false, c"SCAN", &scan)?;
    let items = reply.array_items();
    let next = items.first().and_then(|e| e.bytes()).map(|b| String::from_utf8_lossy(b).into_owned()).ok_or(Error::Internal)?;
    let keys: Vec<Vec<u8>> = items.get(1).map(|k| k.array_items().iter().filter_map(|e| e.bytes().map(<[u8]>::to_vec)).collect()).unwrap_or_default();
    let rules = schema::rules();
    let mut found = Vec::new();
    for name in keys {
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
