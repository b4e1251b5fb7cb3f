//! `regexp`, as Go's `regexp` that lakeFS's library wraps: RE2 syntax
//! (which the `regex` crate reads, in time linear in the input), on byte
//! strings, with Go's ASCII-only `\d`, `\w`, `\s` and `\b`. `match(pattern,
//! s)`, `quote_meta(s)`, `compile(pattern)` (a table of closures: `find`,
//! `find_submatch`, `find_all`, `find_all_submatch`).

use super::convert::mark_array;
use mlua::{Lua, LuaString, Table};
use regex::bytes::Regex;

/// Go's Perl classes are ASCII; the `regex` crate's are Unicode unless
/// asked otherwise: rewrites them to their ASCII forms.
fn go_syntax(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                match (in_class, n) {
                    (false, 'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'b' | 'B') => {
                        out.push_str("(?-u:\\");
                        out.push(n);
                        out.push(')');
                    }
                    (true, 'd') => out.push_str("0-9"),
                    (true, 'w') => out.push_str("0-9A-Za-z_"),
                    (true, 's') => out.push_str("\\t\\n\\x0C\\r "),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                // A `]` first in a class is itself.
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class, `[:alpha:]`, kept whole.
                out.push('[');
                for p in chars.by_ref() {
                    out.push(p);
                    if p == ']' {
                        break;
                    }
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

/// The most memory one compiled expression may take.
const MAX_COMPILED: usize = 1 << 20;

fn compile(pattern: &str) -> mlua::Result<Regex> {
    regex::bytes::RegexBuilder::new(&go_syntax(pattern))
        .size_limit(MAX_COMPILED)
        .build()
        .map_err(|e| mlua::Error::runtime(format!("error parsing regexp: {e}")))
}

/// Go's `QuoteMeta`.
fn quote_meta(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for &b in s {
        if br"\.+*?()|[]{}^$".contains(&b) {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// Go's "at most n, all when negative".
fn limit(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// A list of a match's groups (unmatched ones empty).
fn groups(lua: &Lua, c: &regex::bytes::Captures) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (i, g) in c.iter().enumerate() {
        t.raw_set(
            i + 1,
            lua.create_string(g.map_or(&b""[..], |g| g.as_bytes()))?,
        )?;
    }
    mark_array(lua, &t)?;
    Ok(t)
}

fn compiled(lua: &Lua, re: Regex) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let r = re.clone();
    t.set(
        "find",
        lua.create_function(move |lua, s: LuaString| {
            let s = s.as_bytes();
            lua.create_string(r.find(&s).map_or(&b""[..], |m| m.as_bytes()))
        })?,
    )?;
    let r = re.clone();
    t.set(
        "find_submatch",
        lua.create_function(move |lua, s: LuaString| match r.captures(&s.as_bytes()) {
            Some(c) => groups(lua, &c),
            None => {
                let t = lua.create_table()?;
                mark_array(lua, &t)?;
                Ok(t)
            }
        })?,
    )?;
    let r = re.clone();
    t.set(
        "find_all",
        lua.create_function(move |lua, (s, n): (LuaString, i64)| {
            let s = s.as_bytes();
            let t = lua.create_table()?;
            for (i, m) in r.find_iter(&s).take(limit(n)).enumerate() {
                t.raw_set(i + 1, lua.create_string(m.as_bytes())?)?;
            }
            mark_array(lua, &t)?;
            Ok(t)
        })?,
    )?;
    t.set(
        "find_all_submatch",
        lua.create_function(move |lua, (s, n): (LuaString, i64)| {
            let s = s.as_bytes();
            let t = lua.create_table()?;
            for (i, c) in re.captures_iter(&s).take(limit(n)).enumerate() {
                t.raw_set(i + 1, groups(lua, &c)?)?;
            }
            mark_array(lua, &t)?;
            Ok(t)
        })?,
    )?;
    Ok(t)
}

/// The `regexp` module.
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let m = lua.create_table()?;
    m.set(
        "match",
        lua.create_function(|_, (pattern, s): (String, LuaString)| {
            Ok(compile(&pattern)?.is_match(&s.as_bytes()))
        })?,
    )?;
    m.set(
        "quote_meta",
        lua.create_function(|lua, s: LuaString| lua.create_string(quote_meta(&s.as_bytes())))?,
    )?;
    m.set(
        "compile",
        lua.create_function(|lua, pattern: String| compiled(lua, compile(&pattern)?))?,
    )?;
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perl_classes_are_ascii_as_in_go() {
        assert!(compile(r"^\d+$").unwrap().is_match(b"123"));
        assert!(!compile(r"^\d+$").unwrap().is_match("١٢٣".as_bytes()));
        assert!(!compile(r"^\w+$").unwrap().is_match("é".as_bytes()));
        assert!(compile(r"^[\w-]+$").unwrap().is_match(b"a-b_c"));
        assert!(!compile(r"^[\w-]+$").unwrap().is_match("a-é".as_bytes()));
        assert!(compile(r"^[a-z0-9\_\-]+$").unwrap().is_match(b"feature-x"));
        assert!(compile(r"[[:alpha:]]+").unwrap().is_match(b"abc"));
        assert!(compile(r"[]a]").unwrap().is_match(b"]"));
        assert!(compile(r"\bword\b").unwrap().is_match(b"a word here"));
    }

    #[test]
    fn quote_meta_as_go() {
        assert_eq!(quote_meta(b"a.b-c&d"), b"a\\.b-c&d");
    }
}
