//! `strings`, `path`, `regexp`, `uuid` and `net/url`, with the semantics of
//! the Go functions lakeFS's library wraps (byte strings, no Lua patterns).

use super::convert::mark_array;
use mlua::{Lua, Table, Value, Variadic};

/// A list table (array-marked) of strings.
fn list(lua: &Lua, items: impl IntoIterator<Item = String>) -> mlua::Result<Table> {
    let t = lua.create_sequence_from(items)?;
    mark_array(lua, &t)?;
    Ok(t)
}

/// `strings`: `split`, `trim`, `replace`, `has_prefix`, `has_suffix`,
/// `contains`.
pub fn strings(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "split",
        lua.create_function(|lua, (s, sep): (String, String)| {
            let parts: Vec<String> = if sep.is_empty() {
                s.chars().map(String::from).collect()
            } else {
                s.split(sep.as_str()).map(str::to_owned).collect()
            };
            list(lua, parts)
        })?,
    )?;
    m.set(
        "trim",
        lua.create_function(|_, s: String| Ok(s.trim().to_owned()))?,
    )?;
    m.set(
        "replace",
        lua.create_function(|_, (s, old, new, n): (String, String, String, i64)| {
            Ok(if n < 0 {
                s.replace(&old, &new)
            } else {
                s.replacen(&old, &new, usize::try_from(n).unwrap_or(0))
            })
        })?,
    )?;
    m.set(
        "has_prefix",
        lua.create_function(|_, (s, p): (String, String)| Ok(s.starts_with(&p)))?,
    )?;
    m.set(
        "has_suffix",
        lua.create_function(|_, (s, p): (String, String)| Ok(s.ends_with(&p)))?,
    )?;
    m.set(
        "contains",
        lua.create_function(|_, (s, p): (String, String)| Ok(s.contains(&p)))?,
    )?;
    Ok(m)
}

/// lakeFS's `path.parse`: one trailing separator dropped, the parent
/// keeps its own.
fn parse_path(p: &str, sep: &str) -> (String, String) {
    let p = p.strip_suffix(sep).unwrap_or(p);
    match p.rfind(sep) {
        Some(i) => (p[..i + sep.len()].to_owned(), p[i + sep.len()..].to_owned()),
        None => (String::new(), p.to_owned()),
    }
}

/// lakeFS's `path.join(sep, parts...)`.
fn join_path(sep: &str, parts: &[String]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        let mut part = part.as_str();
        if i > 0 {
            part = part.strip_prefix(sep).unwrap_or(part);
            if !out.is_empty() && !out.ends_with(sep) {
                out.push_str(sep);
            } else if out.is_empty() {
                out.push_str(sep);
            }
        }
        out.push_str(part);
    }
    out
}

fn is_hidden(p: &str, sep: &str, prefix: &str) -> bool {
    !prefix.is_empty() && p.split(sep).any(|c| c.starts_with(prefix))
}

/// `path`: `parse`, `join`, `is_hidden`, `default_separator`,
/// `extract_dir_name`.
pub fn path(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "parse",
        lua.create_function(|lua, (p, sep): (String, Option<String>)| {
            let (parent, base) = parse_path(&p, sep.as_deref().unwrap_or("/"));
            let t = lua.create_table()?;
            t.set("parent", parent)?;
            t.set("base_name", base)?;
            Ok(t)
        })?,
    )?;
    m.set(
        "join",
        lua.create_function(|_, (sep, parts): (String, Variadic<Value>)| {
            let mut strs = Vec::with_capacity(parts.len());
            for p in parts.iter() {
                match p {
                    Value::String(s) => strs.push(s.to_string_lossy()),
                    Value::Integer(i) => strs.push(i.to_string()),
                    Value::Number(f) => strs.push(f.to_string()),
                    _ => return Err(mlua::Error::runtime("invalid type, string expected")),
                }
            }
            Ok(join_path(&sep, &strs))
        })?,
    )?;
    m.set(
        "is_hidden",
        lua.create_function(
            |_, (p, sep, prefix): (String, Option<String>, Option<String>)| {
                Ok(is_hidden(
                    &p,
                    sep.as_deref().unwrap_or("/"),
                    prefix.as_deref().unwrap_or("_"),
                ))
            },
        )?,
    )?;
    m.set("default_separator", lua.create_function(|_, ()| Ok("/"))?)?;
    m.set(
        "extract_dir_name",
        lua.create_function(|_, p: String| {
            Ok(match p.trim_end_matches('/').rfind('/') {
                Some(0) => "/".to_owned(),
                Some(i) => p[..i].to_owned(),
                None => ".".to_owned(),
            })
        })?,
    )?;
    Ok(m)
}

fn compile(pattern: &str) -> mlua::Result<regex::Regex> {
    regex::Regex::new(pattern)
        .map_err(|e| mlua::Error::runtime(format!("error parsing regexp: {e}")))
}

/// Go's "at most n, all when negative".
fn limit(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// `regexp`: `match(pattern, s)`, `quote_meta(s)`, `compile(pattern)` (a
/// table of closures: `find`, `find_submatch`, `find_all`,
/// `find_all_submatch`). Go's RE2 syntax is what the `regex` crate reads,
/// in linear time.
pub fn regexp(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "match",
        lua.create_function(|_, (pattern, s): (String, String)| {
            Ok(compile(&pattern)?.is_match(&s))
        })?,
    )?;
    m.set(
        "quote_meta",
        lua.create_function(|_, s: String| Ok(regex::escape(&s)))?,
    )?;
    m.set(
        "compile",
        lua.create_function(|lua, pattern: String| {
            let re = compile(&pattern)?;
            let t = lua.create_table()?;
            let r = re.clone();
            t.set(
                "find",
                lua.create_function(move |_, s: String| {
                    Ok(r.find(&s)
                        .map(|m| m.as_str().to_owned())
                        .unwrap_or_default())
                })?,
            )?;
            let r = re.clone();
            t.set(
                "find_submatch",
                lua.create_function(move |lua, s: String| {
                    let groups: Vec<String> = r
                        .captures(&s)
                        .map(|c| {
                            c.iter()
                                .map(|g| g.map(|g| g.as_str().to_owned()).unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_default();
                    list(lua, groups)
                })?,
            )?;
            let r = re.clone();
            t.set(
                "find_all",
                lua.create_function(move |lua, (s, n): (String, i64)| {
                    let all = r
                        .find_iter(&s)
                        .take(limit(n))
                        .map(|m| m.as_str().to_owned());
                    list(lua, all)
                })?,
            )?;
            let r = re;
            t.set(
                "find_all_submatch",
                lua.create_function(move |lua, (s, n): (String, i64)| {
                    let outer = lua.create_table()?;
                    for (i, c) in r.captures_iter(&s).take(limit(n)).enumerate() {
                        let groups = c
                            .iter()
                            .map(|g| g.map(|g| g.as_str().to_owned()).unwrap_or_default());
                        outer.raw_set(i + 1, list(lua, groups)?)?;
                    }
                    mark_array(lua, &outer)?;
                    Ok(outer)
                })?,
            )?;
            Ok(t)
        })?,
    )?;
    Ok(m)
}

/// `uuid`: `new()`, a random (version 4) UUID.
pub fn uuid(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "new",
        lua.create_function(|_, ()| Ok(uuid::Uuid::new_v4().to_string()))?,
    )?;
    Ok(m)
}

/// `net/url`: `parse(url)`, `query_unescape(s)`, `path_escape(s)`.
pub fn url(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "parse",
        lua.create_function(|lua, s: String| {
            let u = reqwest::Url::parse(&s).map_err(|e| mlua::Error::runtime(e.to_string()))?;
            let t = lua.create_table()?;
            let host = match (u.host_str(), u.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                _ => String::new(),
            };
            t.set("scheme", u.scheme())?;
            t.set("host", host)?;
            t.set("path", u.path())?;
            t.set("query", u.query().unwrap_or(""))?;
            t.set("fragment", u.fragment().unwrap_or(""))?;
            Ok(t)
        })?,
    )?;
    m.set(
        "query_unescape",
        lua.create_function(|_, s: String| {
            urlencoding::decode(&s.replace('+', " "))
                .map(|d| d.into_owned())
                .map_err(|e| mlua::Error::runtime(e.to_string()))
        })?,
    )?;
    m.set(
        "path_escape",
        lua.create_function(|_, s: String| Ok(urlencoding::encode(&s).into_owned()))?,
    )?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parse_keeps_the_parents_separator() {
        let cases = [
            ("foo/bar/baz", "foo/bar/", "baz"),
            ("bar", "", "bar"),
            ("bar/", "", "bar"),
            ("/bar", "/", "bar"),
            ("foo/bar/", "foo/", "bar"),
        ];
        for (input, parent, base) in cases {
            assert_eq!(
                parse_path(input, "/"),
                (parent.to_owned(), base.to_owned()),
                "{input}"
            );
        }
    }

    #[test]
    fn path_join_as_lakefs() {
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(join_path("/", &s(&["", "bar", "baz"])), "/bar/baz");
        assert_eq!(join_path("/", &s(&["foo/", "bar", "/baz"])), "foo/bar/baz");
        assert_eq!(join_path("/", &s(&["a", "b", "c/"])), "a/b/c/");
        assert_eq!(
            join_path("/", &s(&["path/", "to", "a", "file.data"])),
            "path/to/a/file.data"
        );
    }

    #[test]
    fn hidden_paths() {
        assert!(is_hidden("a/_b/c", "/", "_"));
        assert!(!is_hidden("/b_/c", "/", "_"));
        assert!(is_hidden("b/_c/", "/", "_"));
        assert!(!is_hidden("", "/", "_"));
        assert!(!is_hidden("/", "/", "_"));
    }
}
