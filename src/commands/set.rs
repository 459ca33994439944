//! ACCOUNT.SET key path json [path json ...]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::store::{self, Put};
use crate::{json, limits, schema};
use serde_json::Value;

pub fn account_set(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(Error::WrongArity);
    }
    let key = args[1];
    let changes = parse_pairs(&args[2..])?;
    let doc = store::read_document(ctx, key)?.ok_or(Error::NoAccount)?;
    write_changes(ctx, key, doc, changes)?;
    rm::notify(ctx, c"account.set", key);
    Ok(Reply::Ok)
}

/// `path json` pairs, parsed and checked before anything is read.
pub(super) fn parse_pairs(args: &[Arg]) -> Result<Vec<(DocPath, Value)>> {
    let mut changes = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let [path, value] = pair else { return Err(Error::WrongArity) };
        let path = DocPath::parse(path.text().map_err(|_| Error::NoPath("?".into()))?)?;
        changes.push((path, json::parse(value.bytes())?));
    }
    Ok(changes)
}

/// Puts each change into `doc` (a validated document), validates the whole result, and writes
/// each touched section whole in one `JSON.MSET` (always a valid JSONPath, whatever existed
/// before): all or nothing.
pub(super) fn write_changes(ctx: Ctx, key: Arg, mut doc: Value, changes: Vec<(DocPath, Value)>) -> Result<()> {
    let mut sections: Vec<String> = changes.iter().map(|(p, _)| p.section().to_string()).collect();
    for (path, value) in changes {
        schema::set_at(&mut doc, &path, value)?;
    }
    let mut doc = schema::normalize_document(doc)?;
    json::check_depth(&doc)?;
    schema::start_clocks(&mut doc, rm::now());
    if doc.to_string().len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Error::Limit(format!("document larger than {} bytes", limits::MAX_DOCUMENT_BYTES)));
    }
    sections.sort_unstable();
    sections.dedup();
    let paths: Vec<String> = sections.iter().map(|s| DocPath::parse(s).map(|p| p.jsonpath())).collect::<Result<_>>()?;
    let puts: Vec<Put> =
        sections.iter().zip(&paths).map(|(s, p)| Put { key, path: p, json: doc[s.as_str()].to_string() }).collect();
    store::put_all(ctx, &puts)
}
