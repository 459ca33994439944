//! ACCOUNT.SET key path json [path json ...]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::store::{self, Put};
use crate::{json, limits, schema};

pub fn account_set(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() < 4 || !args.len().is_multiple_of(2) {
        return Err(Error::WrongArity);
    }
    let key = args[1];
    // Parse and validate every pair before reading anything.
    let mut changes = Vec::with_capacity((args.len() - 2) / 2);
    for pair in args[2..].chunks(2) {
        let path = DocPath::parse(pair[0].text().map_err(|_| Error::NoPath("?".into()))?)?;
        changes.push((path, json::parse(pair[1].bytes())?));
    }
    let mut doc = store::read_document(ctx, key)?.ok_or(Error::NoAccount)?;
    for (path, value) in changes.iter().cloned() {
        schema::set_at(&mut doc, &path, value)?;
    }
    let mut doc = schema::normalize_document(doc)?;
    json::check_depth(&doc)?;
    schema::start_clocks(&mut doc, rm::now());
    if doc.to_string().len() > limits::MAX_DOCUMENT_BYTES {
        return Err(Error::Limit(format!("document larger than {} bytes", limits::MAX_DOCUMENT_BYTES)));
    }
    // Write each touched section whole: always a valid JSONPath, whatever existed before.
    let mut sections: Vec<&str> = changes.iter().map(|(p, _)| p.section()).collect();
    sections.sort_unstable();
    sections.dedup();
    let paths: Vec<String> = sections.iter().map(|s| DocPath::parse(s).map(|p| p.jsonpath())).collect::<Result<_>>()?;
    let puts: Vec<Put> =
        sections.iter().zip(&paths).map(|(s, p)| Put { key, path: p, json: doc[*s].to_string() }).collect();
    store::put_all(ctx, &puts)?;
    rm::notify(ctx, c"account.set", key);
    Ok(Reply::Ok)
}
