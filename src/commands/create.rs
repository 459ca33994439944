//! ACCOUNT.CREATE key [json] [NX] [IDMP request-id]

use super::write;
use crate::error::{Error, Result};
use crate::rm::{self, Arg, Ctx, Reply};
use crate::{json, schema, store};
use serde_json::{Map, Value};

pub fn account_create(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    if args.len() > 4 {
        return Err(Error::WrongArity);
    }
    let key = &args[1];
    let (mut body, mut nx) = (None, false);
    for a in &args[2..] {
        if a.is("NX") && !nx {
            nx = true;
        } else if body.is_none() && !a.is("NX") {
            body = Some(a.bytes());
        } else {
            return Err(Error::Syntax(
                "expected: ACCOUNT.CREATE key [json] [NX] [IDMP request-id]".into(),
            ));
        }
    }
    let exists = store::account(ctx, key)?;
    let mut doc = match body {
        None => Value::Object(Map::new()),
        Some(text) => json::parse(text)?,
    };
    schema::rules().check_write(
        crate::config::policy(),
        None,
        &mut doc,
        None,
        &mut write::warn(ctx, key),
    )?;
    json::check_depth(&doc)?;
    schema::start_clocks(&mut doc, rm::now());
    if !store::write_document(ctx, key, &doc, nx, exists)? {
        return Ok(Reply::Nil);
    }
    rm::notify(ctx, c"account.create", key);
    Ok(Reply::Ok)
}
