//! The `lua` hook: a script (`script`, or `script_path` read from the
//! event's reference) run in an embedded Lua 5.4 with lakeFS's globals
//! (`action`, `args`, `username`, `array`) and the core of its library
//! (see the README). The state has no filesystem, process, network (other
//! than this server's API as the event's user) or debug access, and stops
//! at a memory limit, an instruction limit and a deadline; each run gets a
//! fresh state on a blocking thread.

mod convert;
mod encoding;
mod lakefs;
mod process;
mod regexp;
mod strings;
mod text;
mod time;

pub use lakefs::{ApiClient, ApiSpec};
pub use process::{child_main, ChildPool};

use crate::settings::LuaSettings;
use mlua::{HookTriggers, Lua, LuaOptions, StdLib, Value, VmState};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The most of a script's printed output its log keeps.
const MAX_LOG: usize = 1 << 20;
/// How many instructions run between two checks of the limits.
const CHECK_EVERY: u32 = 10_000;

/// What library functions may use, kept in the state's app data: Rust-side
/// work that Lua's memory limit does not see is held to the same budget,
/// and sleeps end at the deadline.
#[derive(Clone, Copy)]
pub struct Limits {
    pub bytes: usize,
    pub deadline: Instant,
}

/// The state's limits (generous defaults if none were set).
pub fn limits(lua: &Lua) -> Limits {
    lua.app_data_ref::<Limits>().map_or(
        Limits {
            bytes: 64 << 20,
            deadline: Instant::now() + Duration::from_secs(60),
        },
        |l| *l,
    )
}

/// Refuses Rust-side results larger than the state's memory budget.
pub fn within_budget(lua: &Lua, bytes: usize, what: &str) -> mlua::Result<()> {
    let max = limits(lua).bytes;
    if bytes > max {
        return Err(mlua::Error::runtime(format!(
            "{what}: the result would be larger than the hook's memory limit ({max} bytes)"
        )));
    }
    Ok(())
}

/// One hook run's input.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LuaRun {
    pub script: String,
    /// The `action` global, as JSON.
    pub action: serde_json::Value,
    /// The `args` global, as JSON (an object).
    pub args: serde_json::Value,
    pub username: String,
    /// How the `lakefs` module reaches the API (none: it refuses).
    pub api: Option<ApiSpec>,
}

/// The deadline a run gets from `settings`.
pub fn deadline(settings: &LuaSettings) -> Instant {
    Instant::now() + Duration::from_secs(settings.timeout_secs.max(1))
}

/// Runs a script: its outcome and its log (what it printed).
pub async fn run(run: LuaRun, settings: &LuaSettings) -> (Result<(), String>, String) {
    let limits = settings.clone();
    let timeout = Duration::from_secs(settings.timeout_secs.max(1));
    let task = tokio::task::spawn_blocking(move || run_blocking(run, &limits));
    // The instruction hook stops a script at its deadline; this stops
    // waiting for one stuck in a single library call.
    match tokio::time::timeout(timeout + Duration::from_secs(5), task).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => (Err(format!("the Lua hook failed: {e}")), String::new()),
        Err(_) => (
            Err(format!(
                "the Lua hook ran out of time ({}s)",
                timeout.as_secs()
            )),
            String::new(),
        ),
    }
}

/// What stopped a script at a limit, if anything did.
type Tripped = Rc<RefCell<Option<String>>>;

fn run_blocking(run: LuaRun, settings: &LuaSettings) -> (Result<(), String>, String) {
    let log = Rc::new(RefCell::new(String::new()));
    let tripped: Tripped = Rc::new(RefCell::new(None));
    let outcome = execute(run, settings, &log, &tripped);
    let text = log.borrow().clone();
    // A script stopped at a limit failed, even if it went on and ended
    // without an error.
    let stopped = tripped.borrow().clone();
    let result = match (outcome, stopped) {
        (_, Some(why)) => Err(why),
        (Ok(()), None) => Ok(()),
        (Err(e), None) => Err(describe(&e, settings)),
    };
    (result, text)
}

/// lakeFS's wording: `hook.fail`'s message alone, the rest as Lua says it.
fn describe(e: &mlua::Error, settings: &LuaSettings) -> String {
    let text = match e {
        mlua::Error::MemoryError(_) => {
            return format!(
                "the Lua hook used more than its memory limit ({} bytes)",
                settings.memory_bytes
            )
        }
        other => other.to_string(),
    };
    if let (Some(a), Some(b)) = (text.find("<HookFailure>"), text.find("</HookFailure>")) {
        let start = a + "<HookFailure>".len();
        if start <= b {
            return text[start..b].to_owned();
        }
    }
    text
}

fn execute(
    run: LuaRun,
    settings: &LuaSettings,
    log: &Rc<RefCell<String>>,
    tripped: &Tripped,
) -> mlua::Result<()> {
    let libs = StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::UTF8 | StdLib::COROUTINE;
    let lua = Lua::new_with(libs, LuaOptions::default())?;
    lua.set_memory_limit(usize::try_from(settings.memory_bytes).unwrap_or(usize::MAX))?;
    let deadline = Instant::now() + Duration::from_secs(settings.timeout_secs.max(1));
    lua.set_app_data(Limits {
        bytes: usize::try_from(settings.memory_bytes).unwrap_or(usize::MAX),
        deadline,
    });
    let max = settings.max_instructions;
    let count = Rc::new(std::cell::Cell::new(0u64));
    // Counts `n` instructions; the reason to stop, if a limit is past.
    let spend = {
        let count = count.clone();
        move |n: u64| -> Option<String> {
            count.set(count.get().saturating_add(n));
            if count.get() > max {
                Some(format!(
                    "the Lua hook ran more than {max} instructions (actions.lua.max_instructions)"
                ))
            } else if Instant::now() > deadline {
                Some("the Lua hook ran out of time (actions.lua.timeout_secs)".to_owned())
            } else {
                None
            }
        }
    };
    let trip = tripped.clone();
    let spend_hook = spend.clone();
    // Global: coroutines the script creates inherit it.
    lua.set_global_hook(
        HookTriggers::new().every_nth_instruction(CHECK_EVERY),
        move |_, _| match spend_hook(u64::from(CHECK_EVERY)) {
            Some(w) => {
                *trip.borrow_mut() = Some(w.clone());
                Err(mlua::Error::runtime(w))
            }
            None => Ok(VmState::Continue),
        },
    )?;
    let g = lua.globals();
    for name in ["loadfile", "dofile"] {
        g.raw_set(name, Value::Nil)?;
    }
    let string: mlua::Table = g.get("string")?;
    string.raw_set("dump", Value::Nil)?;

    convert::install_array_mark(&lua)?;
    g.set(
        "array",
        lua.create_function(|lua, t: mlua::Table| {
            convert::mark_array(lua, &t)?;
            Ok(t)
        })?,
    )?;
    let modules = lua.create_table()?;
    let max_body = usize::try_from(settings.memory_bytes).unwrap_or(usize::MAX);
    let client = match run.api {
        Some(spec) => Some(ApiClient::new(spec, deadline, max_body)?),
        None => None,
    };
    modules.set("lakefs", lakefs::module(&lua, client)?)?;
    modules.set("encoding/json", encoding::json(&lua)?)?;
    modules.set("encoding/yaml", encoding::yaml(&lua)?)?;
    modules.set("encoding/base64", encoding::base64(&lua)?)?;
    modules.set("encoding/hex", encoding::hex(&lua)?)?;
    modules.set("crypto/sha256", encoding::sha256(&lua)?)?;
    modules.set("crypto/sha1", encoding::sha1(&lua)?)?;
    modules.set("crypto/hmac", encoding::hmac(&lua)?)?;
    modules.set("strings", strings::module(&lua)?)?;
    modules.set("path", text::path(&lua)?)?;
    modules.set("regexp", regexp::module(&lua)?)?;
    modules.set("uuid", text::uuid(&lua)?)?;
    modules.set("net/url", text::url(&lua)?)?;
    modules.set("time", time::module(&lua)?)?;

    let trip = tripped.clone();
    let is_tripped = lua.create_function(move |_, ()| Ok(trip.borrow().clone()))?;
    // A new coroutine starts its own instruction count: each one is
    // charged a full check's worth, so none runs uncounted.
    let trip = tripped.clone();
    let charge = lua.create_function(move |_, ()| {
        if let Some(why) = spend(u64::from(CHECK_EVERY)) {
            *trip.borrow_mut() = Some(why.clone());
            return Err(mlua::Error::runtime(why));
        }
        Ok(())
    })?;
    let no_close = lua.create_function(|_, src: mlua::LuaString| {
        if has_close(&src.as_bytes()) {
            return Err(mlua::Error::runtime(
                "to-be-closed variables (<close>) are not available in hooks",
            ));
        }
        Ok(())
    })?;
    let find = lua.create_function(
        |_, (s, p, init): (mlua::LuaString, mlua::LuaString, Option<i64>)| {
            Ok(
                match plain_find(&s.as_bytes(), &p.as_bytes(), init.unwrap_or(1)) {
                    Some((a, b)) => (Some(a), Some(b)),
                    None => (None, None),
                },
            )
        },
    )?;
    let out = log.clone();
    let emit = lua.create_function(move |_, s: mlua::LuaString| {
        let mut log = out.borrow_mut();
        if log.len() < MAX_LOG {
            let bytes = s.as_bytes();
            let room = MAX_LOG - log.len();
            // Cut first: only what is kept is converted.
            let kept = String::from_utf8_lossy(&bytes[..bytes.len().min(room)]).into_owned();
            if kept.len() + log.len() <= MAX_LOG && bytes.len() <= room {
                log.push_str(&kept);
            } else {
                let mut cut = room.min(kept.len());
                while !kept.is_char_boundary(cut) {
                    cut -= 1;
                }
                log.push_str(&kept[..cut]);
                log.push_str("\n[output truncated]\n");
            }
        }
        Ok(())
    })?;
    lua.load(include_str!("prelude.lua"))
        .set_name("=prelude")
        .call::<()>((modules, is_tripped, emit, charge, no_close, find))?;

    g.set("action", convert::to_lua(&lua, &run.action)?)?;
    g.set("args", convert::to_lua(&lua, &run.args)?)?;
    g.set("username", run.username)?;
    if has_close(run.script.as_bytes()) {
        return Err(mlua::Error::runtime(
            "to-be-closed variables (<close>) are not available in hooks",
        ));
    }
    lua.load(run.script).set_name("lua").exec()
}

/// Whether Lua source declares a to-be-closed variable (`<close>`, spaces
/// allowed): its `__close` runs while an error unwinds, where no limit can
/// stop it. (A `<close>` inside a string literal is refused too.)
fn has_close(src: &[u8]) -> bool {
    let mut i = 0;
    while let Some(at) = memchr::memchr(b'<', &src[i..]) {
        let rest = &src[i + at + 1..];
        let word = rest.trim_ascii_start();
        if word.starts_with(b"close") && word[5..].trim_ascii_start().starts_with(b">") {
            return true;
        }
        i += at + 1;
    }
    false
}

/// Lua's plain `string.find` (1-based, negative `init` from the end), in
/// linear time: the start and end of the first occurrence, or nothing.
fn plain_find(s: &[u8], p: &[u8], init: i64) -> Option<(i64, i64)> {
    let len = s.len() as i64;
    let start = match init {
        i if i > 0 => i - 1,
        0 => 0,
        i => (len + i).max(0),
    };
    if start > len {
        return None;
    }
    let from = usize::try_from(start).ok()?;
    let at = memchr::memmem::find(&s[from..], p)? + from;
    Some((at as i64 + 1, (at + p.len()) as i64))
}

#[cfg(test)]
mod tests;
