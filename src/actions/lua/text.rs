//! `path`, `uuid` and `net/url`, with the semantics of the Go functions
//! lakeFS's library wraps.

use super::within_budget;
use mlua::{Lua, Table, Value, Variadic};

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
            if out.is_empty() || !out.ends_with(sep) {
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

/// Go's `path.Clean`: `.` and `..` resolved, slashes collapsed.
fn clean(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_owned(),
        (false, false) => body,
    }
}

/// Go's `filepath.Dir`: everything up to the last separator, cleaned.
fn dir(p: &str) -> String {
    match p.rfind('/') {
        Some(i) => clean(&p[..=i]),
        None => ".".to_owned(),
    }
}

/// Go's `url.PathEscape`.
fn path_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,:;=@".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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
        lua.create_function(|lua, (sep, parts): (String, Variadic<Value>)| {
            let mut size = 0usize;
            for p in parts.iter() {
                if let Value::String(s) = p {
                    size = size.saturating_add(s.as_bytes().len() + sep.len());
                }
            }
            within_budget(lua, size, "path.join")?;
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
        lua.create_function(|_, p: String| Ok(dir(&p)))?,
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
        lua.create_function(|_, s: String| Ok(path_escape(&s)))?,
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
    fn dirs_and_escapes_as_go() {
        assert_eq!(dir("a/b/c"), "a/b");
        assert_eq!(dir("a/b/"), "a/b");
        assert_eq!(dir("/"), "/");
        assert_eq!(dir("c"), ".");
        assert_eq!(dir(""), ".");
        assert_eq!(dir("/a"), "/");
        assert_eq!(path_escape("a b/c:d@e?"), "a%20b%2Fc:d@e%3F");
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
