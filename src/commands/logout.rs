//! ACCOUNT.LOGOUT key stream
//!
//! Hands the session to a persistence worker: appends the whole document (vitals brought up to
//! date), the key and a timestamp to a Redis Stream, and deletes the key, in one atomic step.
//! A worker reads the stream with a consumer group, so a session is never lost, even if the
//! worker is down at logout.

use crate::error::{Error, Result};
use crate::rm::{self, Arg, CallArg, Ctx, Reply};
use crate::{stats, store};

pub fn account_logout(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, stream) = (&args[1], &args[2]);
    if key.bytes() == stream.bytes() {
        return Err(Error::Syntax(
            "the stream must be another key than the account".into(),
        ));
    }
    let kind = rm::key_kind(ctx, stream);
    if !matches!(kind, rm::KeyKind::Missing | rm::KeyKind::Stream) {
        return Err(Error::WrongType);
    }
    if !store::account(ctx, key)? {
        return Err(Error::NoAccount);
    }
    let now = rm::now();
    let mut fields: Vec<CallArg> = vec![
        stream.into(),
        "*".into(),
        "key".into(),
        CallArg::Key(key),
        "ts".into(),
    ];
    let ts = format!("{}", (now * 1000.0) as i64);
    fields.push((&ts).into());
    // Reads never refuse a document for breaking the schema: one that does is handed off as
    // stored (with its valid vitals up to date); the worker decides, the session is not lost.
    let doc = super::get::read_live(ctx, key, None, now)?.ok_or(Error::NoAccount)?;
    fields.push("doc".into());
    fields.push(CallArg::Bytes(&doc));
    let id = rm::call(ctx, true, c"XADD", &fields)?;
    let id = String::from_utf8_lossy(id.bytes().ok_or(Error::Internal)?).into_owned();
    store::delete(ctx, key)?;
    stats::add(&stats::LOGOUTS, 1);
    rm::notify(ctx, c"account.logout", key);
    Ok(Reply::Text(id))
}
