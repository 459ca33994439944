//! ACCOUNT.GET key [path]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{Arg, Ctx, Reply};
use crate::{schema, store};

pub fn account_get(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = args[1];
    let value = match args.len() {
        2 => store::read_document(ctx, key)?,
        3 => {
            let path = DocPath::parse(args[2].text().map_err(|_| Error::NoPath("?".into()))?)?;
            match store::read_text(ctx, key, Some(&path))? {
                None => None,
                Some(found) => read_at(&path, found)?,
            }
        }
        _ => return Err(Error::WrongArity),
    };
    Ok(match value {
        None => Reply::Nil,
        Some(v) => Reply::Text(v.to_string()),
    })
}

/// The value at a path of an existing document, validated; a schema place missing from an
/// older document reads as its default, a missing place inside `skills` as nil.
fn read_at(path: &DocPath, found: Option<Vec<u8>>) -> Result<Option<serde_json::Value>> {
    match (path.shape, found) {
        (None, None) => Ok(None),
        (None, Some(text)) => Ok(Some(serde_json::from_slice(&text).map_err(|_| Error::Internal)?)),
        (Some((shape, dflt)), None) => Ok(Some(schema::default_of(&shape, dflt))),
        (Some((shape, dflt)), Some(text)) => {
            Ok(Some(store::parse_stored(&text, &shape, dflt, &path.dotted())?))
        }
    }
}
