//! Read-only access to RedisJSON documents through RedisJSON's shared C API ("RedisJSON_V5"),
//! used on the hot paths instead of `RM_Call JSON.GET` (no JSONPath compilation, no
//! serialization, no parse). Objects are walked with the key/value iterator (V4), which
//! allocates two strings per field it yields; a section read whole (the stats: 17 fields) is
//! taken as one serialized text (`getJSON`) and read in place (`text.rs`, `printed.rs`).
//!
//! The struct below is RedisJSON's `RedisJSONAPI` as its header `rejson_api.h` declares it in
//! every release from 2.8.0 to 8.2.11 (the header's body is the same in all of them, 7.99.x
//! included: only its licence comment changed in 8.0; checked against the tags' headers). From
//! 8.4.0 (`RedisJSON_V6` and later) entries moved. Calling a layout that is not the loaded
//! module's is a crash, so the API is used only when `MODULE LIST` reports a verified version
//! and RedisJSON exports `RedisJSON_V5` but not `RedisJSON_V6`; otherwise, or with
//! `account.shared-api no`, `api()` is `None` and callers read through `RM_Call`.

use crate::rm::{self, Arg, Ctx, OwnedString};
use redis_module::raw;
use std::ffi::c_void;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_double, c_int, c_longlong};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::OnceLock;

type Json = *const c_void;
type Iter = *const c_void;
type RStr = *mut raw::RedisModuleString;

/// Every entry is an `unsafe extern "C" fn`: a call passes raw pointers that RedisJSON trusts
/// (a live context, a document pointer of a key still unchanged), which no Rust type checks.
#[repr(C)]
pub struct Api {
    // V1
    open_key: unsafe extern "C" fn(Ctx, RStr) -> Json,
    _open_key_from_str: unsafe extern "C" fn(Ctx, *const c_char) -> Json,
    _get: unsafe extern "C" fn(Json, *const c_char) -> Iter,
    _next: unsafe extern "C" fn(Iter) -> Json,
    _len: unsafe extern "C" fn(Iter) -> usize,
    _free_iter: unsafe extern "C" fn(Iter),
    _get_at: unsafe extern "C" fn(Json, usize) -> Json,
    _get_len: unsafe extern "C" fn(Json, *mut usize) -> c_int,
    get_type: unsafe extern "C" fn(Json) -> c_int,
    get_int: unsafe extern "C" fn(Json, *mut c_longlong) -> c_int,
    get_double: unsafe extern "C" fn(Json, *mut c_double) -> c_int,
    _get_boolean: unsafe extern "C" fn(Json, *mut c_int) -> c_int,
    _get_string: unsafe extern "C" fn(Json, *mut *const c_char, *mut usize) -> c_int,
    get_json: unsafe extern "C" fn(Json, Ctx, *mut RStr) -> c_int,
    _is_json: unsafe extern "C" fn(*mut raw::RedisModuleKey) -> c_int,
    // V2
    _path_parse: unsafe extern "C" fn(*const c_char, Ctx, *mut RStr) -> *const c_void,
    _path_free: unsafe extern "C" fn(*const c_void),
    _path_is_single: unsafe extern "C" fn(*const c_void) -> c_int,
    _path_has_defined_order: unsafe extern "C" fn(*const c_void) -> c_int,
    // V3
    _get_json_from_iter: unsafe extern "C" fn(Iter, Ctx, *mut RStr) -> c_int,
    _reset_iter: unsafe extern "C" fn(Iter),
    // V4
    get_key_values: unsafe extern "C" fn(Json) -> Iter,
    next_key_value: unsafe extern "C" fn(Iter, *mut RStr) -> Json,
    free_key_values_iter: unsafe extern "C" fn(Iter),
    // V5
    _open_key_with_flags: unsafe extern "C" fn(Ctx, RStr, c_int) -> Json,
}

// JSONType of rejson_api.h.
const T_INT: c_int = 1;
const T_DOUBLE: c_int = 2;
const T_OBJECT: c_int = 4;
const T_NULL: c_int = 6;

/// The RedisJSON versions whose header was checked against `Api` (MODULE LIST "ver", which
/// RedisJSON encodes as major * 10000 + minor * 100 + patch): 2.8.x, 7.99.x (the 8.0
/// previews), 8.0.x to 8.2.x.
const VERIFIED: [std::ops::RangeInclusive<i64>; 3] = [20800..=20899, 79900..=79999, 80000..=80299];

/// The API when verified, and why it is or is not used (INFO account: read_path_reason).
struct Shared(Option<&'static Api>, String);
// SAFETY: the API table is immutable static data of RedisJSON, and only the main thread, which
// runs every command, calls through it.
unsafe impl Send for Shared {}
// SAFETY: as above.
unsafe impl Sync for Shared {}
static API: OnceLock<Shared> = OnceLock::new();

/// The shared API, if it is verified for the loaded RedisJSON and enabled.
pub fn api(ctx: Ctx) -> Option<&'static Api> {
    if !crate::config::shared_api() {
        return None;
    }
    API.get_or_init(|| {
        let (api, reason) = load(ctx);
        log(ctx, &reason);
        Shared(api, reason)
    })
    .0
}

/// The read path in force, for `INFO account`: (`shared-api` | `rm-call` | `undecided`, why).
pub fn read_path() -> (&'static str, String) {
    if !crate::config::shared_api() {
        return ("rm-call", "account.shared-api is no".into());
    }
    match API.get() {
        None => (
            "undecided",
            "no account command has read a document yet".into(),
        ),
        Some(Shared(Some(_), why)) => ("shared-api", why.clone()),
        Some(Shared(None, why)) => ("rm-call", why.clone()),
    }
}

fn load(ctx: Ctx) -> (Option<&'static Api>, String) {
    let Some(version) = rejson_version(ctx) else {
        return (
            None,
            "RedisJSON (module ReJSON) is not in MODULE LIST: reading through RM_Call".into(),
        );
    };
    if !VERIFIED.iter().any(|r| r.contains(&version)) {
        return (
            None,
            format!(
                "RedisJSON {version} has an unverified shared API layout: reading through RM_Call"
            ),
        );
    }
    // SAFETY: ctx is a live module context; RM_GetSharedAPI only looks the name up.
    let v6 = unsafe { raw::RedisModule_GetSharedAPI.unwrap()(ctx, c"RedisJSON_V6".as_ptr()) };
    if !v6.is_null() {
        return (
            None,
            format!(
                "RedisJSON {version} exports RedisJSON_V6, a later layout: reading through RM_Call"
            ),
        );
    }
    // SAFETY: as above.
    let p = unsafe { raw::RedisModule_GetSharedAPI.unwrap()(ctx, c"RedisJSON_V5".as_ptr()) };
    if p.is_null() {
        return (
            None,
            "RedisJSON_V5 is not exported: reading through RM_Call".into(),
        );
    }
    // SAFETY: RedisJSON 2.8.0-8.2.x exports RedisJSON_V5 as a static `RedisJSONAPI`, whose layout
    // `Api` reproduces (checked against rejson_api.h of those tags); it lives as long as the module.
    (
        Some(unsafe { &*(p as *const Api) }),
        format!("reading through the shared API of RedisJSON {version} (2.8 layout verified)"),
    )
}

fn log(ctx: Ctx, msg: &str) {
    log_at(ctx, c"notice", msg);
}

pub(crate) fn log_at(ctx: Ctx, level: &std::ffi::CStr, msg: &str) {
    let text = std::ffi::CString::new(format!("account: {msg}")).unwrap_or_default();
    // SAFETY: the level, the format and the text are NUL-terminated strings that outlive the
    // call, and "%s" takes exactly the one string argument given.
    unsafe { raw::RedisModule_Log.unwrap()(ctx, level.as_ptr(), c"%s".as_ptr(), text.as_ptr()) };
}

/// Set once RedisJSON's commands were found. RedisJSON cannot be unloaded (it registers a data
/// type), so a positive answer holds for the life of the process.
static PRESENT: AtomicBool = AtomicBool::new(false);

/// Whether RedisJSON is loaded, i.e. the server knows `JSON.GET`. Asked at load and again at each
/// use until the answer is yes (a RedisJSON loaded after this module, by a later `--loadmodule`
/// or by `MODULE LOAD`, is found at the first command after it); then kept, so the cost on the
/// normal path is one atomic load.
pub fn present(ctx: Ctx) -> bool {
    if PRESENT.load(Relaxed) {
        return true;
    }
    // COMMAND INFO answers [nil] for a command the server does not know.
    let found = rm::call(ctx, false, c"COMMAND", &["INFO".into(), "JSON.GET".into()])
        .map(|r| {
            r.array_items()
                .first()
                .is_some_and(|e| !e.array_items().is_empty())
        })
        .unwrap_or(false);
    if found {
        PRESENT.store(true, Relaxed);
        log(ctx, "RedisJSON is loaded");
    }
    found
}

/// Whether the loaded JSON module has `cmd` (COMMAND INFO), asked once and kept: 0 = not asked,
/// 1 = yes, 2 = no. Asked only while RedisJSON is present (the dispatcher checks that first).
fn has(ctx: Ctx, cell: &std::sync::atomic::AtomicU8, cmd: &str) -> bool {
    match cell.load(Relaxed) {
        1 => true,
        2 => false,
        _ => {
            let found = rm::call(ctx, false, c"COMMAND", &["INFO".into(), cmd.into()])
                .map(|r| {
                    r.array_items()
                        .first()
                        .is_some_and(|e| !e.array_items().is_empty())
                })
                .unwrap_or(false);
            cell.store(if found { 1 } else { 2 }, Relaxed);
            if !found {
                log(
                    ctx,
                    &format!(
                        "{cmd} is not available (RedisJSON before 2.6?): writing by paths instead"
                    ),
                );
            }
            found
        }
    }
}

static MERGE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);
static MSET: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Whether vital writes may be one root `JSON.MERGE` (RedisJSON 2.6+, and `account.json-merge`
/// not turned off); else they are written by paths.
pub fn can_merge(ctx: Ctx) -> bool {
    crate::config::json_merge() && has(ctx, &MERGE, "JSON.MERGE")
}

/// Whether several paths may be written with one `JSON.MSET` (RedisJSON 2.6+); else one
/// `JSON.SET` each, in the same command (atomic; replicated inside MULTI/EXEC).
pub fn can_mset(ctx: Ctx) -> bool {
    crate::config::json_merge() && has(ctx, &MSET, "JSON.MSET")
}

/// The write path in force, for `INFO account`: `merge` or `paths` (`undecided` before the
/// first vital write).
pub fn write_path() -> &'static str {
    if !crate::config::json_merge() {
        return "paths";
    }
    match MERGE.load(Relaxed) {
        1 => "merge",
        2 => "paths",
        _ => "undecided",
    }
}

/// RedisJSON's version number from MODULE LIST (module "ReJSON").
fn rejson_version(ctx: Ctx) -> Option<i64> {
    let reply = rm::call(ctx, false, c"MODULE", &["LIST".into()]).ok()?;
    reply.array_items().iter().find_map(|m| {
        let fields = m.array_items();
        let name = fields
            .chunks(2)
            .find(|kv| kv[0].bytes() == Some(b"name"))?
            .get(1)?
            .bytes()?
            .to_vec();
        if name != b"ReJSON" {
            return None;
        }
        fields
            .chunks(2)
            .find(|kv| kv[0].bytes() == Some(b"ver"))?
            .get(1)?
            .integer()
    })
}

/// A value inside an open document. It borrows the key it was read from (`'a`), so it cannot
/// outlive the command; it is valid only until that document is written, which the store never
/// does while it holds one (every read through it ends before the command's writes).
#[derive(Clone, Copy)]
pub struct Node<'a> {
    api: &'static Api,
    ptr: Json,
    key: PhantomData<&'a Arg<'a>>,
}

/// What the key holds, read through the shared API.
pub enum Open<'a> {
    Missing,
    WrongType,
    /// A RedisJSON value whose root is not an object: not an account.
    NotObject,
    Doc(Node<'a>),
}

pub fn open<'a>(ctx: Ctx, api: &'static Api, key: &'a Arg<'a>) -> Open<'a> {
    use crate::vitals::Source;
    // openKey answers NULL for a missing key and for any key that is not a RedisJSON document
    // (other modules' types included).
    // SAFETY: ctx is the running command's context and key a live string; openKey opens the key
    // for reading and returns its document (or NULL), owned by the key, not by us.
    let ptr = unsafe { (api.open_key)(ctx, key.as_ptr()) };
    if !ptr.is_null() {
        let root = Node {
            api,
            ptr,
            key: PhantomData,
        };
        return if root.is_object() {
            Open::Doc(root)
        } else {
            Open::NotObject
        };
    }
    match rm::key_kind(ctx, key) {
        rm::KeyKind::Missing => Open::Missing,
        _ => Open::WrongType,
    }
}

impl<'a> crate::vitals::Source for Node<'a> {
    fn scalar(self) -> crate::vitals::Scalar {
        use crate::vitals::Scalar;
        // SAFETY (each call below): self.ptr is a value of a document that is not written while
        // a Node of it exists (see Node); getType only reads it, getInt/getDouble write the one
        // out-parameter given, after the type was checked.
        match unsafe { (self.api.get_type)(self.ptr) } {
            T_INT => {
                let mut v: c_longlong = 0;
                // SAFETY: as above.
                unsafe { (self.api.get_int)(self.ptr, &mut v) };
                Scalar::Int(v)
            }
            T_DOUBLE => {
                let mut v: c_double = 0.0;
                // SAFETY: as above.
                unsafe { (self.api.get_double)(self.ptr, &mut v) };
                Scalar::Float(v)
            }
            T_NULL => Scalar::Null,
            _ => Scalar::Other,
        }
    }

    fn is_object(self) -> bool {
        // SAFETY: self.ptr is a live value (see Node); getType only reads it.
        unsafe { (self.api.get_type)(self.ptr) == T_OBJECT }
    }

    fn is_null(self) -> bool {
        // SAFETY: as in is_object.
        unsafe { (self.api.get_type)(self.ptr) == T_NULL }
    }

    fn each(self, f: &mut dyn FnMut(&[u8], Node<'a>) -> bool) {
        if !self.is_object() {
            return;
        }
        // SAFETY: self.ptr is a live object (checked above); the iterator is freed below, once.
        let it = unsafe { (self.api.get_key_values)(self.ptr) };
        if it.is_null() {
            return;
        }
        loop {
            let mut name: RStr = std::ptr::null_mut();
            // SAFETY: `it` is the live iterator made above; nextKeyValue writes the key's name
            // (a new string the caller owns and frees, rejson_api.h) and returns the value, or
            // NULL at the end.
            let v = unsafe { (self.api.next_key_value)(it, &mut name) };
            // SAFETY: the name is ours to free, made with no context; OwnedString frees it once,
            // when dropped at the end of this turn, after `f` has returned (f cannot keep it).
            let name = unsafe { OwnedString::from_raw(std::ptr::null_mut(), name) };
            if v.is_null() {
                break;
            }
            let Some(name) = name else { continue };
            if !f(
                name.bytes(),
                Node {
                    api: self.api,
                    ptr: v,
                    key: PhantomData,
                },
            ) {
                break;
            }
        }
        // SAFETY: `it` came from getKeyValues above and is freed once.
        unsafe { (self.api.free_key_values_iter)(it) };
    }
}

impl Node<'_> {
    /// The value serialized as JSON text by RedisJSON (one string, no per-field allocation).
    pub fn text<R>(self, ctx: Ctx, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut s: RStr = std::ptr::null_mut();
        // SAFETY: self.ptr is a live value (see Node) and ctx the running command's context;
        // getJSON writes a new string made in ctx into `s` (0 on success).
        let status = unsafe { (self.api.get_json)(self.ptr, ctx, &mut s) };
        // SAFETY: getJSON made `s` in ctx for the caller to free; OwnedString frees it once, on
        // drop, after `f` (which cannot keep the borrowed bytes) has returned.
        let s = unsafe { OwnedString::from_raw(ctx, s) }?;
        if status != 0 {
            return None;
        }
        Some(f(s.bytes()))
    }
}
