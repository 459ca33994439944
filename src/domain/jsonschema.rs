//! The game's schema: a JSON Schema (draft 2020-12, the dialect pydantic v2 emits with
//! `Model.model_json_schema()`) compiled once, then used to validate documents or the parts a
//! command writes, to fill defaults, and to find the places the commands need (the vitals).
//! Pure Rust on `serde_json::Value`; no Redis here.
//!
//! The module understands exactly the keywords in `ASSERTIONS`, `APPLICATORS` and `ANNOTATIONS`
//! (docs/commands.md, "The schema"); a schema that uses any other keyword is refused when it is
//! loaded, with the keyword and its place, never silently ignored. `$ref` is local only
//! (`#/$defs/Name`, `#/definitions/Name`, `#`, or any JSON pointer into the same schema).
//!
//! No schema can crash or hang the server. Compiling is one pass over a work list (no
//! recursion), within a node budget (`limits::MAX_SCHEMA_NODES`), each place compiled once
//! however many `$ref`s name it. A cycle of references and in-place applicators (`$ref`,
//! `allOf`, `anyOf`, `oneOf`, `not`) that never goes one level down into the document is
//! refused at load with its pointers; recursion through `properties`, `additionalProperties`,
//! `items` and `prefixItems` is legal (a tree of nodes), as every walk follows the document and
//! ends with it. What the walks ask of a place again and again (its `$ref` target, its object
//! branch, its types, its filled default) is computed once at load over the acyclic in-place
//! graph. Every walk of a value carries a depth and a step budget (`limits::MAX_WALK_*`).
//! Defaults are filled once at load and must keep their own schema.
//!
//! Numbers compare exactly: integers over the whole i64 and u64 ranges as integers, an integer
//! against a double by value; `multipleOf` is exact on integers and, on a double, holds within
//! a relative tolerance of `MULTIPLE_TOLERANCE` of the value.
//!
//! Why not the `jsonschema` crate: the module needs three things it does not offer — validating
//! the part of a document at a dotted path against the sub-schema found by walking the schema
//! (the commands write parts), refusing unknown keywords at load, and error texts that name the
//! place and rule in the module's own error codes; and the documents are small, so a direct
//! walk of the compiled tree is enough (docs/commands.md gives the figures).

use crate::limits::{
    MAX_DEPTH, MAX_JSON_BYTES, MAX_SCHEMA_CHAIN, MAX_SCHEMA_DEFAULT_VALUES, MAX_SCHEMA_NODES,
    MAX_WALK_DEPTH, MAX_WALK_STEPS,
};
use crate::vitals::{Scalar, Source};
use serde_json::{Map, Number, Value};
use std::cmp::Ordering;
use std::collections::{HashMap, HashSet, VecDeque};

/// Keywords that check a value.
const ASSERTIONS: &[&str] = &[
    "type",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "required",
    "minProperties",
    "maxProperties",
    "minItems",
    "maxItems",
    "uniqueItems",
];
/// Keywords that apply sub-schemas.
const APPLICATORS: &[&str] = &[
    "properties",
    "additionalProperties",
    "items",
    "prefixItems",
    "anyOf",
    "oneOf",
    "allOf",
    "not",
    "$ref",
    "$defs",
    "definitions",
];
/// Keywords that are read (`default`, `description`, `x-vital`) or accepted and ignored, as
/// 2020-12 makes them annotations (`format` included: 2020-12's default vocabulary does not
/// assert it).
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
    "contentEncoding",
    "contentMediaType",
    "discriminator",
    "x-vital",
];

/// `multipleOf` on a double: `x` is a multiple of `m` when `|x - k*m| <= MULTIPLE_TOLERANCE * |x|`
/// for the integer `k` nearest `x / m` (a relative tolerance, so `1` is no multiple of `1e10`).
/// Two integers (doubles with no fraction included) are checked exactly.
pub const MULTIPLE_TOLERANCE: f64 = 1e-9;

/// A problem found while compiling a schema: the keyword and its place (a JSON pointer).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value that breaks the schema: where (dotted, empty for the document) and the rule; an
/// empty rule is a member that an object with `additionalProperties: false` does not allow.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub place: String,
    pub rule: String,
}

impl Violation {
    /// `<place> must be a string or null`, `<place>.name is required`, `unknown field '<place>'`.
    pub fn text(&self) -> String {
        if self.rule.is_empty() {
            return format!("unknown field '{}'", self.place);
        }
        let place = if self.place.is_empty() {
            "the document"
        } else {
            &self.place
        };
        format!("{place} {}", self.rule)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Null = 1,
    Boolean = 2,
    Object = 4,
    Array = 8,
    Number = 16,
    Integer = 32,
    String = 64,
}

const TYPES: [(Type, &str, &str); 7] = [
    (Type::Object, "object", "an object"),
    (Type::Array, "array", "an array"),
    (Type::String, "string", "a string"),
    (Type::Integer, "integer", "an integer"),
    (Type::Number, "number", "a number"),
    (Type::Boolean, "boolean", "a boolean"),
    (Type::Null, "null", "null"),
];

#[derive(Debug, Clone, Default)]
enum Additional {
    #[default]
    Any,
    Forbidden,
    Schema(usize),
}

/// One compiled schema object.
#[derive(Debug, Clone, Default)]
struct Node {
    types: u8,
    enumeration: Option<Vec<Value>>,
    constant: Option<Value>,
    minimum: Option<Number>,
    maximum: Option<Number>,
    exclusive_minimum: Option<Number>,
    exclusive_maximum: Option<Number>,
    multiple_of: Option<Number>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    /// `pattern`: matched anywhere in the string (JSON Schema's rule), by the `regex` crate, the
    /// engine pydantic validates `pattern` with by default.
    pattern: Option<regex::Regex>,
    properties: Vec<(String, usize)>,
    required: Vec<String>,
    additional: Additional,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    items: Option<usize>,
    prefix_items: Vec<usize>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    any_of: Vec<usize>,
    one_of: Vec<usize>,
    all_of: Vec<usize>,
    not: Option<usize>,
    reference: Option<usize>,
    default: Option<Value>,
    description: Option<String>,
    vital: bool,
    /// `true` / `false` schemas.
    always: Option<bool>,
}

impl Node {
    fn property(&self, name: &str) -> Option<usize> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, p)| *p)
    }
}

/// The `i`-th node applied to the very same value as `n` (its in-place edges: `$ref`, `allOf`,
/// `anyOf`, `oneOf`, `not`), without allocating.
fn in_place(n: &Node, mut i: usize) -> Option<usize> {
    if let Some(r) = n.reference {
        if i == 0 {
            return Some(r);
        }
        i -= 1;
    }
    for list in [&n.all_of, &n.any_of, &n.one_of] {
        if i < list.len() {
            return Some(list[i]);
        }
        i -= list.len();
    }
    if i == 0 {
        n.not
    } else {
        None
    }
}

/// A declared vital: its dotted place, its name (the last segment), and its defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct VitalDecl {
    pub path: Vec<String>,
    pub name: String,
    /// The vital's `default` object (`{"cur":100,"max":100,"regen":1.0}`), if the schema gives one.
    pub default: Option<Value>,
}

/// A compiled schema.
#[derive(Debug, Clone)]
pub struct Schema {
    nodes: Vec<Node>,
    root: usize,
    /// Computed once at load, per node: the node after following `$ref`s (a node with a
    /// reference and nothing else of note), its object-describing node, the types it allows
    /// (0: any), the node whose `default` it takes, and (per node with a `default`) that
    /// default with its members' defaults filled in.
    targets: Vec<usize>,
    objects: Vec<Option<usize>>,
    types: Vec<u8>,
    default_nodes: Vec<Option<usize>>,
    defaults: Vec<Option<Value>>,
    /// The JSON pointer of each node (for load errors).
    pointers: Vec<String>,
    /// The schema as it was loaded (compact JSON), and a short hash of it.
    pub text: String,
    pub hash: String,
    pub vitals: Vec<VitalDecl>,
}

struct Compiler<'a> {
    doc: &'a Value,
    nodes: Vec<Node>,
    pointers: Vec<String>,
    by_pointer: HashMap<String, usize>,
    /// Nodes named but not compiled yet: compiling is a loop over this list, never a recursion.
    queue: VecDeque<usize>,
}

fn load_err(pointer: &str, what: String) -> LoadError {
    let at = if pointer.is_empty() {
        "the root".to_string()
    } else {
        format!("'{pointer}'")
    };
    LoadError(format!("{what} at {at}"))
}

/// A JSON number, exactly: integers (the whole i64 and u64 ranges) as `i128`, others as `f64`.
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i128),
    Float(f64),
}

/// Doubles below this magnitude with no fraction convert to `i128` exactly (2^127 is 1.7014e38).
const I128_SAFE: f64 = 1.7e38;

impl Num {
    fn of(n: &Number) -> Num {
        if let Some(i) = n.as_i64() {
            Num::Int(i as i128)
        } else if let Some(u) = n.as_u64() {
            Num::Int(u as i128)
        } else {
            Num::Float(n.as_f64().unwrap_or(f64::NAN))
        }
    }

    /// The integer this number is exactly, if it is one (a double with no fraction included).
    fn exact_int(self) -> Option<i128> {
        match self {
            Num::Int(i) => Some(i),
            Num::Float(f) => (f.fract() == 0.0 && f.abs() < I128_SAFE).then_some(f as i128),
        }
    }

    fn as_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Compares two numbers exactly (`9007199254740993` is above `9007199254740992.0`).
fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (a.exact_int(), b.exact_int()) {
        return Some(x.cmp(&y));
    }
    match (a, b) {
        (Num::Int(x), Num::Float(y)) => int_vs_float(x, y),
        (Num::Float(x), Num::Int(y)) => int_vs_float(y, x).map(Ordering::reverse),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

/// An integer against a double that is not an exact `i128` (a fraction, or huge).
fn int_vs_float(x: i128, y: f64) -> Option<Ordering> {
    if y.is_nan() {
        return None;
    }
    if y >= I128_SAFE {
        return Some(Ordering::Less);
    }
    if y <= -I128_SAFE {
        return Some(Ordering::Greater);
    }
    // floor(y) without libm's floor (valgrind cannot follow its vector path): truncate, then
    // step down for a negative fraction.
    let mut f = y as i128;
    if (f as f64) > y {
        f -= 1;
    }
    let floor = f as f64;
    Some(match x.cmp(&f) {
        Ordering::Equal if y > floor => Ordering::Less,
        o => o,
    })
}

/// `multipleOf`: exact on two integers, else within `MULTIPLE_TOLERANCE` of the value.
fn is_multiple(x: Num, m: Num) -> bool {
    if let (Some(xi), Some(mi)) = (x.exact_int(), m.exact_int()) {
        if mi != 0 {
            return xi % mi == 0;
        }
    }
    let (x, m) = (x.as_f64(), m.as_f64());
    let k = (x / m).round();
    k.is_finite() && (x - k * m).abs() <= MULTIPLE_TOLERANCE * x.abs()
}

impl Compiler<'_> {
    /// The node of the schema at `pointer`: the one made before, or a new one, compiled later
    /// by the loop of `Schema::compile`.
    fn node(&mut self, pointer: &str) -> Result<usize, LoadError> {
        if let Some(&id) = self.by_pointer.get(pointer) {
            return Ok(id);
        }
        if resolve_pointer(self.doc, pointer).is_none() {
            return Err(load_err(pointer, "nothing".into()));
        }
        if self.nodes.len() >= MAX_SCHEMA_NODES {
            return Err(load_err(pointer, format!("the schema has more than {MAX_SCHEMA_NODES} schema objects (the most the module compiles)")));
        }
        let id = self.nodes.len();
        self.nodes.push(Node::default());
        self.pointers.push(pointer.to_string());
        self.by_pointer.insert(pointer.to_string(), id);
        self.queue.push_back(id);
        Ok(id)
    }

    fn compile(&mut self, v: &Value, at: &str) -> Result<Node, LoadError> {
        let m = match v {
            Value::Bool(b) => {
                return Ok(Node {
                    always: Some(*b),
                    ..Node::default()
                })
            }
            Value::Object(m) => m,
            _ => {
                return Err(load_err(
                    at,
                    "a schema must be an object or a boolean".into(),
                ))
            }
        };
        let mut n = Node::default();
        for (k, x) in m {
            let here = format!("{at}/{}", escape_pointer(k));
            let bad = |what: &str| Err(load_err(&here, format!("'{k}' must be {what}")));
            match k.as_str() {
                "type" => {
                    let names: Vec<&Value> = match x {
                        Value::Array(a) => a.iter().collect(),
                        one => vec![one],
                    };
                    for t in names {
                        match TYPES.iter().find(|(_, name, _)| Some(*name) == t.as_str()) {
                            Some((ty, _, _)) => n.types |= *ty as u8,
                            None => return bad("a type name or an array of them"),
                        }
                    }
                }
                "enum" => match x {
                    Value::Array(a) => n.enumeration = Some(a.clone()),
                    _ => return bad("an array"),
                },
                "const" => n.constant = Some(x.clone()),
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => {
                    let Value::Number(num) = x else {
                        return bad("a number");
                    };
                    if k == "multipleOf" && Num::of(num).as_f64() <= 0.0 {
                        return bad("a number above 0");
                    }
                    *match k.as_str() {
                        "minimum" => &mut n.minimum,
                        "maximum" => &mut n.maximum,
                        "exclusiveMinimum" => &mut n.exclusive_minimum,
                        "exclusiveMaximum" => &mut n.exclusive_maximum,
                        _ => &mut n.multiple_of,
                    } = Some(num.clone());
                }
                "minLength" | "maxLength" | "minProperties" | "maxProperties" | "minItems"
                | "maxItems" => {
                    let Some(u) = x.as_u64() else {
                        return bad("a non-negative integer");
                    };
                    *match k.as_str() {
                        "minLength" => &mut n.min_length,
                        "maxLength" => &mut n.max_length,
                        "minProperties" => &mut n.min_properties,
                        "maxProperties" => &mut n.max_properties,
                        "minItems" => &mut n.min_items,
                        _ => &mut n.max_items,
                    } = Some(u);
                }
                "pattern" => {
                    let Some(p) = x.as_str() else {
                        return bad("a string");
                    };
                    let re = regex::Regex::new(p).map_err(|e| {
                        let why = e.to_string();
                        let why = why
                            .lines()
                            .last()
                            .unwrap_or_default()
                            .trim()
                            .trim_start_matches("error: ");
                        load_err(
                            &here,
                            format!(
                                "'pattern' is not a regular expression the module reads ({why})"
                            ),
                        )
                    })?;
                    n.pattern = Some(re);
                }
                "uniqueItems" => {
                    n.unique_items = x
                        .as_bool()
                        .ok_or_else(|| load_err(&here, format!("'{k}' must be a boolean")))?
                }
                "required" => match x.as_array() {
                    Some(a) if a.iter().all(Value::is_string) => {
                        n.required = a
                            .iter()
                            .filter_map(|s| s.as_str().map(String::from))
                            .collect()
                    }
                    _ => return bad("an array of strings"),
                },
                "properties" => {
                    let Some(props) = x.as_object() else {
                        return bad("an object");
                    };
                    for name in props.keys() {
                        let id = self.node(&format!("{here}/{}", escape_pointer(name)))?;
                        n.properties.push((name.clone(), id));
                    }
                }
                "additionalProperties" => {
                    n.additional = match x {
                        Value::Bool(true) => Additional::Any,
                        Value::Bool(false) => Additional::Forbidden,
                        _ => Additional::Schema(self.node(&here)?),
                    }
                }
                "items" => n.items = Some(self.node(&here)?),
                "not" => n.not = Some(self.node(&here)?),
                "prefixItems" | "anyOf" | "oneOf" | "allOf" => {
                    let Some(a) = x.as_array().filter(|a| !a.is_empty()) else {
                        return bad("a non-empty array of schemas");
                    };
                    let ids = (0..a.len())
                        .map(|i| self.node(&format!("{here}/{i}")))
                        .collect::<Result<Vec<_>, _>>()?;
                    match k.as_str() {
                        "prefixItems" => n.prefix_items = ids,
                        "anyOf" => n.any_of = ids,
                        "oneOf" => n.one_of = ids,
                        _ => n.all_of = ids,
                    }
                }
                "$ref" => {
                    let Some(r) = x.as_str() else {
                        return bad("a string");
                    };
                    let Some(pointer) = r.strip_prefix('#') else {
                        return Err(load_err(&here, format!("'$ref' '{r}' is not local: only references into this schema (#/...) are supported")));
                    };
                    if resolve_pointer(self.doc, pointer).is_none() {
                        return Err(load_err(&here, format!("'$ref' '{r}' points to nothing")));
                    }
                    n.reference = Some(self.node(pointer)?);
                }
                "$defs" | "definitions" => {
                    let Some(defs) = x.as_object() else {
                        return bad("an object");
                    };
                    for name in defs.keys() {
                        self.node(&format!("{here}/{}", escape_pointer(name)))?;
                    }
                }
                "default" => n.default = Some(x.clone()),
                "description" => {
                    n.description = x
                        .as_str()
                        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
                }
                "x-vital" => {
                    n.vital = x
                        .as_bool()
                        .ok_or_else(|| load_err(&here, format!("'{k}' must be a boolean")))?
                }
                _ if ASSERTIONS.contains(&k.as_str())
                    || APPLICATORS.contains(&k.as_str())
                    || ANNOTATIONS.contains(&k.as_str()) => {}
                _ => return Err(load_err(at, format!("unsupported keyword '{k}'"))),
            }
        }
        Ok(n)
    }
}

fn escape_pointer(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn resolve_pointer<'v>(doc: &'v Value, pointer: &str) -> Option<&'v Value> {
    if pointer.is_empty() {
        return Some(doc);
    }
    doc.pointer(pointer)
}

/// FNV-1a, 64 bits, as 16 hex digits: enough to tell two loaded schemas apart across nodes.
fn short_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A JSON number as an integer, as JSON Schema counts integers (see `schema::as_int`).
fn integer(v: &Value) -> Option<i64> {
    crate::schema::as_int(v)
}

fn type_of(v: &Value) -> u8 {
    match v {
        Value::Null => Type::Null as u8,
        Value::Bool(_) => Type::Boolean as u8,
        Value::Object(_) => Type::Object as u8,
        Value::Array(_) => Type::Array as u8,
        Value::String(_) => Type::String as u8,
        Value::Number(_) if integer(v).is_some() => Type::Number as u8 | Type::Integer as u8,
        Value::Number(_) => Type::Number as u8,
    }
}

fn type_names(types: u8) -> String {
    let names: Vec<&str> = TYPES
        .iter()
        .filter(|(t, _, _)| types & (*t as u8) != 0)
        .map(|(_, _, n)| *n)
        .collect();
    names.join(" or ")
}

/// `must be an integer`, told with the module's integer range for an integer outside it
/// (`18446744073709551615` is a JSON integer, not one the module stores as an integer).
fn type_rule(types: u8, v: &Value) -> String {
    let outside = matches!(v, Value::Number(n) if Num::of(n).exact_int().is_some())
        && types & (Type::Integer as u8 | Type::Number as u8) == Type::Integer as u8;
    if outside {
        let names = type_names(types).replace(
            "an integer",
            &format!("an integer from {} to {}", i64::MIN, i64::MAX),
        );
        return format!("must be {names}");
    }
    format!("must be {}", type_names(types))
}

fn join(place: &str, name: &str) -> String {
    if place.is_empty() {
        name.to_string()
    } else {
        format!("{place}.{name}")
    }
}

/// `1 character`, `64 characters`.
fn count(n: Option<u64>, what: &str) -> String {
    match n.unwrap_or(0) {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    }
}

fn number(x: &Number) -> String {
    let t = x.to_string();
    match t.strip_suffix(".0") {
        Some(whole) => whole.to_string(),
        None => t,
    }
}

fn shown(v: &Value) -> String {
    let t = v.to_string();
    if t.len() > 40 {
        format!("{}...", &t[..t.floor_char_boundary(40)])
    } else {
        t
    }
}

/// A walk of a value against the schema: its steps so far, and whether it went past the depth
/// or step budget (then the value is refused, as one that cannot be checked).
#[derive(Default)]
struct Walk {
    steps: usize,
    over: bool,
}

impl Walk {
    /// Counts `cost` steps at `depth`; false (and `over`) past the budget.
    fn step(&mut self, depth: usize, cost: usize) -> bool {
        self.steps = self.steps.saturating_add(cost);
        if depth > MAX_WALK_DEPTH || self.steps > MAX_WALK_STEPS {
            self.over = true;
        }
        !self.over
    }
}

fn over_budget(place: &str) -> Violation {
    Violation {
        place: place.to_string(),
        rule: format!("cannot be checked against the schema within {MAX_WALK_DEPTH} levels and {MAX_WALK_STEPS} steps"),
    }
}

/// The defaults being filled in at load: each node's once, a node met again while its own is
/// being made is a default that holds itself (it would never end).
struct Defaults {
    state: Vec<u8>,
    made: Vec<Option<Value>>,
    values: usize,
    error: Option<LoadError>,
}

/// Values in `v` (itself included), counted without recursion.
fn values_in(v: &Value) -> usize {
    let mut stack = vec![v];
    let mut n = 0;
    while let Some(x) = stack.pop() {
        n += 1;
        match x {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    n
}

impl Schema {
    /// Compiles a schema document. All or nothing: any problem is a `LoadError` naming it.
    pub fn compile(doc: &Value) -> Result<Schema, LoadError> {
        let mut c = Compiler {
            doc,
            nodes: Vec::new(),
            pointers: Vec::new(),
            by_pointer: HashMap::new(),
            queue: VecDeque::new(),
        };
        let root = c.node("")?;
        while let Some(id) = c.queue.pop_front() {
            let pointer = c.pointers[id].clone();
            let value = resolve_pointer(doc, &pointer)
                .ok_or_else(|| load_err(&pointer, "nothing".into()))?;
            let node = c.compile(value, &pointer)?;
            c.nodes[id] = node;
        }
        let mut s = Schema {
            nodes: c.nodes,
            root,
            targets: Vec::new(),
            objects: Vec::new(),
            types: Vec::new(),
            default_nodes: Vec::new(),
            defaults: Vec::new(),
            pointers: c.pointers,
            text: doc.to_string(),
            hash: String::new(),
            vitals: Vec::new(),
        };
        s.hash = short_hash(&s.text);
        s.link()?;
        if s.objects[s.root].is_none() {
            return Err(LoadError(
                "the schema must describe an object (type: object, or properties) at the root"
                    .into(),
            ));
        }
        s.make_defaults()?;
        s.vitals = s.find_vitals()?;
        Ok(s)
    }

    /// Parses and compiles a schema text (at most `MAX_JSON_BYTES`, however it is loaded).
    pub fn parse(text: &[u8]) -> Result<Schema, LoadError> {
        if text.len() > MAX_JSON_BYTES {
            return Err(LoadError(format!(
                "the schema is larger than {MAX_JSON_BYTES} bytes"
            )));
        }
        let doc: Value =
            serde_json::from_slice(text).map_err(|e| LoadError(format!("not valid JSON: {e}")))?;
        Schema::compile(&doc)
    }

    /// `#/properties/a`: a node's place, as a `$ref` names it.
    fn shown_pointer(&self, id: usize) -> String {
        format!("#{}", self.pointers[id])
    }

    /// Refuses a cycle of in-place edges (the pointers of the cycle in the error) and a chain of
    /// them longer than `MAX_SCHEMA_CHAIN`, then computes what the walks ask of each node, in
    /// an order where every node comes after all it applies in place. One pass, no recursion.
    fn link(&mut self) -> Result<(), LoadError> {
        let count = self.nodes.len();
        let mut state = vec![0u8; count];
        let mut chain = vec![0usize; count];
        let mut order = Vec::with_capacity(count);
        for start in 0..count {
            if state[start] != 0 {
                continue;
            }
            state[start] = 1;
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            while let Some(top) = stack.last_mut() {
                let (id, i) = *top;
                match in_place(&self.nodes[id], i) {
                    Some(next) => {
                        top.1 += 1;
                        match state[next] {
                            0 => {
                                state[next] = 1;
                                stack.push((next, 0));
                            }
                            1 => {
                                let from = stack.iter().position(|&(n, _)| n == next).unwrap_or(0);
                                let mut names: Vec<String> = stack[from..]
                                    .iter()
                                    .map(|&(n, _)| self.shown_pointer(n))
                                    .collect();
                                names.push(self.shown_pointer(next));
                                return Err(load_err(
                                    &self.pointers[next],
                                    format!("a cycle of references that never goes down into the document ({})", names.join(" -> ")),
                                ));
                            }
                            _ => {}
                        }
                    }
                    None => {
                        state[id] = 2;
                        let n = &self.nodes[id];
                        chain[id] = 1
                            + (0..)
                                .map_while(|i| in_place(n, i))
                                .map(|k| chain[k])
                                .max()
                                .unwrap_or(0);
                        if chain[id] > MAX_SCHEMA_CHAIN {
                            return Err(load_err(
                                &self.pointers[id],
                                format!("more than {MAX_SCHEMA_CHAIN} references and applicators in a row without going down into the document"),
                            ));
                        }
                        order.push(id);
                        stack.pop();
                    }
                }
            }
        }
        self.targets = (0..count).collect();
        self.objects = vec![None; count];
        self.types = vec![0; count];
        self.default_nodes = vec![None; count];
        for &id in &order {
            let n = &self.nodes[id];
            if let Some(r) = n.reference {
                if n.properties.is_empty()
                    && n.types == 0
                    && n.any_of.is_empty()
                    && n.one_of.is_empty()
                {
                    self.targets[id] = self.targets[r];
                }
            }
            self.default_nodes[id] = if n.default.is_some() {
                Some(id)
            } else {
                n.reference.and_then(|r| self.default_nodes[r])
            };
            self.types[id] = if n.types != 0 {
                n.types
            } else if let Some(r) = n.reference {
                self.types[r]
            } else {
                let branches = if n.any_of.is_empty() {
                    &n.one_of
                } else {
                    &n.any_of
                };
                let mut t = 0;
                for &b in branches {
                    match self.types[b] {
                        0 => {
                            t = 0;
                            break;
                        }
                        bt => t |= bt,
                    }
                }
                t
            };
            let t = self.targets[id];
            let tn = &self.nodes[t];
            self.objects[id] = if tn.types & Type::Object as u8 != 0 || !tn.properties.is_empty() {
                Some(t)
            } else if let Some(o) = tn.reference.and_then(|r| self.objects[r]) {
                Some(o)
            } else {
                let branches = if tn.any_of.is_empty() {
                    &tn.one_of
                } else {
                    &tn.any_of
                };
                let objects: Vec<usize> =
                    branches.iter().filter_map(|&b| self.objects[b]).collect();
                (objects.len() == 1).then(|| objects[0])
            };
        }
        Ok(())
    }

    /// Fills in every `default` once (with its members' defaults), refusing one that holds
    /// itself, nests deeper than a document may, or breaks its own schema.
    fn make_defaults(&mut self) -> Result<(), LoadError> {
        let count = self.nodes.len();
        let mut d = Defaults {
            state: vec![0; count],
            made: vec![None; count],
            values: 0,
            error: None,
        };
        for id in 0..count {
            if self.nodes[id].default.is_none() {
                continue;
            }
            let v = self.make_default(id, 0, &mut d);
            if let Some(e) = d.error.take() {
                return Err(e);
            }
            let Some(v) = v else { continue };
            let at = format!("{}/default", self.pointers[id]);
            if crate::json::depth(&v) > MAX_DEPTH {
                return Err(load_err(&at, format!("the default, with its members' defaults, nests deeper than {MAX_DEPTH} levels")));
            }
            if let Err(e) = self.check_value(id, &v, "") {
                let why = if e.place.is_empty() {
                    e.rule.clone()
                } else {
                    e.text()
                };
                return Err(load_err(
                    &at,
                    format!("the default {} breaks its own schema: {why}", shown(&v)),
                ));
            }
        }
        self.defaults = d.made;
        Ok(())
    }

    /// The default of the node `id` with its members' defaults filled in, `depth` levels under
    /// the default being made.
    fn make_default(&self, id: usize, depth: usize, d: &mut Defaults) -> Option<Value> {
        let dn = self.default_nodes[id]?;
        if d.error.is_some() {
            return None;
        }
        let at = format!("{}/default", self.pointers[dn]);
        let v = match d.state[dn] {
            2 => d.made[dn].clone(),
            1 => {
                d.error = Some(load_err(&at, "filling in the default never ends: it holds itself through its members' defaults".into()));
                return None;
            }
            _ if depth > MAX_DEPTH => {
                d.error = Some(load_err(&at, format!("the default, with its members' defaults, nests deeper than {MAX_DEPTH} levels")));
                return None;
            }
            _ => {
                d.state[dn] = 1;
                let mut v = self.nodes[dn].default.clone()?;
                self.fill(dn, &mut v, 0, &mut |pid, at_depth| {
                    self.make_default(pid, depth + at_depth + 1, d)
                });
                d.state[dn] = 2;
                d.made[dn] = Some(v.clone());
                Some(v)
            }
        };
        if let Some(v) = &v {
            d.values = d.values.saturating_add(values_in(v));
            if d.values > MAX_SCHEMA_DEFAULT_VALUES && d.error.is_none() {
                d.error = Some(load_err(
                    &at,
                    format!(
                        "the schema's defaults make more than {MAX_SCHEMA_DEFAULT_VALUES} values"
                    ),
                ));
            }
        }
        v
    }

    /// The node after following `$ref`s (a node with a reference and nothing else of note).
    fn target(&self, id: usize) -> usize {
        self.targets[id]
    }

    /// The object-describing node at `id`: itself, its reference, or the one object branch of a
    /// nullable `anyOf`/`oneOf` (`Optional[Model]`).
    fn object_node(&self, id: usize) -> Option<usize> {
        self.objects[id]
    }

    /// The node that describes the member `name` of the object node `id`: its property, else
    /// one its `allOf` branches name, else its `additionalProperties` schema. `Ok(None)`: any
    /// value is allowed there (open). `Err(())`: the object forbids other members.
    fn member(&self, id: usize, name: &str) -> Result<Option<usize>, ()> {
        let n = &self.nodes[id];
        if let Some(p) = n.property(name) {
            return Ok(Some(p));
        }
        if !n.all_of.is_empty() {
            if let Some(found) = self.member_of_all_of(id, name) {
                return Ok(Some(found));
            }
        }
        match n.additional {
            Additional::Any => Ok(None),
            Additional::Forbidden => Err(()),
            Additional::Schema(s) => Ok(Some(s)),
        }
    }

    /// The member `name` as the `allOf` branches of `id` describe it: depth first, each branch's
    /// properties, then its own branches, then its `additionalProperties` schema; each object
    /// node visited once (a loop, no recursion).
    fn member_of_all_of(&self, id: usize, name: &str) -> Option<usize> {
        let mut stack: Vec<(usize, usize)> = vec![(id, 0)];
        let mut seen: HashSet<usize> = HashSet::from([id]);
        while let Some(top) = stack.last_mut() {
            let (o, i) = *top;
            let n = &self.nodes[o];
            if let Some(&branch) = n.all_of.get(i) {
                top.1 += 1;
                let Some(b) = self.objects[branch] else {
                    continue;
                };
                if !seen.insert(b) {
                    continue;
                }
                if let Some(p) = self.nodes[b].property(name) {
                    return Some(p);
                }
                stack.push((b, 0));
            } else {
                stack.pop();
                if let (true, Additional::Schema(s)) = (o != id, &n.additional) {
                    return Some(*s);
                }
            }
        }
        None
    }

    /// Where a dotted path leads in the schema.
    pub fn at(&self, path: &[String]) -> Place {
        let mut id = self.root;
        for (i, seg) in path.iter().enumerate() {
            let Some(obj) = self.object_node(id) else {
                return if i == 0 {
                    Place::Open
                } else {
                    Place::NotAnObject(path[..i].join("."))
                };
            };
            match self.member(obj, seg) {
                Ok(Some(next)) => id = next,
                Ok(None) => return Place::Open,
                Err(()) => return Place::Forbidden(path[..=i].join(".")),
            }
        }
        Place::Node(PlaceRef(id))
    }

    /// What kind of number a place holds, for ACCOUNT.INCR.
    pub fn number_kind(&self, path: &[String]) -> NumberKind {
        match self.at(path) {
            Place::Open => NumberKind::Number,
            Place::Node(PlaceRef(id)) => {
                let t = self.types[id];
                if t == 0 || t & Type::Number as u8 != 0 {
                    NumberKind::Number
                } else if t & Type::Integer as u8 != 0 {
                    NumberKind::Integer
                } else {
                    NumberKind::NotANumber
                }
            }
            _ => NumberKind::NotANumber,
        }
    }

    /// Validates `v` against the whole schema.
    pub fn validate(&self, v: &Value) -> Result<(), Violation> {
        self.check_value(self.root, v, "")
    }

    /// Validates `v` as the value of the place `path` names (`Place::Open` places take anything).
    pub fn validate_at(&self, path: &[String], v: &Value) -> Result<(), Violation> {
        match self.at(path) {
            Place::Node(PlaceRef(id)) => self.check_value(id, v, &path.join(".")),
            Place::Open => Ok(()),
            Place::Forbidden(p) => Err(Violation {
                place: p,
                rule: String::new(),
            }),
            Place::NotAnObject(p) => Err(Violation {
                place: p,
                rule: "holds no fields".into(),
            }),
        }
    }

    /// The allocation-free walk first; the error-building one only on failure, to say where and
    /// why. Each within its own budget.
    fn check_value(&self, id: usize, v: &Value, place: &str) -> Result<(), Violation> {
        let mut w = Walk::default();
        if self.valid(id, v, 0, &mut w) {
            return Ok(());
        }
        // Past the budget too: the error-building walk tells where it ran out.
        match self.check(id, v, place, 0, &mut Walk::default()) {
            Ok(()) if w.over => Err(over_budget(place)),
            r => r,
        }
    }

    /// The default of a place (`default`, else for an object the object of its members'
    /// defaults when it has any), if the schema gives one.
    pub fn default_at(&self, path: &[String]) -> Option<Value> {
        match self.at(path) {
            Place::Node(PlaceRef(id)) => self.default_of(id),
            _ => None,
        }
    }

    /// The default a node gives (its own, else its reference's), filled in at load.
    fn default_of(&self, id: usize) -> Option<Value> {
        self.defaults.get(self.default_nodes[id]?)?.clone()
    }

    /// Fills, inside `v`, every missing member whose schema has a default (recursively, in the
    /// schema's order, before the members the schema does not name), and stores integral
    /// numbers in integer-only places as integers (`-0` and `3.0` become `0` and `3`).
    pub fn fill_defaults(&self, v: &mut Value) {
        self.fill(self.root, v, 0, &mut |pid, _| self.default_of(pid));
    }

    /// `fill_defaults` for the value of the place `path` names.
    pub fn fill_defaults_at(&self, path: &[String], v: &mut Value) {
        if let Place::Node(PlaceRef(id)) = self.at(path) {
            self.fill(id, v, 0, &mut |pid, _| self.default_of(pid));
        }
    }

    /// The filling walk, `depth` levels into the value; `default(member, depth)` gives the
    /// default of a missing member (the ones made at load, or, at load, the one being made).
    fn fill(
        &self,
        id: usize,
        v: &mut Value,
        depth: usize,
        default: &mut dyn FnMut(usize, usize) -> Option<Value>,
    ) {
        if depth > MAX_WALK_DEPTH {
            return;
        }
        let id = self.target(id);
        let n = &self.nodes[id];
        if n.types == Type::Integer as u8 || n.types == (Type::Integer as u8 | Type::Null as u8) {
            if let (true, Some(i)) = (v.is_f64(), integer(v)) {
                *v = Value::from(i);
            }
            return;
        }
        let Value::Object(m) = v else { return };
        let Some(obj) = self.object_node(id) else {
            return;
        };
        let props = &self.nodes[obj].properties;
        if props.is_empty() {
            return;
        }
        // Nothing to add (the usual case: a whole document, or one written before): fill inside
        // each member where it is, without rebuilding the map.
        if !props
            .iter()
            .any(|(name, pid)| !m.contains_key(name) && self.has_default(*pid))
        {
            for (k, x) in m.iter_mut() {
                let member = match props.iter().find(|(name, _)| name == k) {
                    Some((_, pid)) => Some(*pid),
                    None => self.member(obj, k).ok().flatten(),
                };
                if let Some(s) = member {
                    self.fill(s, x, depth + 1, default);
                }
            }
            return;
        }
        // Defaults to add: rebuilt in the schema's order, then the members it does not name.
        let mut out = Map::with_capacity(props.len().max(m.len()));
        for (name, pid) in props {
            match m.remove(name) {
                Some(mut x) => {
                    self.fill(*pid, &mut x, depth + 1, default);
                    out.insert(name.clone(), x);
                }
                None => {
                    if let Some(d) = default(*pid, depth) {
                        out.insert(name.clone(), d);
                    }
                }
            }
        }
        for (k, mut x) in std::mem::take(m) {
            if let Ok(Some(s)) = self.member(obj, &k) {
                self.fill(s, &mut x, depth + 1, default);
            }
            out.insert(k, x);
        }
        *m = out;
    }

    /// Whether `fill_defaults` would change the value `v` (a member to add, or an integral
    /// number to store as an integer), read in place through a `Source` (the stored text itself):
    /// when it would not, a read can serve the stored text as it is.
    pub fn needs_fill<S: Source>(&self, v: S) -> bool {
        self.needs(self.root, v, 0)
    }

    fn needs<S: Source>(&self, id: usize, v: S, depth: usize) -> bool {
        if depth > MAX_WALK_DEPTH {
            // Past what `fill` walks: the parsed way decides.
            return true;
        }
        let id = self.target(id);
        let n = &self.nodes[id];
        if n.types == Type::Integer as u8 || n.types == (Type::Integer as u8 | Type::Null as u8) {
            return matches!(v.scalar(), Scalar::Float(x) if crate::vitals::float_int(x).is_some());
        }
        if !v.is_object() {
            return false;
        }
        let Some(obj) = self.object_node(id) else {
            return false;
        };
        let props = &self.nodes[obj].properties;
        if props.is_empty() {
            return false;
        }
        // One pass over the members: each one's own check, and which named members are there
        // (a bit each for the first 128; past those, looked up by name).
        let mut seen = 0u128;
        let mut needs = false;
        v.each(&mut |k, x| {
            // A name written with an escape is compared only once decoded: the parsed way.
            if k.contains(&b'\\') {
                needs = true;
                return false;
            }
            let Ok(name) = std::str::from_utf8(k) else {
                return true;
            };
            let member = match props.iter().position(|(p, _)| p == name) {
                Some(i) => {
                    seen |= 1u128.checked_shl(i as u32).unwrap_or(0);
                    Some(props[i].1)
                }
                None => self.member(obj, name).ok().flatten(),
            };
            needs = member.is_some_and(|s| self.needs(s, x, depth + 1));
            !needs
        });
        needs
            || props.iter().enumerate().any(|(i, (name, pid))| {
                let there = if i < 128 {
                    seen & (1 << i) != 0
                } else {
                    v.field(name).is_some()
                };
                !there && self.has_default(*pid)
            })
    }

    /// The default `fill_defaults` gives a missing top-level member: that of a property the root
    /// object names, if it has one (never one from `allOf` or `additionalProperties`, which
    /// `fill_defaults` does not add either).
    pub fn top_default(&self, name: &str) -> Option<Value> {
        let obj = self.object_node(self.target(self.root))?;
        let pid = self.nodes[obj].property(name)?;
        self.default_of(pid)
    }

    /// Whether `default_of` would give a value (without making it).
    fn has_default(&self, id: usize) -> bool {
        self.default_nodes[id].is_some()
    }

    fn rule(&self, id: usize, rule: String, place: &str) -> Violation {
        // The description helps at a field; the document's own is not repeated on every error.
        let rule = match &self.nodes[id].description {
            Some(d) if !d.is_empty() && !place.is_empty() => {
                format!("{rule} ({})", d.chars().take(120).collect::<String>())
            }
            _ => rule,
        };
        Violation {
            place: place.to_string(),
            rule,
        }
    }

    /// The numeric rules of a node that `x` breaks: the first, as `(words, bound)`.
    fn number_rule<'n>(n: &'n Node, x: Num) -> Option<(&'static str, &'n Number)> {
        let bounds: [(&Option<Number>, &'static str, fn(Ordering) -> bool); 4] = [
            (&n.minimum, "at least", |o| o != Ordering::Less),
            (&n.maximum, "at most", |o| o != Ordering::Greater),
            (&n.exclusive_minimum, "greater than", |o| {
                o == Ordering::Greater
            }),
            (&n.exclusive_maximum, "less than", |o| o == Ordering::Less),
        ];
        for (bound, words, ok) in bounds {
            if let Some(b) = bound {
                if !cmp_num(x, Num::of(b)).is_some_and(ok) {
                    return Some((words, b));
                }
            }
        }
        if let Some(m) = &n.multiple_of {
            if !is_multiple(x, Num::of(m)) {
                return Some(("a multiple of", m));
            }
        }
        None
    }

    /// Whether `v` keeps the node's rules: the same rules as `check`, without building any text
    /// (no allocation), so a valid document costs one walk. `check` runs only on failure, to
    /// say where and why.
    fn valid(&self, id: usize, v: &Value, depth: usize, w: &mut Walk) -> bool {
        let n = &self.nodes[id];
        if !w.step(depth, 1 + n.enumeration.as_ref().map_or(0, Vec::len)) {
            return false;
        }
        if let Some(always) = n.always {
            return always;
        }
        if n.reference.is_some_and(|r| !self.valid(r, v, depth + 1, w)) {
            return false;
        }
        if n.types != 0 && n.types & type_of(v) == 0 {
            return false;
        }
        if n.enumeration
            .as_ref()
            .is_some_and(|values| !values.iter().any(|e| same(e, v)))
        {
            return false;
        }
        if n.constant.as_ref().is_some_and(|c| !same(c, v)) {
            return false;
        }
        if let Value::Number(x) = v {
            if Schema::number_rule(n, Num::of(x)).is_some() {
                return false;
            }
        }
        if let Value::String(s) = v {
            if n.min_length.is_some() || n.max_length.is_some() {
                let chars = s.chars().count() as u64;
                if n.max_length.is_some_and(|m| chars > m)
                    || n.min_length.is_some_and(|m| chars < m)
                {
                    return false;
                }
            }
            if n.pattern.as_ref().is_some_and(|re| !re.is_match(s)) {
                return false;
            }
        }
        if let Value::Object(m) = v {
            if !n.required.iter().all(|r| m.contains_key(r)) {
                return false;
            }
            for (name, x) in m {
                let ok = match n.property(name) {
                    Some(p) => self.valid(p, x, depth + 1, w),
                    None => match n.additional {
                        Additional::Any => true,
                        Additional::Forbidden => false,
                        Additional::Schema(s) => self.valid(s, x, depth + 1, w),
                    },
                };
                if !ok {
                    return false;
                }
            }
            let len = m.len() as u64;
            if n.max_properties.is_some_and(|mx| len > mx)
                || n.min_properties.is_some_and(|mn| len < mn)
            {
                return false;
            }
        }
        if let Value::Array(a) = v {
            for (i, x) in a.iter().enumerate() {
                if let Some(s) = n.prefix_items.get(i).copied().or(n.items) {
                    if !self.valid(s, x, depth + 1, w) {
                        return false;
                    }
                }
            }
            let len = a.len() as u64;
            if n.max_items.is_some_and(|mx| len > mx) || n.min_items.is_some_and(|mn| len < mn) {
                return false;
            }
            if n.unique_items && (!w.step(depth, a.len()) || !unique(a)) {
                return false;
            }
        }
        if !n.all_of.iter().all(|&s| self.valid(s, v, depth + 1, w)) {
            return false;
        }
        if !n.any_of.is_empty() && !n.any_of.iter().any(|&s| self.valid(s, v, depth + 1, w)) {
            return false;
        }
        if !n.one_of.is_empty()
            && n.one_of
                .iter()
                .filter(|&&s| self.valid(s, v, depth + 1, w))
                .count()
                != 1
        {
            return false;
        }
        if n.not.is_some_and(|s| self.valid(s, v, depth + 1, w)) {
            return false;
        }
        !w.over
    }

    fn check(
        &self,
        id: usize,
        v: &Value,
        place: &str,
        depth: usize,
        w: &mut Walk,
    ) -> Result<(), Violation> {
        let n = &self.nodes[id];
        if !w.step(depth, 1 + n.enumeration.as_ref().map_or(0, Vec::len)) {
            return Err(over_budget(place));
        }
        if let Some(always) = n.always {
            return if always {
                Ok(())
            } else {
                Err(self.rule(id, "must not be present".into(), place))
            };
        }
        if let Some(r) = n.reference {
            self.check(r, v, place, depth + 1, w)
                .map_err(|e| self.with_description(id, e, place))?;
        }
        let t = type_of(v);
        if n.types != 0 && n.types & t == 0 {
            return Err(self.rule(id, type_rule(n.types, v), place));
        }
        if let Some(values) = &n.enumeration {
            if !values.iter().any(|e| same(e, v)) {
                let list: Vec<String> = values.iter().take(12).map(shown).collect();
                let more = if values.len() > 12 { ", ..." } else { "" };
                return Err(self.rule(
                    id,
                    format!("must be one of {}{more}", list.join(", ")),
                    place,
                ));
            }
        }
        if let Some(c) = &n.constant {
            if !same(c, v) {
                return Err(self.rule(id, format!("must be {}", shown(c)), place));
            }
        }
        if let Value::Number(x) = v {
            if let Some((words, bound)) = Schema::number_rule(n, Num::of(x)) {
                return Err(self.rule(id, format!("must be {words} {}", number(bound)), place));
            }
        }
        if let Value::String(s) = v {
            let chars = s.chars().count() as u64;
            if n.max_length.is_some_and(|m| chars > m) {
                return Err(self.rule(
                    id,
                    format!(
                        "must be a string of at most {}",
                        count(n.max_length, "character")
                    ),
                    place,
                ));
            }
            if n.min_length.is_some_and(|m| chars < m) {
                return Err(self.rule(
                    id,
                    format!(
                        "must be a string of at least {}",
                        count(n.min_length, "character")
                    ),
                    place,
                ));
            }
            if let Some(re) = n.pattern.as_ref().filter(|re| !re.is_match(s)) {
                return Err(self.rule(
                    id,
                    format!("must be a string matching the pattern {}", re.as_str()),
                    place,
                ));
            }
        }
        if let Value::Object(m) = v {
            for r in &n.required {
                if !m.contains_key(r) {
                    return Err(Violation {
                        place: join(place, r),
                        rule: "is required".into(),
                    });
                }
            }
            for (name, x) in m {
                match n.property(name) {
                    Some(p) => self.check(p, x, &join(place, name), depth + 1, w)?,
                    None => match n.additional {
                        Additional::Any => {}
                        Additional::Forbidden => {
                            return Err(Violation {
                                place: join(place, name),
                                rule: String::new(),
                            })
                        }
                        Additional::Schema(s) => {
                            self.check(s, x, &join(place, name), depth + 1, w)?
                        }
                    },
                }
            }
            let len = m.len() as u64;
            if n.max_properties.is_some_and(|mx| len > mx) {
                return Err(self.rule(
                    id,
                    format!("must have at most {}", count(n.max_properties, "field")),
                    place,
                ));
            }
            if n.min_properties.is_some_and(|mn| len < mn) {
                return Err(self.rule(
                    id,
                    format!("must have at least {}", count(n.min_properties, "field")),
                    place,
                ));
            }
        }
        if let Value::Array(a) = v {
            for (i, x) in a.iter().enumerate() {
                let item = n.prefix_items.get(i).copied().or(n.items);
                if let Some(s) = item {
                    self.check(s, x, &join(place, &i.to_string()), depth + 1, w)?;
                }
            }
            let len = a.len() as u64;
            if n.max_items.is_some_and(|mx| len > mx) {
                return Err(self.rule(
                    id,
                    format!("must have at most {}", count(n.max_items, "item")),
                    place,
                ));
            }
            if n.min_items.is_some_and(|mn| len < mn) {
                return Err(self.rule(
                    id,
                    format!("must have at least {}", count(n.min_items, "item")),
                    place,
                ));
            }
            if n.unique_items {
                if !w.step(depth, a.len()) {
                    return Err(over_budget(place));
                }
                if !unique(a) {
                    return Err(self.rule(id, "must hold unique items".into(), place));
                }
            }
        }
        for &s in &n.all_of {
            self.check(s, v, place, depth + 1, w)?;
        }
        if !n.any_of.is_empty() {
            let mut errors: Vec<Violation> = Vec::new();
            for &s in &n.any_of {
                match self.check(s, v, place, depth + 1, w) {
                    Ok(()) => break,
                    Err(e) => errors.push(e),
                }
                if w.over {
                    return Err(over_budget(place));
                }
            }
            if errors.len() == n.any_of.len() {
                return Err(self.none_matched(id, errors, place));
            }
        }
        if !n.one_of.is_empty() {
            let mut errors: Vec<Violation> = Vec::new();
            for &s in &n.one_of {
                if let Err(e) = self.check(s, v, place, depth + 1, w) {
                    errors.push(e);
                }
                if w.over {
                    return Err(over_budget(place));
                }
            }
            let matched = n.one_of.len() - errors.len();
            if matched == 0 {
                return Err(self.none_matched(id, errors, place));
            }
            if matched > 1 {
                return Err(self.rule(
                    id,
                    "must match exactly one of its alternatives".into(),
                    place,
                ));
            }
        }
        if let Some(s) = n.not {
            let r = self.check(s, v, place, depth + 1, w);
            if w.over {
                return Err(over_budget(place));
            }
            if r.is_ok() {
                return Err(self.rule(id, "must not match the schema under 'not'".into(), place));
            }
        }
        Ok(())
    }

    /// A referenced schema's violation at this very place, told with the referring node's
    /// description when it has one and the referenced one did not say.
    fn with_description(&self, id: usize, e: Violation, place: &str) -> Violation {
        match &self.nodes[id].description {
            Some(d) if e.place == place && !e.rule.ends_with(')') => Violation {
                rule: format!("{} ({d})", e.rule),
                ..e
            },
            _ => e,
        }
    }

    /// No alternative matched: alternatives that each failed on this very place for a rule of
    /// their own are told together (`must be a string or null`); otherwise the problem found
    /// deepest in the value is told.
    fn none_matched(&self, id: usize, errors: Vec<Violation>, place: &str) -> Violation {
        if errors
            .iter()
            .all(|e| e.place == place && e.rule.starts_with("must be "))
        {
            let mut parts: Vec<String> = Vec::new();
            for e in &errors {
                let what = e.rule.trim_start_matches("must be ").to_string();
                if !parts.contains(&what) {
                    parts.push(what);
                }
            }
            return self.rule(id, format!("must be {}", parts.join(" or ")), place);
        }
        errors
            .into_iter()
            .max_by_key(|e| e.place.len())
            .unwrap_or_else(|| self.rule(id, "is not valid".into(), place))
    }

    /// Whether the node is a vital (`Some(true)`), an object to look into (`Some(false)`), or
    /// neither (`None`).
    fn vital_kind(&self, id: usize, marked: bool) -> Option<bool> {
        let direct =
            self.nodes[id].vital || self.target(id) != id && self.nodes[self.target(id)].vital;
        let obj = self.object_node(id)?;
        Some(if marked {
            direct || self.nodes[obj].vital
        } else {
            ["cur", "max"].iter().all(|f| {
                self.nodes[obj].properties.iter().any(|(k, p)| {
                    k == f && self.nodes[self.target(*p)].types & Type::Integer as u8 != 0
                })
            })
        })
    }

    /// The vitals: objects marked `x-vital: true`, or, in a schema that marks none, every object
    /// whose properties include integer `cur` and `max`. Found by walking the properties from
    /// the root (not into arrays), 8 levels deep: every place of the first two levels (where
    /// the vitals must be), past them each schema node once per level (a recursive schema has
    /// endless places), and no further once more vitals are found than a schema may declare.
    fn find_vitals(&self) -> Result<Vec<VitalDecl>, LoadError> {
        const MOST_SHOWN: usize = 4 * crate::vitals::MAX_VITALS;
        const MOST_VISITS: usize = 1_000_000;
        let marked = self.nodes.iter().any(|n| n.vital);
        let mut out = Vec::new();
        let mut stack: Vec<(usize, Vec<String>, Option<Value>)> =
            vec![(self.root, Vec::new(), None)];
        let mut seen: HashSet<(usize, usize)> = HashSet::new();
        let mut visits = 0usize;
        while let Some((id, path, dflt)) = stack.pop() {
            if path.len() > 8
                || out.len() > MOST_SHOWN
                || path.len() > 2 && !seen.insert((id, path.len()))
            {
                continue;
            }
            visits += 1;
            if visits > MOST_VISITS {
                return Err(LoadError(format!("the schema has more than {MOST_VISITS} places within 8 levels of the root to look for vitals in")));
            }
            let Some(is_vital) = self.vital_kind(id, marked) else {
                continue;
            };
            if is_vital && !path.is_empty() {
                out.push(VitalDecl {
                    name: path.last().cloned().unwrap_or_default(),
                    path,
                    default: dflt.or_else(|| self.default_of(id)),
                });
                continue;
            }
            let Some(obj) = self.object_node(id) else {
                continue;
            };
            for (name, p) in self.nodes[obj].properties.iter().rev() {
                let mut next = path.clone();
                next.push(name.clone());
                stack.push((*p, next, self.nodes[*p].default.clone()));
            }
        }
        out.sort_by_key(|v| {
            // Keep the schema's own order of declaration.
            self.order_of(&v.path)
        });
        Ok(out)
    }

    fn order_of(&self, path: &[String]) -> Vec<usize> {
        let mut id = self.root;
        let mut out = Vec::new();
        for seg in path {
            let Some(obj) = self.object_node(id) else {
                break;
            };
            let props = &self.nodes[obj].properties;
            let Some(i) = props.iter().position(|(k, _)| k == seg) else {
                break;
            };
            out.push(i);
            id = props[i].1;
        }
        out
    }
}

/// What ACCOUNT.INCR may add at a place.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumberKind {
    Integer,
    Number,
    NotANumber,
}

/// Where a path leads in the schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A place the schema describes.
    Node(PlaceRef),
    /// A place the schema leaves open (no `additionalProperties: false` on the way).
    Open,
    /// The object at this dotted place forbids the member the path names.
    Forbidden(String),
    /// The dotted place on the way is described as something that has no members.
    NotAnObject(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaceRef(usize);

/// JSON equality as JSON Schema defines it: numbers by value, exactly (`1` equals `1.0`;
/// `9007199254740993` is not `9007199254740992`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            cmp_num(Num::of(x), Num::of(y)) == Some(Ordering::Equal)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, p)| y.get(k).is_some_and(|q| same(p, q)))
        }
        _ => a == b,
    }
}

/// `uniqueItems`: no two items `same`, found through a canonical text of each item (numbers by
/// exact value, members sorted by name): linear in the array, not quadratic.
fn unique(a: &[Value]) -> bool {
    let mut seen = HashSet::with_capacity(a.len());
    a.iter().all(|x| {
        let mut key = String::new();
        canonical(x, &mut key);
        seen.insert(key)
    })
}

fn canonical(v: &Value, out: &mut String) {
    match v {
        Value::Number(n) => match Num::of(n) {
            Num::Int(i) => out.push_str(&i.to_string()),
            f => match f.exact_int() {
                Some(i) => out.push_str(&i.to_string()),
                None => out.push_str(&format!("{:?}", f.as_f64())),
            },
        },
        Value::Array(a) => {
            out.push('[');
            for x in a {
                canonical(x, out);
                out.push(',');
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|p, q| p.0.cmp(q.0));
            out.push('{');
            for (k, x) in members {
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical(x, out);
                out.push(',');
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> Schema {
        Schema::compile(&v).unwrap()
    }

    fn err(s: &Schema, v: Value) -> String {
        s.validate(&v).unwrap_err().text()
    }

    /// An object built without serializing its members (`json!` would, recursively).
    fn obj<const N: usize>(members: [(&str, Value); N]) -> Value {
        Value::Object(
            members
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    fn refused(v: Value) -> String {
        Schema::compile(&v).map(|_| ()).unwrap_err().0
    }

    /// A schema under `properties.x` of an object root.
    fn at_x(x: Value) -> Value {
        json!({"type": "object", "properties": {"x": x}})
    }

    #[test]
    fn cycles_that_consume_no_document_depth_are_refused_with_their_pointers() {
        let cycle = "a cycle of references that never goes down into the document";
        assert_eq!(
            refused(at_x(json!({"$ref": "#/properties/x"}))),
            format!("{cycle} (#/properties/x -> #/properties/x) at '/properties/x'")
        );
        assert_eq!(
            refused(
                json!({"type": "object", "$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}})
            ),
            format!("{cycle} (#/$defs/a -> #/$defs/b -> #/$defs/a) at '/$defs/a'")
        );
        for k in ["anyOf", "oneOf", "allOf"] {
            let e = refused(at_x(json!({k: [{"$ref": "#/properties/x"}]})));
            assert_eq!(e, format!("{cycle} (#/properties/x -> #/properties/x/{k}/0 -> #/properties/x) at '/properties/x'"), "{k}");
        }
        assert_eq!(
            refused(at_x(json!({"not": {"$ref": "#/properties/x"}}))),
            format!("{cycle} (#/properties/x -> #/properties/x/not -> #/properties/x) at '/properties/x'")
        );
        assert_eq!(
            refused(json!({"type": "object", "$ref": "#"})),
            format!("{cycle} (# -> #) at the root")
        );
        for t in ["integer", "object"] {
            let e = refused(at_x(json!({"type": t, "$ref": "#/properties/x"})));
            assert_eq!(
                e,
                format!("{cycle} (#/properties/x -> #/properties/x) at '/properties/x'"),
                "{t}"
            );
        }
        // items, prefixItems and additionalProperties whose schema is itself.
        for (k, inner) in [
            ("items", "items"),
            ("prefixItems", "prefixItems/0"),
            ("additionalProperties", "additionalProperties"),
        ] {
            let sub = json!({"$ref": format!("#/properties/x/{inner}")});
            let x = if k == "prefixItems" {
                json!({k: [sub]})
            } else {
                json!({k: sub})
            };
            let e = refused(at_x(x));
            assert_eq!(e, format!("{cycle} (#/properties/x/{inner} -> #/properties/x/{inner}) at '/properties/x/{inner}'"), "{k}");
        }
    }

    #[test]
    fn recursion_one_document_level_down_each_turn_loads_and_every_walk_ends() {
        // pydantic's self-referencing model, Optional[Node].
        let s = schema(json!({
            "$defs": {"Node": {"type": "object", "properties": {
                "v": {"type": "integer", "default": 0},
                "next": {"anyOf": [{"$ref": "#/$defs/Node"}, {"type": "null"}], "default": null}}}},
            "type": "object",
            "properties": {"list": {"$ref": "#/$defs/Node"}, "tree": {"type": "array", "items": {"$ref": "#/properties/tree"}},
                "pair": {"type": "array", "prefixItems": [{"$ref": "#/properties/pair"}]},
                "map": {"type": "object", "properties": {"n": {"type": "integer"}}, "additionalProperties": {"$ref": "#/properties/map"}}}
        }));
        let mut chain = json!({"v": 1.0});
        for i in 0..30 {
            chain = json!({"v": i, "next": chain});
        }
        let doc =
            json!({"list": chain, "tree": [[[], [[]]]], "pair": [[[]]], "map": {"a": {"b": {}}}});
        assert!(s.validate(&doc).is_ok());
        assert!(s.needs_fill(&doc));
        let mut filled = doc.clone();
        s.fill_defaults(&mut filled);
        assert!(!s.needs_fill(&filled));
        assert_eq!(filled["list"]["next"]["v"], json!(28));
        let mut last = &filled["list"];
        for _ in 0..30 {
            last = &last["next"];
        }
        assert_eq!(
            last.to_string(),
            r#"{"v":1,"next":null}"#,
            "the innermost node got its default and its integer"
        );
        assert_eq!(
            err(&s, json!({"list": {"next": {"next": {"v": "x"}}}})),
            "list.next.next.v must be an integer"
        );
        assert_eq!(err(&s, json!({"tree": [[1]]})), "tree.0.0 must be an array");
        assert_eq!(
            err(&s, json!({"map": {"a": {"b": 1}}})),
            "map.a.b must be an object"
        );
        // A document deeper than any walk goes (built, not parsed: a parse stops at 128 levels).
        let mut deep = json!([]);
        for _ in 0..5000 {
            deep = Value::Array(vec![deep]);
        }
        let doc = obj([("tree", deep)]);
        let e = s.validate(&doc).unwrap_err();
        assert_eq!(
            e.rule,
            "cannot be checked against the schema within 1024 levels and 1000000 steps"
        );
        assert!(
            e.place.starts_with("tree.0.0.0.0") && e.place.len() <= "tree".len() + 2 * 1024,
            "where the walk ran out: {}",
            e.place
        );
        let mut map = json!({});
        for _ in 0..5000 {
            map = obj([("a", map), ("n", json!(1))]);
        }
        let mut d = obj([("map", map)]);
        assert!(
            s.needs_fill(&d),
            "past the walk's depth the parsed way decides"
        );
        s.fill_defaults(&mut d);
        assert!(s.validate(&d).is_err());
        // Dropping 5000 levels recurses in serde_json: taken apart without recursion instead.
        drop_deep(d);
        drop_deep(doc);
    }

    /// Frees a deeply nested value without recursion (serde_json's own drop recurses).
    fn drop_deep(v: Value) {
        let mut stack = vec![v];
        while let Some(v) = stack.pop() {
            match v {
                Value::Array(a) => stack.extend(a),
                Value::Object(m) => stack.extend(m.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
    }

    #[test]
    fn the_walks_fit_a_small_stack() {
        // Validation, its error text, filling and needs_fill at the deepest walk, on a thread
        // with 1 MiB of stack in an optimized build (a Redis main thread has 8 MiB).
        let stack = if cfg!(debug_assertions) {
            8 << 20
        } else {
            1 << 20
        };
        let t = std::thread::Builder::new().stack_size(stack).spawn(|| {
            let s = schema(json!({"type": "object", "properties": {"t": {"$ref": "#/$defs/T"}},
                "$defs": {"T": {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/T"}}, {"type": "integer"}]}}}));
            let mut deep = json!("x");
            for _ in 0..600 {
                deep = Value::Array(vec![deep]);
            }
            let doc = obj([("t", deep)]);
            let e = s.validate(&doc).unwrap_err().text();
            assert!(e.contains("cannot be checked") || e.contains("must be"), "{e}");
            let mut d = doc;
            s.fill_defaults(&mut d);
            let _ = s.needs_fill(&d);
            drop_deep(d);
        });
        t.unwrap().join().unwrap();
    }

    #[test]
    fn long_chains_and_big_schemas_are_refused_quickly() {
        let start = std::time::Instant::now();
        // 4,593 $ref links (the acyclic chain that overflowed the stack at load).
        let mut defs = Map::new();
        for i in 0..4593 {
            defs.insert(
                format!("d{i}"),
                json!({"$ref": format!("#/$defs/d{}", i + 1)}),
            );
        }
        defs.insert("d4593".into(), json!({"type": "integer"}));
        let e = refused(
            json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}),
        );
        assert!(e.starts_with("more than 64 references and applicators in a row without going down into the document at '/$defs/d"), "{e}");
        // 64 in a row load.
        let mut defs = Map::new();
        for i in 0..62 {
            defs.insert(
                format!("d{i}"),
                json!({"$ref": format!("#/$defs/d{}", i + 1)}),
            );
        }
        defs.insert("d62".into(), json!({"type": "integer"}));
        let s = schema(
            json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}),
        );
        assert_eq!(err(&s, json!({"x": "a"})), "x must be an integer");
        // Past the node budget.
        let many: Vec<Value> = (0..25_000).map(|_| json!({})).collect();
        assert_eq!(
            refused(json!({"type": "object", "anyOf": many})),
            "the schema has more than 20000 schema objects (the most the module compiles) at '/anyOf/19999'"
        );
        // The root with 8 properties each the root again: linear, not 8^8.
        let props: Map<String, Value> = (0..8)
            .map(|i| (format!("p{i}"), json!({"$ref": "#"})))
            .collect();
        let s = schema(json!({"type": "object", "properties": props}));
        assert!(s.validate(&json!({"p0": {"p1": {"p7": {}}}})).is_ok());
        assert!(s.vitals.is_empty());
        assert!(
            // Not a speed measure: an exponential walk would take hours; the bound leaves room
            // for valgrind (make unit-leaks, ~50x slower) on a shared 2-core machine.
            start.elapsed() < std::time::Duration::from_secs(120),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn fan_out_cannot_make_a_walk_exponential() {
        // Each level: anyOf of the next level twice; the last level refuses everything, so every
        // branch is tried: 2^30 paths without the step budget.
        let mut defs = Map::new();
        for i in 0..30 {
            let next = format!("#/$defs/d{}", i + 1);
            defs.insert(
                format!("d{i}"),
                json!({"anyOf": [{"$ref": next}, {"$ref": next}]}),
            );
        }
        defs.insert("d30".into(), json!(false));
        let s = schema(
            json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}),
        );
        let start = std::time::Instant::now();
        assert_eq!(
            err(&s, json!({"x": 1})),
            "x cannot be checked against the schema within 1024 levels and 1000000 steps"
        );
        assert!(
            // Not a speed measure: an exponential walk would take hours; the bound leaves room
            // for valgrind (make unit-leaks, ~50x slower) on a shared 2-core machine.
            start.elapsed() < std::time::Duration::from_secs(120),
            "{:?}",
            start.elapsed()
        );
        // uniqueItems over a long array: linear.
        let s = schema(
            json!({"type": "object", "properties": {"u": {"type": "array", "uniqueItems": true}}}),
        );
        let mut items: Vec<Value> = (0..100_000).map(Value::from).collect();
        assert!(s.validate(&json!({"u": items.clone()})).is_ok());
        items.push(json!(5.0));
        assert_eq!(err(&s, json!({"u": items})), "u must hold unique items");
        assert_eq!(
            err(
                &s,
                json!({"u": [{"a": 1, "b": [1.0]}, {"b": [1], "a": 1.0}]})
            ),
            "u must hold unique items"
        );
        assert!(s
            .validate(&json!({"u": [9007199254740993u64, 9007199254740992.0, 0.5, "0.5"]}))
            .is_ok());
    }

    #[test]
    fn defaults_are_checked_at_load() {
        assert_eq!(
            refused(at_x(json!({"type": "integer", "default": 18446744073709551615u64}))),
            "the default 18446744073709551615 breaks its own schema: must be an integer from -9223372036854775808 to 9223372036854775807 at '/properties/x/default'"
        );
        assert_eq!(
            refused(at_x(json!({"type": "object", "properties": {"n": {"type": "string"}}, "default": {"n": 1}}))),
            "the default {\"n\":1} breaks its own schema: n must be a string at '/properties/x/default'"
        );
        // A default that holds itself through its members' defaults never ends.
        let e = refused(
            json!({"type": "object", "properties": {"x": {"$ref": "#/$defs/N"}},
            "$defs": {"N": {"type": "object", "default": {}, "properties": {"next": {"$ref": "#/$defs/N"}}}}}),
        );
        assert_eq!(e, "filling in the default never ends: it holds itself through its members' defaults at '/$defs/N/default'");
        // Fan-out of defaults: 8 members, each 8 members, ... 8^12 values.
        let mut defs = Map::new();
        for i in 0..12 {
            let props: Map<String, Value> = (0..8)
                .map(|j| {
                    (
                        format!("m{j}"),
                        json!({"$ref": format!("#/$defs/d{}", i + 1)}),
                    )
                })
                .collect();
            defs.insert(
                format!("d{i}"),
                json!({"type": "object", "default": {}, "properties": props}),
            );
        }
        defs.insert("d12".into(), json!({"type": "integer", "default": 1}));
        let e = refused(
            json!({"type": "object", "$defs": defs, "properties": {"x": {"$ref": "#/$defs/d0"}}}),
        );
        assert!(
            e.starts_with("the schema's defaults make more than 200000 values at"),
            "{e}"
        );
        // Defaults that keep their schema load, filled once.
        let s = schema(at_x(
            json!({"type": "object", "default": {}, "properties": {"n": {"type": "integer", "default": 3.0}}}),
        ));
        assert_eq!(s.default_at(&["x".to_string()]), Some(json!({"n": 3})));
    }

    #[test]
    fn numbers_compare_exactly() {
        let s = schema(at_x(
            json!({"enum": [9007199254740993u64, 18446744073709551615u64, -9223372036854775808i64]}),
        ));
        assert_eq!(
            err(&s, json!({"x": 9007199254740992u64})),
            "x must be one of 9007199254740993, 18446744073709551615, -9223372036854775808"
        );
        assert_eq!(
            err(&s, json!({"x": 9007199254740992.0})),
            "x must be one of 9007199254740993, 18446744073709551615, -9223372036854775808"
        );
        assert_eq!(
            err(&s, json!({"x": 18446744073709551614u64})),
            "x must be one of 9007199254740993, 18446744073709551615, -9223372036854775808"
        );
        for ok in [
            json!(9007199254740993u64),
            json!(18446744073709551615u64),
            json!(-9223372036854775808i64),
            json!(-9223372036854775808.0),
        ] {
            assert!(s.validate(&json!({"x": ok})).is_ok(), "{ok}");
        }
        let s = schema(at_x(json!({"const": 9007199254740993u64})));
        assert_eq!(
            err(&s, json!({"x": 9007199254740992u64})),
            "x must be 9007199254740993"
        );
        let s = schema(at_x(
            json!({"minimum": 9007199254740993u64, "exclusiveMaximum": 18446744073709551615u64}),
        ));
        assert_eq!(
            err(&s, json!({"x": 9007199254740992u64})),
            "x must be at least 9007199254740993"
        );
        assert_eq!(
            err(&s, json!({"x": 9007199254740992.0})),
            "x must be at least 9007199254740993"
        );
        assert_eq!(
            err(&s, json!({"x": 18446744073709551615u64})),
            "x must be less than 18446744073709551615"
        );
        assert!(s.validate(&json!({"x": 9007199254740993u64})).is_ok());
        assert!(s.validate(&json!({"x": 18446744073709551614u64})).is_ok());
        let s = schema(at_x(
            json!({"maximum": 0.5, "exclusiveMinimum": -9223372036854775808i64}),
        ));
        assert_eq!(err(&s, json!({"x": 1})), "x must be at most 0.5");
        assert_eq!(
            err(&s, json!({"x": -9223372036854775808i64})),
            "x must be greater than -9223372036854775808"
        );
        assert!(s.validate(&json!({"x": 0})).is_ok());
        assert!(s.validate(&json!({"x": -9223372036854775807i64})).is_ok());
        // multipleOf: exact on integers, relative on doubles.
        let s = schema(at_x(json!({"multipleOf": 1e10})));
        assert_eq!(
            err(&s, json!({"x": 1})),
            "x must be a multiple of 10000000000"
        );
        assert_eq!(
            err(&s, json!({"x": 5})),
            "x must be a multiple of 10000000000"
        );
        assert_eq!(
            err(&s, json!({"x": 10000000001i64})),
            "x must be a multiple of 10000000000"
        );
        assert!(s.validate(&json!({"x": 0})).is_ok());
        assert!(s.validate(&json!({"x": 20000000000i64})).is_ok());
        assert!(s.validate(&json!({"x": -3e10})).is_ok());
        let s = schema(at_x(json!({"multipleOf": 3})));
        assert!(s.validate(&json!({"x": 9223372036854775806i64})).is_ok());
        assert_eq!(
            err(&s, json!({"x": 9223372036854775807i64})),
            "x must be a multiple of 3"
        );
        assert_eq!(
            err(&s, json!({"x": 18446744073709551614u64})),
            "x must be a multiple of 3"
        );
        let s = schema(at_x(json!({"multipleOf": 0.1})));
        for ok in [0.3, -0.3, 0.7, 1e-1, 123456.7, 0.0] {
            assert!(s.validate(&json!({"x": ok})).is_ok(), "{ok}");
        }
        for no in [0.35, 1e-20, 0.1000001] {
            assert_eq!(
                err(&s, json!({"x": no})),
                "x must be a multiple of 0.1",
                "{no}"
            );
        }
    }

    #[test]
    fn unknown_keywords_are_refused_with_their_place() {
        let e = Schema::compile(&json!({"type": "object", "properties": {"a": {"type": "object", "patternProperties": {"^x": {}}}}})).unwrap_err();
        assert_eq!(
            e.0,
            "unsupported keyword 'patternProperties' at '/properties/a'"
        );
        let e =
            Schema::compile(&json!({"$defs": {"X": {"if": {}}}, "type": "object"})).unwrap_err();
        assert_eq!(e.0, "unsupported keyword 'if' at '/$defs/X'");
        let e = Schema::compile(
            &json!({"type": "object", "properties": {"a": {"$ref": "other.json#/x"}}}),
        )
        .unwrap_err();
        assert_eq!(e.0, "'$ref' 'other.json#/x' is not local: only references into this schema (#/...) are supported at '/properties/a/$ref'");
        let e = Schema::compile(
            &json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/Nope"}}}),
        )
        .unwrap_err();
        assert_eq!(
            e.0,
            "'$ref' '#/$defs/Nope' points to nothing at '/properties/a/$ref'"
        );
        let e = Schema::compile(&json!({"type": "object", "properties": {"a": {"type": "text"}}}))
            .unwrap_err();
        assert_eq!(
            e.0,
            "'type' must be a type name or an array of them at '/properties/a/type'"
        );
        let e = Schema::compile(&json!({"type": "object", "properties": {"a": {"maxLength": -1}}}))
            .unwrap_err();
        assert_eq!(
            e.0,
            "'maxLength' must be a non-negative integer at '/properties/a/maxLength'"
        );
        assert_eq!(
            Schema::compile(&json!({"type": "string"})).unwrap_err().0,
            "the schema must describe an object (type: object, or properties) at the root"
        );
        assert_eq!(
            Schema::parse(b"{").unwrap_err().0,
            "not valid JSON: EOF while parsing an object at line 1 column 1"
        );
    }

    #[test]
    fn types_nullable_unions_and_messages() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "name": {"anyOf": [{"type": "string", "maxLength": 4}, {"type": "null"}], "description": "the hero's name"},
                "level": {"type": "integer", "minimum": 1, "maximum": 99},
                "rate": {"type": ["number", "null"], "exclusiveMinimum": 0},
                "kind": {"enum": ["a", "b"]},
                "tag": {"const": "x"},
                "list": {"type": "array", "items": {"type": "integer"}, "maxItems": 2, "uniqueItems": true}
            },
            "required": ["level"]
        }));
        assert!(s
            .validate(&json!({"level": 5, "name": null, "rate": null}))
            .is_ok());
        assert!(
            s.validate(&json!({"level": 5.0, "other": [1]})).is_ok(),
            "integral numbers are integers; open by default"
        );
        assert_eq!(err(&s, json!({})), "level is required");
        assert_eq!(err(&s, json!({"level": 1.5})), "level must be an integer");
        assert_eq!(err(&s, json!({"level": 0})), "level must be at least 1");
        assert_eq!(err(&s, json!({"level": 100})), "level must be at most 99");
        assert_eq!(
            err(&s, json!({"level": 1, "name": 5})),
            "name must be a string or null (the hero's name)"
        );
        assert_eq!(
            err(&s, json!({"level": 1, "name": "Aragorn"})),
            "name must be a string of at most 4 characters or null (the hero's name)"
        );
        assert_eq!(
            err(&s, json!({"level": 1, "rate": 0})),
            "rate must be greater than 0"
        );
        assert_eq!(
            err(&s, json!({"level": 1, "kind": "c"})),
            r#"kind must be one of "a", "b""#
        );
        assert_eq!(
            err(&s, json!({"level": 1, "tag": "y"})),
            r#"tag must be "x""#
        );
        assert_eq!(
            err(&s, json!({"level": 1, "list": [1, "2"]})),
            "list.1 must be an integer"
        );
        assert_eq!(
            err(&s, json!({"level": 1, "list": [1, 2, 3]})),
            "list must have at most 2 items"
        );
        assert_eq!(
            err(&s, json!({"level": 1, "list": [1, 1.0]})),
            "list must hold unique items"
        );
        assert_eq!(err(&s, json!([])), "the document must be an object");
    }

    #[test]
    fn refs_defs_additional_properties_and_paths() {
        let s = schema(json!({
            "$defs": {"Bio": {"type": "object", "properties": {"name": {"type": "string"}}, "additionalProperties": false}},
            "type": "object",
            "properties": {"bio": {"$ref": "#/$defs/Bio"}, "tags": {"type": "object", "additionalProperties": {"type": "integer"}}}
        }));
        assert!(s
            .validate(&json!({"bio": {"name": "x"}, "tags": {"a": 1}}))
            .is_ok());
        assert_eq!(
            err(&s, json!({"bio": {"age": 3}})),
            "unknown field 'bio.age'"
        );
        assert_eq!(
            err(&s, json!({"tags": {"a": "x"}})),
            "tags.a must be an integer"
        );
        let p = |t: &str| t.split('.').map(String::from).collect::<Vec<_>>();
        assert!(matches!(s.at(&p("bio.name")), Place::Node(_)));
        assert_eq!(s.at(&p("bio.age")), Place::Forbidden("bio.age".into()));
        assert_eq!(
            s.at(&p("bio.name.x")),
            Place::NotAnObject("bio.name".into())
        );
        assert_eq!(s.at(&p("active_quest")), Place::Open);
        assert!(matches!(s.at(&p("tags.z")), Place::Node(_)));
        assert_eq!(
            s.validate_at(&p("bio.name"), &json!(3)).unwrap_err().text(),
            "bio.name must be a string"
        );
        assert_eq!(
            s.validate_at(&p("tags.z"), &json!("x")).unwrap_err().text(),
            "tags.z must be an integer"
        );
        assert!(s.validate_at(&p("anything.else"), &json!({"x": 1})).is_ok());
    }

    #[test]
    fn defaults_fill_in_schema_order_and_integers_are_stored_as_integers() {
        let s = schema(json!({
            "type": "object",
            "properties": {
                "state": {"type": "string", "default": "onboarding"},
                "bio": {"type": "object", "default": {}, "properties": {"name": {"type": ["string", "null"], "default": null}}},
                "luck": {"type": "integer", "default": 8}
            }
        }));
        let mut d = json!({"extra": 1, "luck": -0.0});
        s.fill_defaults(&mut d);
        assert_eq!(
            d.to_string(),
            r#"{"state":"onboarding","bio":{"name":null},"luck":0,"extra":1}"#
        );
        assert_eq!(
            s.default_at(&["bio".to_string()]),
            Some(json!({"name": null}))
        );
    }

    #[test]
    fn needs_fill_says_whether_fill_would_change_the_text() {
        // The shapes pydantic emits: $ref'd models, Optional as anyOf with null, integers with
        // defaults, a dict field open to anything.
        let s = schema(json!({
            "$defs": {
                "Bio": {"type": "object", "properties": {
                    "name": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": null},
                    "level": {"type": "integer", "default": 1}}},
                "Vital": {"type": "object", "properties": {"cur": {"type": "integer"}, "max": {"type": "integer"}}}
            },
            "type": "object",
            "properties": {
                "state": {"type": "string", "default": "onboarding"},
                "bio": {"$ref": "#/$defs/Bio", "default": {}},
                "hp": {"anyOf": [{"$ref": "#/$defs/Vital"}, {"type": "null"}], "default": null},
                "tags": {"type": "object", "additionalProperties": {"type": "integer"}},
                "free": {"type": "object"}
            }
        }));
        let docs = [
            json!({"state": "x", "bio": {"name": null, "level": 2}, "hp": null}),
            json!({"state": "x", "bio": {"name": "a", "level": 2}, "hp": {"cur": 1, "max": 2}, "tags": {"a": 1}, "free": {"z": 1.0}}),
            json!({"bio": {"name": null, "level": 2}, "hp": null}),
            json!({"state": "x", "bio": {"level": 2}, "hp": null}),
            json!({"state": "x", "bio": {"name": null, "level": 2.0}, "hp": null}),
            json!({"state": "x", "bio": {"name": null, "level": 2.5}, "hp": null}),
            json!({"state": "x", "bio": {"name": null, "level": 2}, "hp": {"cur": 3.0, "max": 4}}),
            json!({"state": "x", "bio": {"name": null, "level": 2}, "hp": null, "tags": {"a": 7.0}}),
            json!({"state": "x", "bio": {"name": null, "level": 2}, "hp": null, "tags": {"a": 7}, "extra": {"level": 1.0}}),
            json!({"state": "x", "bio": 5, "hp": null}),
            json!([1, 2]),
        ];
        for d in docs {
            let text = d.to_string();
            let mut filled = serde_json::from_str::<Value>(&text).unwrap();
            s.fill_defaults(&mut filled);
            let changes = filled.to_string() != text;
            assert_eq!(
                s.needs_fill(crate::text::Text::new(text.as_bytes())),
                changes,
                "{text}"
            );
            assert_eq!(s.needs_fill(&d), changes, "{text}");
        }
    }

    #[test]
    fn pattern_matches_anywhere_and_says_which() {
        let s = schema(json!({"type": "object", "properties": {
            "loc": {"type": "string", "pattern": "^\\d+_\\d+$"},
            "tag": {"anyOf": [{"type": "string", "pattern": "ab"}, {"type": "null"}]}}}));
        assert!(s.validate(&json!({"loc": "52_52", "tag": "xaby"})).is_ok());
        assert!(s.validate(&json!({"loc": "52_52", "tag": null})).is_ok());
        assert_eq!(
            err(&s, json!({"loc": "town"})),
            "loc must be a string matching the pattern ^\\d+_\\d+$"
        );
        assert!(err(&s, json!({"tag": "ba"})).starts_with("tag must"));
        // Numbers are not strings: pattern says nothing about them (type does).
        let loose = schema(json!({"type": "object", "properties": {"any": {"pattern": "^x"}}}));
        assert!(loose.validate(&json!({"any": 5})).is_ok());
        assert!(loose.validate(&json!({"any": "y"})).is_err());
        let e = Schema::compile(&json!({"properties": {"a": {"pattern": "(?=x)"}}})).unwrap_err();
        assert!(
            e.0.starts_with("'pattern' is not a regular expression the module reads (look-around"),
            "{}",
            e.0
        );
    }

    #[test]
    fn top_default_is_what_fill_adds_at_the_root() {
        let s = schema(json!({
            "type": "object",
            "properties": {"bio": {"type": "object", "default": {}, "properties": {"name": {"type": ["string", "null"], "default": null}}}},
            "allOf": [{"properties": {"extra": {"type": "object", "default": {"seed": 1}}}}],
            "additionalProperties": {"type": "object", "default": {"seed": 2}}
        }));
        let mut d = json!({});
        s.fill_defaults(&mut d);
        assert_eq!(d, json!({"bio": {"name": null}}));
        assert_eq!(s.top_default("bio"), Some(json!({"name": null})));
        assert_eq!(s.top_default("extra"), None);
        assert_eq!(s.top_default("other"), None);
    }

    #[test]
    fn names_with_escapes_take_the_parsed_way() {
        let s = schema(json!({"type": "object", "properties": {
            "q\"x": {"type": "object", "properties": {"n": {"type": "integer", "default": 1}}},
            "i\\j": {"type": "integer"}}}));
        for text in [r#"{"q\"x":{}}"#, r#"{"i\\j":3.0}"#, r#"{"i\\j":3}"#] {
            let mut filled: Value = serde_json::from_str(text).unwrap();
            s.fill_defaults(&mut filled);
            let changes = filled.to_string() != text;
            // A name with a backslash is never trusted to need nothing: the text is parsed.
            assert!(
                s.needs_fill(crate::text::Text::new(text.as_bytes())),
                "{text}"
            );
            assert!(
                s.needs_fill(&serde_json::from_str::<Value>(text).unwrap()) || !changes,
                "{text}"
            );
        }
    }

    #[test]
    fn vitals_are_marked_or_found_by_shape() {
        let vital = json!({"type": "object", "properties": {"cur": {"type": "integer"}, "max": {"type": "integer"}, "regen": {"type": "number"}}});
        let s = schema(
            json!({"$defs": {"V": vital}, "type": "object", "properties": {"stats": {"type": "object", "properties": {
            "hp": {"$ref": "#/$defs/V", "default": {"cur": 100, "max": 100, "regen": 1.0}}, "mp": {"$ref": "#/$defs/V"}}}}}),
        );
        let names: Vec<_> = s
            .vitals
            .iter()
            .map(|v| (v.path.join("."), v.default.clone()))
            .collect();
        assert_eq!(
            names,
            vec![
                (
                    "stats.hp".to_string(),
                    Some(json!({"cur": 100, "max": 100, "regen": 1.0}))
                ),
                ("stats.mp".to_string(), None)
            ]
        );
        // Marked: only the marked ones.
        let s = schema(json!({"type": "object", "properties": {
            "rage": {"type": "object", "x-vital": true, "properties": {"cur": {"type": "integer"}}},
            "shield": vital}}));
        assert_eq!(
            s.vitals.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            vec!["rage"]
        );
    }
}
