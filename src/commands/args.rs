//! Every command's arguments, as COMMAND DOCS shows them (RM_SetCommandInfo `args`): redis-cli
//! builds its `HELP` and its typing hints from them. The syntax they render is the one of
//! docs/commands.md (tests/command_docs.rs compares the two for every command).

use redis_module::raw;
use std::ffi::CString;
use std::ptr;

#[derive(Clone, Copy)]
pub enum Kind {
    /// A key name, with the index of its key spec.
    Key(i32),
    String,
    Integer,
    /// A glob-style pattern (`MATCH ac:*`).
    Pattern,
    /// A keyword alone (`NX`, `hp`).
    PureToken,
    /// One of the sub-arguments.
    OneOf,
    /// The sub-arguments in sequence.
    Block,
}

/// One argument of a command.
#[derive(Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub kind: Kind,
    /// The keyword before the value (`FROM expected`), or the keyword itself for a pure token.
    pub token: Option<&'static str>,
    pub optional: bool,
    pub multiple: bool,
    pub sub: &'static [Spec],
}

const fn spec(name: &'static str, kind: Kind) -> Spec {
    Spec {
        name,
        kind,
        token: None,
        optional: false,
        multiple: false,
        sub: &[],
    }
}
const fn key(name: &'static str) -> Spec {
    spec(name, Kind::Key(0))
}
const fn string(name: &'static str) -> Spec {
    spec(name, Kind::String)
}
const fn integer(name: &'static str) -> Spec {
    spec(name, Kind::Integer)
}
const fn pattern(name: &'static str) -> Spec {
    spec(name, Kind::Pattern)
}
/// A keyword; its name is the keyword in lower case, as Redis's own commands name theirs.
const fn word(name: &'static str, token: &'static str) -> Spec {
    Spec {
        token: Some(token),
        ..spec(name, Kind::PureToken)
    }
}
const fn oneof(name: &'static str, sub: &'static [Spec]) -> Spec {
    Spec {
        sub,
        ..spec(name, Kind::OneOf)
    }
}
const fn block(name: &'static str, sub: &'static [Spec]) -> Spec {
    Spec {
        sub,
        ..spec(name, Kind::Block)
    }
}

impl Spec {
    const fn optional(self) -> Spec {
        Spec {
            optional: true,
            ..self
        }
    }
    const fn multiple(self) -> Spec {
        Spec {
            multiple: true,
            ..self
        }
    }
    const fn after(self, token: &'static str) -> Spec {
        Spec {
            token: Some(token),
            ..self
        }
    }
    const fn spec_index(self, i: i32) -> Spec {
        Spec {
            kind: Kind::Key(i),
            ..self
        }
    }
}

const STAT: Spec = oneof(
    "stat",
    &[
        word("hp", "hp"),
        word("mp", "mp"),
        word("stamina", "stamina"),
    ],
);
const SESSION: Spec = oneof(
    "session",
    &[
        word("combat", "combat"),
        word("inventory", "inventory"),
        word("scenario", "scenario"),
    ],
);

/// The optional request id every write command ends with (`redis/idmp.rs`).
const IDMP: Spec = string("request-id").after("IDMP").optional();

/// A command's arguments as COMMAND DOCS shows them: `of`, and `[IDMP request-id]` at the end
/// of a command that takes a request id.
pub fn documented(command: &str, takes_request_id: bool) -> Vec<Spec> {
    let mut specs = of(command).to_vec();
    if takes_request_id {
        specs.push(IDMP);
    }
    specs
}

/// The arguments of a command (after its name), by the name it is registered with.
pub fn of(command: &str) -> &'static [Spec] {
    match command {
        "account.create" => {
            const {
                &[
                    key("key"),
                    string("json").optional(),
                    word("nx", "NX").optional(),
                ]
            }
        }
        "account.get" => const { &[key("key"), string("path").optional()] },
        "account.exists" | "account.del" | "account.regen" => const { &[key("key")] },
        "account.set" => {
            const {
                &[
                    key("key"),
                    block("change", const { &[string("path"), string("json")] }).multiple(),
                ]
            }
        }
        "account.state" => {
            const {
                &[
                    key("key"),
                    string("new_state"),
                    string("expected").after("FROM").optional(),
                    block(
                        "set",
                        const {
                            &[block("change", const { &[string("path"), string("json")] })
                                .multiple()]
                        },
                    )
                    .after("SET")
                    .optional(),
                ]
            }
        }
        "account.move" => const { &[key("key"), string("location")] },
        "account.session" => {
            const {
                &[
                    key("key"),
                    SESSION,
                    oneof("value", const { &[string("id"), word("none", "NONE")] }),
                ]
            }
        }
        "account.setstat" => {
            const { &[key("key"), STAT, integer("cur"), integer("max").optional()] }
        }
        "account.incr" => const { &[key("key"), string("path"), integer("delta")] },
        "account.damage" | "account.heal" => {
            const { &[key("key"), integer("amount"), STAT.optional()] }
        }
        "account.spend" => const { &[key("key"), STAT, integer("amount")] },
        "account.apply" => {
            const {
                &[
                    key("key"),
                    block("change", const { &[string("stat"), integer("delta")] }).multiple(),
                ]
            }
        }
        "account.logout" => const { &[key("key"), key("stream").spec_index(1)] },
        "account.mget" => {
            const {
                &[
                    string("path").after("PATH").optional(),
                    key("key").multiple(),
                ]
            }
        }
        "account.link" => const { &[SESSION, string("id"), key("key").multiple()] },
        "account.unlink" => const { &[SESSION, key("key").multiple()] },
        "lobby.setcache" => {
            const {
                &[
                    key("key"),
                    string("json"),
                    integer("seconds").after("EX").optional(),
                ]
            }
        }
        "lobby.getcache" | "lobby.delcache" => const { &[key("key")] },
        // Two forms: docs/commands.md gives each its own syntax line.
        "account.schema" => {
            const {
                &[oneof(
                    "subcommand",
                    const { &[word("get", "GET"), string("json").after("SET")] },
                )]
            }
        }
        "account.check" => {
            const {
                &[
                    integer("cursor"),
                    pattern("pattern").after("MATCH").optional(),
                    integer("count").after("COUNT").optional(),
                ]
            }
        }
        _ => &[],
    }
}

/// The C form of argument specs: arrays ending with a zeroed entry, and the strings they point
/// to, kept alive together until RM_SetCommandInfo has copied them.
pub struct CArgs {
    strings: Vec<CString>,
    arrays: Vec<Vec<raw::RedisModuleCommandArg>>,
}

impl CArgs {
    pub fn new(specs: &[Spec]) -> CArgs {
        let mut c = CArgs {
            strings: Vec::new(),
            arrays: Vec::new(),
        };
        c.array(specs);
        c
    }

    /// The top-level array (null when the command has no arguments).
    pub fn as_ptr(&mut self) -> *mut raw::RedisModuleCommandArg {
        match self.arrays.last_mut() {
            Some(a) if a.len() > 1 => a.as_mut_ptr(),
            _ => ptr::null_mut(),
        }
    }

    fn text(&mut self, s: &str) -> *const std::os::raw::c_char {
        let s = CString::new(s).expect("no NUL in argument specs");
        // The CString's buffer does not move when the CString itself moves into the Vec.
        let p = s.as_ptr();
        self.strings.push(s);
        p
    }

    /// Builds the array for `specs` (sub-arrays first) and returns its index in `arrays`.
    fn array(&mut self, specs: &[Spec]) -> usize {
        let mut out = Vec::with_capacity(specs.len() + 1);
        for s in specs {
            let subargs = if s.sub.is_empty() {
                ptr::null_mut()
            } else {
                let i = self.array(s.sub);
                // A Vec's buffer does not move when the Vec moves within `arrays`.
                self.arrays[i].as_mut_ptr()
            };
            let (type_, key_spec_index) = match s.kind {
                Kind::Key(i) => (raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY, i),
                Kind::String => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
                    -1,
                ),
                Kind::Integer => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
                    -1,
                ),
                Kind::Pattern => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PATTERN,
                    -1,
                ),
                Kind::PureToken => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
                    -1,
                ),
                Kind::OneOf => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_ONEOF,
                    -1,
                ),
                Kind::Block => (
                    raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_BLOCK,
                    -1,
                ),
            };
            let mut flags = raw::REDISMODULE_CMD_ARG_NONE;
            if s.optional {
                flags |= raw::REDISMODULE_CMD_ARG_OPTIONAL;
            }
            if s.multiple {
                flags |= raw::REDISMODULE_CMD_ARG_MULTIPLE;
            }
            out.push(raw::RedisModuleCommandArg {
                name: self.text(s.name),
                type_,
                key_spec_index,
                token: match s.token {
                    Some(t) => self.text(t),
                    None => ptr::null(),
                },
                summary: ptr::null(),
                since: ptr::null(),
                flags: flags as i32,
                deprecated_since: ptr::null(),
                subargs,
                display_text: ptr::null(),
            });
        }
        out.push(zeroed());
        self.arrays.push(out);
        self.arrays.len() - 1
    }
}

/// The entry that ends an array of argument specs (a null name).
fn zeroed() -> raw::RedisModuleCommandArg {
    raw::RedisModuleCommandArg {
        name: ptr::null(),
        type_: 0,
        key_spec_index: 0,
        token: ptr::null(),
        summary: ptr::null(),
        since: ptr::null(),
        flags: 0,
        deprecated_since: ptr::null(),
        subargs: ptr::null_mut(),
        display_text: ptr::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_of_the_table_has_argument_specs() {
        for c in super::super::table() {
            assert!(!of(c.name).is_empty(), "{}", c.name);
        }
    }

    #[test]
    fn arrays_end_with_a_null_name_and_sub_arrays_are_linked() {
        let mut c = CArgs::new(of("account.set"));
        let top = c.as_ptr();
        // SAFETY: `top` points into `c.arrays`, alive and unchanged for this whole test; the
        // array has the 2 specs and the zeroed end entry.
        unsafe {
            assert!(!(*top).name.is_null() && (*top.add(2)).name.is_null());
            let block = &*top.add(1);
            let sub = block.subargs;
            assert!(
                !sub.is_null() && !(*sub.add(1)).name.is_null() && (*sub.add(2)).name.is_null()
            );
        }
    }
}
