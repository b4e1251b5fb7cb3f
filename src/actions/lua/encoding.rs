//! `encoding/json`, `encoding/yaml`, `encoding/base64`, `encoding/hex`,
//! `crypto/sha256`, `crypto/sha1` and `crypto/hmac`, with lakeFS's names,
//! argument orders and results (digests and MACs are raw bytes).

use super::convert::{from_lua, marshal_json, to_lua};
use super::limits;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use mlua::{Lua, LuaString, Table, Value};
use sha2::Digest;

fn bytes(s: &LuaString) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// Decoding builds a tree of about 30 bytes per input byte before Lua
/// sees it: inputs are held to a 32nd of the hook's memory limit.
fn decodable(lua: &Lua, s: &LuaString) -> mlua::Result<Vec<u8>> {
    let max = limits(lua).bytes / 32;
    let len = s.as_bytes().len();
    if len > max {
        return Err(mlua::Error::runtime(format!(
            "the text is {len} bytes; the hook's memory limit (actions.lua.memory_bytes) lets it decode at most {max}"
        )));
    }
    Ok(bytes(s))
}

/// A table (or nil) to encode, as JSON, within the hook's memory budget.
fn encodable(lua: &Lua, v: &Value) -> mlua::Result<serde_json::Value> {
    if !matches!(v, Value::Nil | Value::Table(_)) {
        return Err(mlua::Error::runtime(format!(
            "need a table at index 1, got {}",
            v.type_name()
        )));
    }
    from_lua(v, limits(lua).bytes)
}

/// `encoding/json`: `marshal(table [, {prefix=, indent=}])`, `unmarshal(s)`.
pub fn json(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "marshal",
        lua.create_function(|lua, (v, opts): (Value, Option<Table>)| {
            let (prefix, indent) = match opts {
                None => (String::new(), None),
                Some(o) => (
                    o.get::<Option<String>>("prefix")?.unwrap_or_default(),
                    o.get::<Option<String>>("indent")?,
                ),
            };
            let indent = indent.or_else(|| (!prefix.is_empty()).then(String::new));
            marshal_json(&encodable(lua, &v)?, &prefix, indent.as_deref())
        })?,
    )?;
    m.set(
        "unmarshal",
        lua.create_function(|lua, s: LuaString| {
            let v: serde_json::Value =
                serde_json::from_slice(&decodable(lua, &s)?).map_err(mlua::Error::external)?;
            to_lua(lua, &v)
        })?,
    )?;
    Ok(m)
}

/// `encoding/yaml`: `marshal(table)`, `unmarshal(s)`.
pub fn yaml(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "marshal",
        lua.create_function(|lua, v: Value| {
            yaml_serde::to_string(&encodable(lua, &v)?).map_err(mlua::Error::external)
        })?,
    )?;
    m.set(
        "unmarshal",
        lua.create_function(|lua, s: LuaString| {
            let v: serde_json::Value =
                yaml_serde::from_slice(&decodable(lua, &s)?).map_err(mlua::Error::external)?;
            to_lua(lua, &v)
        })?,
    )?;
    Ok(m)
}

/// `encoding/base64`: standard (padded) and URL-safe (unpadded) alphabets.
pub fn base64(lua: &Lua) -> mlua::Result<Table> {
    use base64::engine::general_purpose::{GeneralPurpose, STANDARD, URL_SAFE_NO_PAD};
    let m = lua.create_table()?;
    let pairs: [(&str, &str, &'static GeneralPurpose); 2] = [
        ("encode", "decode", &STANDARD),
        ("url_encode", "url_decode", &URL_SAFE_NO_PAD),
    ];
    for (encode, decode, engine) in pairs {
        m.set(
            encode,
            lua.create_function(move |_, s: LuaString| Ok(engine.encode(bytes(&s))))?,
        )?;
        m.set(
            decode,
            lua.create_function(move |lua, s: LuaString| {
                let out = engine
                    .decode(bytes(&s))
                    .map_err(|e| mlua::Error::runtime(format!("illegal base64 data: {e}")))?;
                lua.create_string(out)
            })?,
        )?;
    }
    Ok(m)
}

/// `encoding/hex`: lower-case encoding, decoding with Go's messages.
pub fn hex(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "encode",
        lua.create_function(|_, s: LuaString| Ok(hex::encode(bytes(&s))))?,
    )?;
    m.set(
        "decode",
        lua.create_function(|lua, s: LuaString| {
            let raw = bytes(&s);
            if let Some(bad) = raw.iter().find(|b| !b.is_ascii_hexdigit()) {
                return Err(mlua::Error::runtime(format!(
                    "encoding/hex: invalid byte: U+{:04X} '{}'",
                    bad,
                    char::from(*bad)
                )));
            }
            if raw.len() % 2 == 1 {
                return Err(mlua::Error::runtime("encoding/hex: odd length hex string"));
            }
            let out = hex::decode(&raw).map_err(mlua::Error::external)?;
            lua.create_string(out)
        })?,
    )?;
    Ok(m)
}

/// A module with `digest(s)`: the raw digest of `D`.
fn digest_module<D: Digest>(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "digest",
        lua.create_function(|lua, s: LuaString| lua.create_string(D::digest(s.as_bytes())))?,
    )?;
    Ok(m)
}

/// `crypto/sha256`: `digest(s)`, the raw digest.
pub fn sha256(lua: &Lua) -> mlua::Result<Table> {
    digest_module::<sha2::Sha256>(lua)
}

/// `crypto/sha1`: `digest(s)`, the raw digest.
pub fn sha1(lua: &Lua) -> mlua::Result<Table> {
    digest_module::<sha1::Sha1>(lua)
}

type MacFn = fn(&[u8], &[u8]) -> Result<Vec<u8>, hmac::digest::InvalidLength>;

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, hmac::digest::InvalidLength> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key)?;
    mac.update(msg);
    Ok(mac.finalize().into_bytes().to_vec())
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> Result<Vec<u8>, hmac::digest::InvalidLength> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key)?;
    mac.update(msg);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// `sign(message, key)`: the raw MAC.
fn sign(lua: &Lua, mac: MacFn) -> mlua::Result<mlua::Function> {
    lua.create_function(move |lua, (msg, key): (LuaString, LuaString)| {
        let out = mac(&key.as_bytes(), &msg.as_bytes()).map_err(mlua::Error::external)?;
        lua.create_string(out)
    })
}

/// `crypto/hmac`: `sign_sha256(message, key)`, `sign_sha1(message, key)`.
pub fn hmac(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set("sign_sha256", sign(lua, hmac_sha256)?)?;
    m.set("sign_sha1", sign(lua, hmac_sha1)?)?;
    Ok(m)
}
