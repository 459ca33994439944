//! ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]]
//!
//! A state transition: `state` becomes `new_state` and the old one moves to `prev_state`; with
//! `FROM`, only from that state; with `SET`, other places change in the same step (the original
//! game's enter_scenario sets the scenario session and `active_quest` with the state), all or
//! nothing.

use crate::error::{Error, Result};
use crate::path::DocPath;
use crate::rm::{self, Arg, Ctx, Reply};
use crate::schema::{self, Shape};
use crate::store::{self, Put};
use serde_json::Value;

const SYNTAX: &str = "expected: ACCOUNT.STATE key new_state [FROM expected] [SET path json [path json ...]]";

pub fn account_state(ctx: Ctx, args: &[Arg]) -> Result<Reply> {
    let (key, new) = (args[1], args[2]);
    let mut rest = &args[3..];
    let mut expected = None;
    if rest.first().is_some_and(|a| a.is("FROM")) {
        let [_, e, tail @ ..] = rest else { return Err(Error::Syntax(SYNTAX.into())) };
        expected = Some(e.text()?);
        rest = tail;
    }
    let sets = match rest {
        [] => None,
        [set, pairs @ ..] if set.is("SET") && !pairs.is_empty() && pairs.len().is_multiple_of(2) => {
            Some(super::set::parse_pairs(pairs)?)
        }
        _ => return Err(Error::Syntax(SYNTAX.into())),
    };
    if let Some(changes) = &sets {
        if let Some((p, _)) = changes.iter().find(|(p, _)| matches!(p.dotted().as_str(), "state" | "prev_state")) {
            return Err(Error::Syntax(format!("{} is set by the transition itself", p.dotted())));
        }
    }
    let new = schema::normalize(&Shape::State, None, Some(Value::from(new.text()?)), "state")?;
    let old = match &sets {
        // The document is read whole: the changes are validated together with the state.
        Some(_) => store::read_document(ctx, key)?.ok_or(Error::NoAccount)?,
        None => store::read_at(ctx, key, &DocPath::parse("state")?)?.unwrap_or(Value::Null),
    };
    let old_state = match &sets {
        Some(_) => old["state"].as_str().unwrap_or_default().to_string(),
        None => old.as_str().unwrap_or_default().to_string(),
    };
    if let Some(expected) = expected {
        if expected != old_state {
            return Err(Error::StateConflict { expected: expected.to_string(), actual: old_state });
        }
    }
    match sets {
        None => store::put_all(
            ctx,
            &[
                Put { key, path: "$.prev_state", json: Value::from(old_state.as_str()).to_string() },
                Put { key, path: "$.state", json: new.to_string() },
            ],
        )?,
        Some(mut changes) => {
            changes.push((DocPath::parse("prev_state")?, Value::from(old_state.as_str())));
            changes.push((DocPath::parse("state")?, new));
            super::set::write_changes(ctx, key, old, changes)?;
        }
    }
    rm::notify(ctx, c"account.state", key);
    Ok(Reply::Text(old_state))
}
