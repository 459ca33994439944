//! ACCOUNT.GET key [path]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{Arg, Ctx, Reply};
use crate::store;

pub fn account_get(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let value = match args.len() {
        2 => store::read_document(ctx, key)?,
        3 => {
            let path = DocPath::parse(args[2].text().map_err(|_| Error::NoPath("?".into()))?)?;
            if path.segments.len() == 1 && path.section() == "stats" {
                // The hot read: straight from the stored values, printed by us.
                return Ok(store::read_stats(ctx, key)?.map_or(Reply::Nil, |s| Reply::Text(s.to_json())));
            }
            match store::read_at(ctx, key, &path) {
                Err(Error::NoAccount) => None,
                other => other?,
            }
        }
        _ => return Err(Error::WrongArity),
    };
    Ok(match value {
        None => Reply::Nil,
        Some(v) => Reply::Text(v.to_string()),
    })
}
