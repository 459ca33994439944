//! The one closed set of errors every command can answer. Each variant has its own upper-case
//! code (the first word of the reply), so clients can match on it; docs/commands.md lists the
//! exact texts.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The account key does not exist (write commands; reads answer nil instead).
    NoAccount,
    /// Too few or too many arguments: answered with Redis's standard wrong-arity reply.
    WrongArity,
    /// The key holds something that is not a RedisJSON document (or, for LOBBY, not a string).
    WrongType,
    /// The JSON argument is not valid JSON.
    Json(String),
    /// The JSON argument is valid JSON but does not match the account schema.
    Schema(String),
    /// The stored document does not match the schema (someone wrote it with JSON.SET).
    Corrupt(String),
    /// A dotted path that names nothing in the schema.
    NoPath(String),
    /// A lobby array that breaks the lobby rules.
    Lobby(String),
    /// A numeric argument that is not acceptable (not an integer, negative, zero, overflowing).
    BadNumber(String),
    /// A limit of docs/limits was exceeded.
    Limit(String),
    /// An option or keyword that the command does not know.
    Syntax(String),
    /// ACCOUNT.SPEND without enough of the resource.
    Insufficient {
        stat: &'static str,
        cur: i64,
        need: i64,
    },
    /// ACCOUNT.STATE ... FROM expected, and the state is something else.
    StateConflict { expected: String, actual: String },
    /// ACCOUNT.INCR: the result does not fit a signed 64-bit integer.
    Overflow,
    /// An error reply from an inner Redis call (OOM, READONLY, ...), passed through as is.
    Redis(String),
    /// A Rust panic was caught: the command did nothing and the server keeps running.
    Internal,
    /// RedisJSON is not loaded: an ACCOUNT.* command cannot run (LOBBY.* do not need it).
    NoJson,
}

impl Error {
    /// The code: the first word of the error reply.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoAccount => "NOACCOUNT",
            Error::WrongArity => "ERR",
            Error::WrongType => "WRONGTYPE",
            Error::Json(_) => "INVALIDJSON",
            Error::Schema(_) => "SCHEMA",
            Error::Corrupt(_) => "CORRUPT",
            Error::NoPath(_) => "NOPATH",
            Error::Lobby(_) => "LOBBY",
            Error::BadNumber(_) => "BADNUMBER",
            Error::Limit(_) => "LIMIT",
            Error::Syntax(_) => "SYNTAX",
            Error::Insufficient { .. } => "INSUFFICIENT",
            Error::StateConflict { .. } => "STATECONFLICT",
            Error::Overflow => "OVERFLOW",
            Error::Redis(_) => "REDIS",
            Error::Internal => "INTERNAL",
            Error::NoJson => "NOJSON",
        }
    }

    /// Prefixes the location of a schema problem found inside a sub-document.
    pub fn at(self, prefix: &str) -> Error {
        match self {
            Error::Schema(m) => Error::Schema(format!("{prefix}.{m}")),
            other => other,
        }
    }

    /// A schema problem in a stored document becomes CORRUPT: the caller did nothing wrong.
    pub fn stored(self) -> Error {
        match self {
            Error::Schema(m) => Error::Corrupt(m),
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoAccount => write!(f, "NOACCOUNT no such account"),
            Error::WrongArity => write!(f, "ERR wrong number of arguments"),
            Error::WrongType => {
                write!(
                    f,
                    "WRONGTYPE Operation against a key holding the wrong kind of value"
                )
            }
            Error::Json(m) => write!(f, "INVALIDJSON {m}"),
            Error::Schema(m) => write!(f, "SCHEMA {m}"),
            Error::Corrupt(m) => write!(f, "CORRUPT stored document: {m}"),
            Error::NoPath(p) => write!(f, "NOPATH no such path '{p}'"),
            Error::Lobby(m) => write!(f, "LOBBY {m}"),
            Error::BadNumber(m) => write!(f, "BADNUMBER {m}"),
            Error::Limit(m) => write!(f, "LIMIT {m}"),
            Error::Syntax(m) => write!(f, "SYNTAX {m}"),
            Error::Insufficient { stat, cur, need } => {
                write!(f, "INSUFFICIENT {stat} is {cur}, needs {need}")
            }
            Error::StateConflict { expected, actual } => {
                write!(f, "STATECONFLICT state is '{actual}', not '{expected}'")
            }
            Error::Overflow => write!(f, "OVERFLOW increment would overflow"),
            // Inner errors already start with their own code (OOM, READONLY, ERR ...).
            Error::Redis(m) => write!(f, "{m}"),
            Error::Internal => write!(f, "INTERNAL the command failed and changed nothing"),
            Error::NoJson => write!(f, "NOJSON RedisJSON is not loaded"),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_starts_with_its_code() {
        let all = [
            Error::NoAccount,
            Error::WrongArity,
            Error::WrongType,
            Error::Json("x".into()),
            Error::Schema("x".into()),
            Error::Corrupt("x".into()),
            Error::NoPath("x".into()),
            Error::Lobby("x".into()),
            Error::BadNumber("x".into()),
            Error::Limit("x".into()),
            Error::Syntax("x".into()),
            Error::Insufficient {
                stat: "mp",
                cur: 1,
                need: 2,
            },
            Error::StateConflict {
                expected: "a".into(),
                actual: "b".into(),
            },
            Error::Overflow,
            Error::Internal,
            Error::NoJson,
        ];
        let mut codes = std::collections::HashSet::new();
        for e in &all {
            let text = e.to_string();
            assert!(text.starts_with(&format!("{} ", e.code())), "{text}");
            assert!(codes.insert(e.code()), "duplicate code {}", e.code());
        }
    }

    #[test]
    fn schema_errors_in_stored_documents_become_corrupt() {
        let e = Error::Schema("x must be an integer".into())
            .at("stats")
            .stored();
        assert_eq!(
            e.to_string(),
            "CORRUPT stored document: stats.x must be an integer"
        );
    }
}
