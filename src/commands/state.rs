//! ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]]
//!
//! A state transition: `state` becomes `new_state` and the old one moves to `prev_state`; with
//! `FROM`, only from that state; with `SET`, other places change in the same step (the original
//! game's enter_scenario sets the scenario session and `active_quest` with the state), all or
//! nothing.

use super::write;
use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use serde_json::Value;

const SYNTAX: &str =
    "expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]] [IDMP request-id]";

pub fn account_state(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, new) = (&args[1], &args[2]);
    let mut rest = &args[3..];
    let mut expected = None;
    if rest.first().is_some_and(|a| a.is("FROM")) {
        let [_, e, tail @ ..] = rest else {
            return Err(Error::Syntax(SYNTAX.into()));
        };
        expected = Some(e.text()?);
        rest = tail;
    }
    let mut changes = match rest {
        [] => Vec::new(),
        [set, pairs @ ..]
            if set.is("SET") && !pairs.is_empty() && pairs.len().is_multiple_of(2) =>
        {
            write::parse_pairs(pairs)?
        }
        _ => return Err(Error::Syntax(SYNTAX.into())),
    };
    if let Some((p, _)) = changes
        .iter()
        .find(|(p, _)| matches!(p.dotted().as_str(), "state" | "prev_state"))
    {
        return Err(Error::Syntax(format!(
            "{} is set by the transition itself",
            p.dotted()
        )));
    }
    let new = Value::from(new.text()?);
    let stored = write::read(
        ctx,
        key,
        &write::sections(&changes, &["state", "prev_state"]),
    )?;
    let old = stored.doc.get("state").cloned().unwrap_or(Value::Null);
    if !(old.is_string() || old.is_null()) {
        return Err(Error::Corrupt("state must be a string".into()));
    }
    let stored_had_no_state = old.is_null();
    let old_text = old.as_str().unwrap_or_default().to_string();
    if let Some(expected) = expected {
        if expected != old_text {
            return Err(Error::StateConflict {
                expected: expected.to_string(),
                actual: old_text,
            });
        }
    }
    changes.push((DocPath::parse("prev_state")?, old));
    changes.push((DocPath::parse("state")?, new));
    write::change(ctx, key, stored, changes)?;
    rm::notify(ctx, c"account.state", key);
    // A document that had no state answers nil, not an empty string.
    Ok(match stored_had_no_state {
        true => Reply::Nil,
        false => Reply::Text(old_text),
    })
}
