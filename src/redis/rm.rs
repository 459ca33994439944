//! Thin, allocation-aware wrappers over the Redis module C API that the commands use: argument
//! access, inner calls (always `E`, and `!` for writes), key probing and replies.

use crate::error::{Error, Result};
use redis_module::raw;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::ptr::{self, NonNull};

pub type Ctx = *mut raw::RedisModuleCtx;

/// A Redis string this code reads but does not own: a command argument, or a string an
/// [`OwnedString`] keeps alive. It borrows its owner for `'a` (the command call for an
/// argument, the owning value otherwise), so neither it nor the bytes it lends can outlive the
/// string; its pointer is private to the Redis glue. Not `Copy`: it is passed by reference.
#[repr(transparent)]
pub struct Arg<'a> {
    ptr: NonNull<raw::RedisModuleString>,
    owner: PhantomData<&'a raw::RedisModuleString>,
}

impl<'a> Arg<'a> {
    /// # Safety
    /// `ptr` must point to a live `RedisModuleString` that nobody frees or changes during `'a`.
    pub(crate) unsafe fn new(ptr: NonNull<raw::RedisModuleString>) -> Arg<'a> {
        Arg {
            ptr,
            owner: PhantomData,
        }
    }

    /// The arguments Redis passed to a command, without a copy.
    ///
    /// # Safety
    /// `argv` must hold `argc` non-null pointers to strings that stay alive and unchanged during
    /// `'a` (Redis keeps a command's arguments for the whole call).
    pub(crate) unsafe fn slice(
        argv: *mut *mut raw::RedisModuleString,
        argc: c_int,
    ) -> &'a [Arg<'a>] {
        if argv.is_null() || argc <= 0 {
            return &[];
        }
        // SAFETY: the caller guarantees argc valid, non-null pointers at argv for 'a; Arg is a
        // transparent wrapper of one non-null pointer (NonNull has the layout of the pointer).
        unsafe { std::slice::from_raw_parts(argv.cast::<Arg<'a>>(), argc as usize) }
    }

    /// The string, for a C call that only reads it during the call.
    pub(in crate::redis) fn as_ptr(&self) -> *mut raw::RedisModuleString {
        self.ptr.as_ptr()
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: self.ptr is a live string for 'a (the constructor's contract) and the slice
        // borrows `self`, so it ends before the string can be freed or changed.
        unsafe { bytes_of(self.ptr) }
    }

    /// The argument as UTF-8 text, or SYNTAX if it is not.
    pub(crate) fn text(&self) -> Result<&str> {
        std::str::from_utf8(self.bytes())
            .map_err(|_| Error::Syntax("argument is not valid UTF-8".into()))
    }

    /// Case-insensitive keyword comparison.
    pub(crate) fn is(&self, keyword: &str) -> bool {
        self.bytes().eq_ignore_ascii_case(keyword.as_bytes())
    }
}

/// The bytes of a string, for as long as the caller chooses.
///
/// # Safety
/// `p` must be a live string that stays alive and unchanged during `'s`.
unsafe fn bytes_of<'s>(p: NonNull<raw::RedisModuleString>) -> &'s [u8] {
    let mut len = 0usize;
    // SAFETY: p is live (the caller's contract); RM_StringPtrLen returns a pointer to its `len`
    // bytes, valid while the string is alive and unchanged, i.e. during 's.
    unsafe {
        let b = raw::RedisModule_StringPtrLen.unwrap()(p.as_ptr(), &mut len);
        if b.is_null() {
            return &[];
        }
        std::slice::from_raw_parts(b.cast::<u8>(), len)
    }
}

/// A Redis string this code owns (a key name found by SCAN, a string RedisJSON handed over),
/// freed once, on drop, with the context it was made in.
pub struct OwnedString {
    ptr: NonNull<raw::RedisModuleString>,
    ctx: Ctx,
}

impl OwnedString {
    /// A copy of `bytes`, owned by the module (null context).
    pub(crate) fn new(bytes: &[u8]) -> OwnedString {
        // SAFETY: RM_CreateString copies `bytes`; a null context makes a string the module owns
        // until RM_FreeString (in Drop). It never returns null (Redis aborts on OOM).
        let p = unsafe {
            raw::RedisModule_CreateString.unwrap()(
                ptr::null_mut(),
                bytes.as_ptr().cast::<c_char>(),
                bytes.len(),
            )
        };
        OwnedString {
            ptr: NonNull::new(p).expect("RM_CreateString returned null"),
            ctx: ptr::null_mut(),
        }
    }

    /// Takes ownership of a string a C API handed over (`None` for null).
    ///
    /// # Safety
    /// `ptr`, when not null, must be a live string whose ownership passes to the caller, made in
    /// `ctx` (or with a null context), and freed by nobody else.
    pub(crate) unsafe fn from_raw(
        ctx: Ctx,
        ptr: *mut raw::RedisModuleString,
    ) -> Option<OwnedString> {
        NonNull::new(ptr).map(|ptr| OwnedString { ptr, ctx })
    }

    /// The string, borrowed: it cannot outlive `self`, whose drop frees the string.
    pub(crate) fn arg(&self) -> Arg<'_> {
        // SAFETY: self owns a live string until its drop, which the returned borrow precludes.
        unsafe { Arg::new(self.ptr) }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: self owns the live string until its drop, which the borrow of `self` that the
        // slice carries precludes; nothing changes an OwnedString.
        unsafe { bytes_of(self.ptr) }
    }
}

impl Drop for OwnedString {
    fn drop(&mut self) {
        // SAFETY: the string is owned by self (made by RM_CreateString or handed over to
        // `from_raw` with its context) and freed once, here.
        unsafe { raw::RedisModule_FreeString.unwrap()(self.ctx, self.ptr.as_ptr()) }
    }
}

/// An argument for an inner call: a key passed through as is, or bytes copied into a new string.
pub enum CallArg<'a> {
    Key(&'a Arg<'a>),
    Bytes(&'a [u8]),
}

impl<'a> From<&'a str> for CallArg<'a> {
    fn from(s: &'a str) -> Self {
        CallArg::Bytes(s.as_bytes())
    }
}
impl<'a> From<&'a String> for CallArg<'a> {
    fn from(s: &'a String) -> Self {
        CallArg::Bytes(s.as_bytes())
    }
}
impl<'a, 'b: 'a> From<&'a Arg<'b>> for CallArg<'a> {
    fn from(a: &'a Arg<'b>) -> Self {
        CallArg::Key(a)
    }
}

/// A reply of an inner call; freed on drop.
pub struct CallReply(NonNull<raw::RedisModuleCallReply>);

impl Drop for CallReply {
    fn drop(&mut self) {
        // SAFETY: the reply came from RM_Call and is freed once, here.
        unsafe { raw::RedisModule_FreeCallReply.unwrap()(self.0.as_ptr()) }
    }
}

impl CallReply {
    fn kind(&self) -> c_int {
        // SAFETY: self.0 is a live reply of RM_Call (freed only on drop).
        unsafe { raw::RedisModule_CallReplyType.unwrap()(self.0.as_ptr()) }
    }
    pub(crate) fn is_null(&self) -> bool {
        self.kind() == raw::REDISMODULE_REPLY_NULL as c_int
    }
    pub(crate) fn integer(&self) -> Option<i64> {
        (self.kind() == raw::REDISMODULE_REPLY_INTEGER as c_int)
            // SAFETY: as above; the type was checked to be an integer.
            .then(|| unsafe { raw::RedisModule_CallReplyInteger.unwrap()(self.0.as_ptr()) })
    }
    fn raw_bytes(&self) -> &[u8] {
        let mut len = 0usize;
        // SAFETY: self.0 is a live reply; RM_CallReplyStringPtr returns its buffer (or null, handled), which lives as long as the reply that `&self` borrows.
        unsafe {
            let p = raw::RedisModule_CallReplyStringPtr.unwrap()(self.0.as_ptr(), &mut len);
            if p.is_null() {
                return &[];
            }
            std::slice::from_raw_parts(p.cast::<u8>(), len)
        }
    }
    /// The elements of an array reply (empty for anything else), borrowed from this reply.
    pub(crate) fn array_items(&self) -> Vec<Element<'_>> {
        Element(self.0, std::marker::PhantomData).array_items()
    }

    /// The bytes of a string (bulk or simple) reply.
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        (self.kind() == raw::REDISMODULE_REPLY_STRING as c_int).then(|| self.raw_bytes())
    }
}

/// An element of an array reply; owned by the reply it came from (not freed on its own).
pub struct Element<'a>(
    NonNull<raw::RedisModuleCallReply>,
    std::marker::PhantomData<&'a CallReply>,
);

impl<'a> Element<'a> {
    fn kind(&self) -> c_int {
        // SAFETY: the element belongs to a reply that outlives it (lifetime 'a).
        unsafe { raw::RedisModule_CallReplyType.unwrap()(self.0.as_ptr()) }
    }
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        if self.kind() != raw::REDISMODULE_REPLY_STRING as c_int {
            return None;
        }
        let mut len = 0usize;
        // SAFETY: as above; the buffer lives as long as the owning reply, which 'a ties the slice to.
        unsafe {
            let p = raw::RedisModule_CallReplyStringPtr.unwrap()(self.0.as_ptr(), &mut len);
            (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len))
        }
    }
    pub(crate) fn integer(&self) -> Option<i64> {
        (self.kind() == raw::REDISMODULE_REPLY_INTEGER as c_int)
            // SAFETY: as above; the type was checked to be an integer.
            .then(|| unsafe { raw::RedisModule_CallReplyInteger.unwrap()(self.0.as_ptr()) })
    }
    pub(crate) fn array_items(&self) -> Vec<Element<'a>> {
        if self.kind() != raw::REDISMODULE_REPLY_ARRAY as c_int {
            return Vec::new();
        }
        // SAFETY: the element belongs to a live reply; the type was checked to be an array.
        let n = unsafe { raw::RedisModule_CallReplyLength.unwrap()(self.0.as_ptr()) };
        (0..n)
            .filter_map(|i| {
                // SAFETY: i < n; the nested element is owned by the same reply.
                let e =
                    unsafe { raw::RedisModule_CallReplyArrayElement.unwrap()(self.0.as_ptr(), i) };
                NonNull::new(e).map(|p| Element(p, std::marker::PhantomData))
            })
            .collect()
    }
}

/// Runs an inner command. `write` adds `!` (replicate to replicas and the AOF); errors always come
/// back as values (`E`) and are turned into `Error::Redis`, or `Error::WrongType`. A call that
/// gets no reply at all is INTERNAL (as is the call that `fault` makes fail, in tests).
pub(crate) fn call(ctx: Ctx, write: bool, cmd: &CStr, args: &[CallArg<'_>]) -> Result<CallReply> {
    if super::fault::fails_now() {
        return Err(Error::Internal);
    }
    let fmt: &CStr = if write { c"v!E" } else { c"vE" };
    let mut owned: [*mut raw::RedisModuleString; 16] = [ptr::null_mut(); 16];
    let mut heap: Vec<*mut raw::RedisModuleString>;
    let argv: &mut [*mut raw::RedisModuleString] = if args.len() <= owned.len() {
        &mut owned[..args.len()]
    } else {
        heap = vec![ptr::null_mut(); args.len()];
        &mut heap[..]
    };
    for (slot, a) in argv.iter_mut().zip(args) {
        *slot = match a {
            CallArg::Key(k) => k.as_ptr(),
            // SAFETY: RM_CreateString copies `b`; a null context makes a string freed below, after the call.
            CallArg::Bytes(b) => unsafe {
                raw::RedisModule_CreateString.unwrap()(
                    ptr::null_mut(),
                    b.as_ptr().cast::<c_char>(),
                    b.len(),
                )
            },
        };
    }
    // SAFETY: ctx is the running command's context; `cmd` and `fmt` are NUL-terminated (CStr);
    // argv holds argv.len() live strings: keys borrowed for the call, the others made above.
    let reply = unsafe {
        raw::RedisModule_Call.unwrap()(
            ctx,
            cmd.as_ptr(),
            fmt.as_ptr(),
            argv.as_mut_ptr(),
            argv.len(),
        )
    };
    for (slot, a) in argv.iter().zip(args) {
        if let CallArg::Bytes(_) = a {
            // SAFETY: the strings made above for this call are freed once, after RM_Call returned (it keeps no reference to them).
            unsafe { raw::RedisModule_FreeString.unwrap()(ptr::null_mut(), *slot) };
        }
    }
    let reply = CallReply(NonNull::new(reply).ok_or(Error::Internal)?);
    if reply.kind() == raw::REDISMODULE_REPLY_ERROR as c_int {
        let text = String::from_utf8_lossy(reply.raw_bytes()).into_owned();
        // RedisJSON says "Existing key has wrong Redis type" where Redis says WRONGTYPE.
        let wrong_type = text.starts_with("WRONGTYPE") || text.contains("wrong Redis type");
        return Err(if wrong_type {
            Error::WrongType
        } else {
            Error::Redis(text)
        });
    }
    Ok(reply)
}

/// Writes a line to the server log at `level` (`notice`, `warning`, ...).
pub(crate) fn log(ctx: Ctx, level: &str, msg: &str) {
    let level = std::ffi::CString::new(level).unwrap_or_default();
    let text = std::ffi::CString::new(msg.replace('\0', "?")).unwrap_or_default();
    // SAFETY: ctx is the live context of the running command (or null, which RM_Log accepts);
    // the format is a literal "%s" and both strings outlive the call.
    unsafe { raw::RedisModule_Log.unwrap()(ctx, level.as_ptr(), c"%s".as_ptr(), text.as_ptr()) };
}

/// The server clock, unix seconds (millisecond resolution).
pub(crate) fn now() -> f64 {
    // SAFETY: RM_Milliseconds only reads the clock.
    (unsafe { raw::RedisModule_Milliseconds.unwrap()() }) as f64 / 1000.0
}

/// Emits a keyspace notification of the module class (`notify-keyspace-events` with `d`), as
/// RedisJSON does for `json.set`.
pub(crate) fn notify(ctx: Ctx, event: &'static CStr, key: &Arg) {
    // SAFETY: ctx is the running command's context; event is a NUL-terminated literal and key a
    // live string (RM_NotifyKeyspaceEvent takes its own reference if it keeps it).
    unsafe {
        raw::RedisModule_NotifyKeyspaceEvent.unwrap()(
            ctx,
            raw::REDISMODULE_NOTIFY_MODULE as c_int,
            event.as_ptr(),
            key.as_ptr(),
        );
    }
}

/// What a key holds, without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Missing,
    String,
    Module,
    Stream,
    Other,
}

pub(crate) fn key_kind(ctx: Ctx, key: &Arg) -> KeyKind {
    // SAFETY: ctx is the running command's context and key a live string; the key opened for reading is closed before returning.
    unsafe {
        let k =
            raw::RedisModule_OpenKey.unwrap()(ctx, key.as_ptr(), raw::REDISMODULE_READ as c_int);
        let t = if k.is_null() {
            raw::REDISMODULE_KEYTYPE_EMPTY as c_int
        } else {
            raw::RedisModule_KeyType.unwrap()(k)
        };
        if !k.is_null() {
            raw::RedisModule_CloseKey.unwrap()(k);
        }
        match t as isize {
            raw::REDISMODULE_KEYTYPE_EMPTY => KeyKind::Missing,
            raw::REDISMODULE_KEYTYPE_STRING => KeyKind::String,
            raw::REDISMODULE_KEYTYPE_MODULE => KeyKind::Module,
            raw::REDISMODULE_KEYTYPE_STREAM => KeyKind::Stream,
            _ => KeyKind::Other,
        }
    }
}

/// A command's reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Ok,
    Nil,
    Int(i64),
    Bulk(Vec<u8>),
    Text(String),
    Array(Vec<Reply>),
    /// An error as one element of an array reply.
    Error(String),
}

pub(crate) fn reply(ctx: Ctx, r: &Reply) {
    // SAFETY: ctx is the running command's context; every pointer passed points to a buffer that outlives its call (strings are copied by the reply functions).
    unsafe {
        match r {
            Reply::Ok => {
                raw::RedisModule_ReplyWithSimpleString.unwrap()(ctx, c"OK".as_ptr());
            }
            Reply::Nil => {
                raw::RedisModule_ReplyWithNull.unwrap()(ctx);
            }
            Reply::Int(i) => {
                raw::RedisModule_ReplyWithLongLong.unwrap()(ctx, *i);
            }
            Reply::Bulk(b) => {
                raw::RedisModule_ReplyWithStringBuffer.unwrap()(
                    ctx,
                    b.as_ptr().cast::<c_char>(),
                    b.len(),
                );
            }
            Reply::Text(s) => {
                raw::RedisModule_ReplyWithStringBuffer.unwrap()(
                    ctx,
                    s.as_ptr().cast::<c_char>(),
                    s.len(),
                );
            }
            Reply::Error(text) => {
                let mut t: Vec<u8> = text
                    .bytes()
                    .filter(|&b| b != b'\r' && b != b'\n' && b != 0)
                    .collect();
                t.push(0);
                raw::RedisModule_ReplyWithError.unwrap()(ctx, t.as_ptr().cast::<c_char>());
            }
            Reply::Array(items) => {
                raw::RedisModule_ReplyWithArray.unwrap()(ctx, items.len() as _);
                for i in items {
                    reply(ctx, i);
                }
            }
        }
    }
}

pub(crate) fn reply_error(ctx: Ctx, e: &Error) {
    // Error texts never hold CR or LF: they are built from validated or sanitized parts, but a
    // passed-through inner error is cleaned here to be sure.
    let mut text: Vec<u8> = e.to_string().into_bytes();
    text.retain(|&b| b != b'\r' && b != b'\n' && b != 0);
    text.push(0);
    // SAFETY: ctx is the running command's context; `text` is NUL-terminated and copied by the call.
    unsafe { raw::RedisModule_ReplyWithError.unwrap()(ctx, text.as_ptr().cast::<c_char>()) };
}

/// True when Redis calls a getkeys-api command only to learn its key positions.
pub(crate) fn is_keys_position_request(ctx: Ctx) -> bool {
    // SAFETY: ctx is the running command's context.
    unsafe { raw::RedisModule_IsKeysPositionRequest.unwrap()(ctx) != 0 }
}

/// Declares the key at `pos` with its access flags (`REDISMODULE_CMD_KEY_*`), so
/// `COMMAND GETKEYSANDFLAGS` and ACL checks see the real access (7.0+; plain `KeyAtPos`, which
/// declares full access, where the server lacks it).
pub(crate) fn key_at_pos(ctx: Ctx, pos: usize, flags: u32) {
    // SAFETY: ctx is the context Redis passed to this keys-position request; both functions only
    // record the position (and flags) in it.
    unsafe {
        match raw::RedisModule_KeyAtPosWithFlags {
            Some(with_flags) => with_flags(ctx, pos as c_int, flags as c_int),
            None => raw::RedisModule_KeyAtPos.unwrap()(ctx, pos as c_int),
        }
    };
}

pub(crate) fn wrong_arity(ctx: Ctx) {
    // SAFETY: ctx is the running command's context.
    unsafe { raw::RedisModule_WrongArity.unwrap()(ctx) };
}
