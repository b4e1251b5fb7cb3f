//! Values between Lua and JSON (and YAML), as lakeFS's Lua library converts
//! them: lists carry the array mark (a metatable with `_is_array = true`,
//! what `array(t)` sets) so that they encode back as lists; every other
//! table is an object; whole numbers are Lua integers and encode without
//! a `.0`; `null` is an absent key.

use mlua::{Lua, Table, Value};
use serde_json::{Map, Number, Value as Json};
use std::collections::BTreeMap;

/// The registry name of the shared array metatable.
const ARRAY_MT: &str = "tarn_array_mt";
/// How deep a table may nest before encoding refuses it (and a table
/// holding itself is caught).
const MAX_DEPTH: usize = 200;

/// Creates the array metatable (once per state).
pub fn install_array_mark(lua: &Lua) -> mlua::Result<Table> {
    let mt = lua.create_table()?;
    mt.raw_set("_is_array", true)?;
    // Scripts see a copy: the shared one cannot be changed (a `__gc` on it
    // would make every list a finalizer).
    let shown = lua.create_table()?;
    shown.raw_set("_is_array", true)?;
    mt.raw_set("__metatable", shown)?;
    lua.set_named_registry_value(ARRAY_MT, &mt)?;
    Ok(mt)
}

/// Marks `t` as a list.
pub fn mark_array(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let mt: Table = lua.named_registry_value(ARRAY_MT)?;
    t.set_metatable(Some(mt))
}

fn is_array(t: &Table) -> bool {
    t.metatable()
        .and_then(|mt| mt.raw_get::<Option<bool>>("_is_array").ok().flatten())
        .unwrap_or(false)
}

/// A JSON value as Lua sees it.
pub fn to_lua(lua: &Lua, v: &Json) -> mlua::Result<Value> {
    Ok(match v {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Integer(i),
            None => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::String(lua.create_string(s)?),
        Json::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.iter().enumerate() {
                t.raw_set(i + 1, to_lua(lua, item)?)?;
            }
            mark_array(lua, &t)?;
            Value::Table(t)
        }
        Json::Object(map) => {
            let t = lua.create_table_with_capacity(0, map.len())?;
            for (k, item) in map {
                t.raw_set(k.as_str(), to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
    })
}

/// A Lua value as JSON: lists for marked tables, objects (keys sorted)
/// for the rest; functions and other host values are refused, and so is a
/// value that would take more than `budget` bytes (a table referenced many
/// times is copied each time).
pub fn from_lua(v: &Value, budget: usize) -> mlua::Result<Json> {
    let mut left = budget;
    from_lua_at(v, 0, &mut left)
}

/// What a value costs as JSON, about: its text plus a node.
fn spend(left: &mut usize, bytes: usize) -> mlua::Result<()> {
    *left = left.checked_sub(bytes + 32).ok_or_else(|| {
        mlua::Error::runtime("the value is larger than the hook's memory limit allows to encode")
    })?;
    Ok(())
}

fn from_lua_at(v: &Value, depth: usize, left: &mut usize) -> mlua::Result<Json> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime(
            "table nested too deep (or holding itself)",
        ));
    }
    let text = match v {
        Value::String(s) => s.as_bytes().len(),
        _ => 0,
    };
    spend(left, text)?;
    Ok(match v {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::Number((*i).into()),
        Value::Number(f) => number(*f)?,
        Value::String(s) => Json::String(s.to_string_lossy()),
        Value::Table(t) if is_array(t) => {
            let n = t.raw_len();
            let mut out = Vec::with_capacity(n);
            for i in 1..=n {
                out.push(from_lua_at(&t.raw_get::<Value>(i)?, depth + 1, left)?);
            }
            Json::Array(out)
        }
        Value::Table(t) => {
            let mut sorted = BTreeMap::new();
            for pair in t.pairs::<Value, Value>() {
                let (k, item) = pair?;
                let key = match k {
                    Value::String(s) => s.to_string_lossy(),
                    Value::Integer(i) => i.to_string(),
                    Value::Number(f) => f.to_string(),
                    other => {
                        return Err(mlua::Error::runtime(format!(
                            "pull table, unsupported key type {}",
                            other.type_name()
                        )))
                    }
                };
                spend(left, key.len())?;
                sorted.insert(key, from_lua_at(&item, depth + 1, left)?);
            }
            Json::Object(sorted.into_iter().collect::<Map<_, _>>())
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "pull table, unsupported type {}",
                other.type_name()
            )))
        }
    })
}

/// A float as Go encodes it: whole numbers without a fraction.
fn number(f: f64) -> mlua::Result<Json> {
    if !f.is_finite() {
        return Err(mlua::Error::runtime(format!(
            "json: unsupported value: {}",
            if f.is_nan() { "NaN" } else { "+Inf" }
        )));
    }
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        return Ok(Json::Number((f as i64).into()));
    }
    Ok(Number::from_f64(f).map_or(Json::Null, Json::Number))
}

/// Encodes as Go's `json.Encoder` does: keys sorted, `<`, `>` and `&`
/// escaped, a newline at the end; `indent` (with `prefix`) pretty-prints.
pub fn marshal_json(v: &Json, prefix: &str, indent: Option<&str>) -> mlua::Result<String> {
    let text = match indent {
        None => serde_json::to_string(v).map_err(mlua::Error::external)?,
        Some(ind) => {
            let mut buf = Vec::new();
            let fmt = serde_json::ser::PrettyFormatter::with_indent(ind.as_bytes());
            let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
            serde::Serialize::serialize(v, &mut ser).map_err(mlua::Error::external)?;
            let s = String::from_utf8_lossy(&buf).into_owned();
            if prefix.is_empty() {
                s
            } else {
                s.replace('\n', &format!("\n{prefix}"))
            }
        }
    };
    // Structural JSON never holds these three, so they are inside strings.
    let mut out = text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    out.push('\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_objects_and_numbers_round_trip() {
        let lua = Lua::new();
        install_array_mark(&lua).unwrap();
        let json: Json =
            serde_json::from_str(r#"{"a":[1,2.5,"x",{}],"b":{"c":null,"d":true},"e":[]}"#).unwrap();
        let back = from_lua(&to_lua(&lua, &json).unwrap(), 1 << 20).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            r#"{"a":[1,2.5,"x",{}],"b":{"d":true},"e":[]}"#
        );
    }

    #[test]
    fn go_style_output() {
        let v = serde_json::json!({"b": "<&>", "a": 1});
        assert_eq!(
            marshal_json(&v, "", None).unwrap(),
            "{\"a\":1,\"b\":\"\\u003c\\u0026\\u003e\"}\n"
        );
        assert_eq!(number(5.0).unwrap(), serde_json::json!(5));
        assert!(number(f64::NAN).is_err());
    }

    #[test]
    fn a_table_holding_itself_is_refused() {
        let lua = Lua::new();
        let t = lua.create_table().unwrap();
        t.raw_set("me", &t).unwrap();
        assert!(from_lua(&Value::Table(t), 1 << 20).is_err());
    }

    #[test]
    fn shared_tables_are_counted_each_time() {
        let lua = Lua::new();
        let t: Value = lua
            .load("local t = {} for i = 1, 40 do t = {t, t} end return t")
            .eval()
            .unwrap();
        let e = from_lua(&t, 64 << 20).unwrap_err().to_string();
        assert!(e.contains("memory limit"), "{e}");
    }
}
