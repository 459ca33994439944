//! ACCOUNT.GET key [path]

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::text::Text;
use crate::vitals;
use crate::{live, printed, regen, store};
use serde_json::Value;

pub fn account_get(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let key = &args[1];
    let now = rm::now();
    // The hot read (a path is exactly its dotted text: "stats" is the only way to name it).
    let section = vitals::vital_set().section;
    if args.len() == 3 && args[2].bytes() == section.as_bytes() {
        return hot_stats(ctx, key, now);
    }
    let path = match args.len() {
        2 => None,
        3 => Some(parse_path(&args[2])?),
        _ => return Err(Error::WrongArity),
    };
    Ok(read_live(ctx, key, path.as_ref(), now)?.map_or(Reply::Nil, Reply::Bulk))
}

/// The hot read: the stats validated and brought up to date. When the stored text is in the
/// printed layout (`printed.rs`), the reply is that text, with any vital that regenerated
/// printed anew.
fn hot_stats(ctx: Ctx, key: &Arg, now: f64) -> Result<Reply> {
    let reply = store::read_stats_text(ctx, key, |text| match printed::read(text) {
        Some(p) => Ok(p.with(&regen::stats_at(p.stats, now))),
        None => Ok(regen::stats_at(
            vitals::stats_from(Text::new(text)).map_err(Error::stored)?,
            now,
        )
        .to_json()
        .into_bytes()),
    })?;
    Ok(reply.transpose()?.map_or(Reply::Nil, Reply::Bulk))
}

/// A path argument the schema lets name a place (NOPATH otherwise).
pub fn parse_path(a: &Arg) -> Result<DocPath> {
    let path = DocPath::parse(a.text().map_err(|_| Error::NoPath("?".into()))?)?;
    crate::schema::rules().check_path(&path)?;
    Ok(path)
}

/// The document, or the part at `path`, as a read shows it, as JSON text: as stored, with the
/// vitals brought up to `now` (nothing is written). A read never refuses a document because a
/// field breaks the schema; the whole document's vitals are shown up to date when they are
/// valid, as stored when not (`live.rs`). `None`: no such key (or nothing at a place the schema
/// gives no default).
pub fn read_live(ctx: Ctx, key: &Arg, path: Option<&DocPath>, now: f64) -> Result<Option<Vec<u8>>> {
    let Some(path) = path else {
        return store::read_whole_text(ctx, key, |text| live::document(text, now))?.transpose();
    };
    let v = if path.section() != vitals::vital_set().section {
        match store::read_at(ctx, key, path) {
            Err(Error::NoAccount) => None,
            other => other?,
        }
    } else {
        let Some(s) = store::read_stats(ctx, key)? else {
            return Ok(None);
        };
        let mut v = live::stats_value(&regen::stats_at(s, now));
        for seg in &path.segments[1..] {
            v = v.get(seg.as_str()).cloned().unwrap_or(Value::Null);
        }
        Some(v)
    };
    Ok(v.map(|v| crate::json::to_vec(&v)))
}
