//! The one way the non-vital writes change a document: read it whole, put each change in,
//! check the result against the rules in force (`schema::Rules::check_write`: level, action,
//! vital rules), and write each touched section whole with one `JSON.MSET` — all or nothing,
//! over one key or several (ACCOUNT.LINK).

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx};
use crate::store::{self, Put};
use crate::{json, limits, schema, stats};
use serde_json::Value;

/// `path json` pairs, parsed and checked against the schema before anything is read.
pub(super) fn parse_pairs(args: &[Arg]) -> Result<Vec<(DocPath, Value)>> {
    let rules = schema::rules();
    let mut changes = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let [path, value] = pair else {
            return Err(Error::WrongArity);
        };
        let path = parse_path(path)?;
        rules.check_path(&path)?;
        changes.push((path, json::parse(value.bytes())?));
    }
    Ok(changes)
}

/// A dotted path argument.
pub(super) fn parse_path(a: &Arg) -> Result<DocPath> {
    DocPath::parse(a.text().map_err(|_| Error::NoPath("?".into()))?)
}

/// What a write reads of an existing account before changing it: the top-level members it
/// changes (with their defaults filled), or under the strict level the whole document, which
/// that level checks whole. A write never needs the rest: the moderate level checks what was
/// written, and the vital rules the vitals written, all inside the members read.
pub(super) struct Stored {
    pub doc: Value,
    /// `Some` when only some members were read: the bytes they took in the stored text and,
    /// when it was read anyway, the whole text's length (for the document size limit).
    part: Option<(usize, Option<usize>)>,
}

/// Reads what a write of the top-level members `names` needs (NOACCOUNT if the key is missing).
pub(super) fn read(ctx: Ctx, key: &Arg, names: &[&str]) -> Result<Stored> {
    if crate::config::policy().level == schema::Level::Strict {
        let doc = store::read_document(ctx, key)?.ok_or(Error::NoAccount)?;
        return Ok(Stored { doc, part: None });
    }
    let m = store::read_members(ctx, key, names)?.ok_or(Error::NoAccount)?;
    let rules = schema::rules();
    let mut doc = serde_json::Map::with_capacity(m.values.len());
    for (name, value) in m.values {
        let at = [name];
        let value = match value {
            Some(mut v) => {
                rules.schema.fill_defaults_at(&at, &mut v);
                Some(v)
            }
            None => rules.schema.top_default(&at[0]),
        };
        let [name] = at;
        if let Some(v) = value {
            doc.insert(name, v);
        }
    }
    Ok(Stored {
        doc: Value::Object(doc),
        part: Some((m.len, m.whole_len)),
    })
}

/// The top-level members a set of changes writes, and `also`, each once.
pub(super) fn sections<'a>(changes: &'a [(DocPath, Value)], also: &[&'a str]) -> Vec<&'a str> {
    let mut names: Vec<&str> = changes
        .iter()
        .map(|(p, _)| p.section())
        .chain(also.iter().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// A document's changed sections, ready to be written.
pub(super) struct Sections<'a> {
    key: &'a Arg<'a>,
    /// (member name, its JSONPath, its JSON text) each.
    sections: Vec<(String, String, String)>,
}

/// Puts the changes into what was read, checks the result, and returns the sections to write.
pub(super) fn prepare<'a>(
    ctx: Ctx,
    key: &'a Arg<'a>,
    stored: Stored,
    changes: Vec<(DocPath, Value)>,
) -> Result<Sections<'a>> {
    let rules = schema::rules();
    let names: Vec<String> = sections(&changes, &[])
        .into_iter()
        .map(String::from)
        .collect();
    let paths: Vec<DocPath> = changes.iter().map(|(p, _)| p.clone()).collect();
    let Stored { doc: before, part } = stored;
    let mut doc = before.clone();
    for (path, value) in changes {
        schema::set_at(&mut doc, &path, value).map_err(|e| {
            match stored_in_the_way(&rules, &before, &path) {
                // The place in the way was stored breaking the schema: CORRUPT; a valid scalar in
                // the way is the path's mistake: SCHEMA.
                true => e.stored(),
                false => e,
            }
        })?;
    }
    rules.check_write(
        crate::config::policy(),
        Some(&before),
        &mut doc,
        Some(&paths),
        &mut warn(ctx, key),
    )?;
    json::check_depth(&doc)?;
    schema::start_clocks(&mut doc, rm::now());
    let mut sections = Vec::with_capacity(names.len());
    let mut written = 0;
    for name in names {
        let path = DocPath::parse(&name)?.jsonpath();
        let text = json::to_string(&doc[name.as_str()]);
        written += store::member_len(&name, text.len());
        sections.push((name, path, text));
    }
    // The document size limit: the whole text after the write. Only a write that makes the
    // members it changes longer can take a document past it.
    let after = match part {
        None => Some(json::text_len(&doc)),
        Some((read, _)) if written <= read => None,
        Some((read, whole)) => {
            let whole = match whole {
                Some(n) => n,
                None => store::document_len(ctx, key)?,
            };
            Some(whole.saturating_sub(read) + written)
        }
    };
    if after.is_some_and(|n| n > limits::MAX_DOCUMENT_BYTES) {
        return Err(Error::Limit(format!(
            "document larger than {} bytes",
            limits::MAX_DOCUMENT_BYTES
        )));
    }
    Ok(Sections { key, sections })
}

/// Whether a place on the way to `path` in the stored document breaks the schema.
fn stored_in_the_way(rules: &schema::Rules, before: &Value, path: &DocPath) -> bool {
    (1..path.segments.len()).any(|n| {
        let parent = &path.segments[..n];
        let v = parent.iter().try_fold(before, |v, s| v.get(s.as_str()));
        v.is_some_and(|v| !v.is_object() && rules.schema.validate_at(parent, v).is_err())
    })
}

/// Writes prepared sections of one or several keys in one `JSON.MSET` (all or nothing), and
/// refreshes the idle TTL of the keys written and of `touch`.
pub(super) fn write(ctx: Ctx, all: &[Sections], touch: &[&Arg]) -> Result<()> {
    let puts: Vec<Put> = all
        .iter()
        .flat_map(|s| {
            s.sections.iter().map(|(member, path, json)| Put {
                key: s.key,
                member,
                path,
                json: json.clone(),
            })
        })
        .collect();
    store::put_all(ctx, &puts, touch)
}

/// `prepare` and `write` for one key.
pub(super) fn change<'a>(
    ctx: Ctx,
    key: &'a Arg<'a>,
    stored: Stored,
    changes: Vec<(DocPath, Value)>,
) -> Result<()> {
    let s = prepare(ctx, key, stored, changes)?;
    write(ctx, &[s], &[])
}

/// With `account.validation-action warn`: a write that breaks the schema goes on, is logged at
/// warning level and counted (`INFO account`: `account_schema_warnings`).
/// The log line of an accepted violation names the key and the path (`text` starts with the
/// place, as every violation text does).
pub(super) fn warn<'k>(ctx: Ctx, key: &'k Arg<'k>) -> impl FnMut(&str) + 'k {
    move |text: &str| {
        stats::add(&stats::SCHEMA_WARNINGS, 1);
        let name = String::from_utf8_lossy(key.bytes());
        rm::log(
            ctx,
            "warning",
            &format!("account: schema violation accepted (validation-action warn) on key '{name}' {text}"),
        );
    }
}

/// The value at `path` in a document (`None` if absent).
pub(super) fn at<'v>(doc: &'v Value, path: &DocPath) -> Option<&'v Value> {
    path.segments.iter().try_fold(doc, |v, s| v.get(s.as_str()))
}
