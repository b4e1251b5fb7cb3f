//! The Lua host without a server: globals, library, sandbox and limits.

use super::{run, LuaRun};
use crate::settings::LuaSettings;
use serde_json::json;

fn limits() -> LuaSettings {
    LuaSettings {
        memory_bytes: 16 << 20,
        max_instructions: 20_000_000,
        timeout_secs: 10,
    }
}

async fn lua_with(script: &str, settings: &LuaSettings) -> (Result<(), String>, String) {
    let action = json!({
        "action_name": "checks", "hook_id": "h1", "run_id": "r1", "pre_run_id": "",
        "event_type": "pre-commit", "repository_id": "repo", "storage_namespace": "local://x",
        "branch_id": "main", "source_ref": "main", "commit_id": "", "tag_id": "",
        "merge_source": "",
        "commit": {"message": "hello", "meta_range_id": "", "creation_date": "0001-01-01T00:00:00Z",
                   "version": 1, "metadata": {"version": "1.00"}, "parents": []},
    });
    let args = json!({"allowed": ["a", "b"], "limit": 3});
    run(
        LuaRun {
            script: script.to_owned(),
            action,
            args,
            username: "alice".to_owned(),
            api: None,
        },
        settings,
    )
    .await
}

async fn lua(script: &str) -> (Result<(), String>, String) {
    lua_with(script, &limits()).await
}

#[tokio::test]
async fn globals_and_print() {
    let (r, log) = lua(
        "print('hello ' .. username .. '!', action.branch_id, #args.allowed, args.limit, 10/2, 2^3)\n\
         print(action.commit.metadata.version, action.commit.version)",
    )
    .await;
    assert_eq!(r, Ok(()));
    assert_eq!(log, "hello alice!\tmain\t2\t3\t5\t8\n1.00\t1\n");
}

#[tokio::test]
async fn errors_name_the_line_and_hook_fail_its_message_alone() {
    let (r, _) = lua("local x = 1\nerror('bad header: ' .. x)").await;
    let e = r.unwrap_err();
    assert!(e.contains("[string \"lua\"]:2: bad header: 1"), "{e}");
    let (r, _) = lua("local hook = require('hook')\nhook.fail('this hook shall not pass')").await;
    assert_eq!(r, Err("this hook shall not pass".to_owned()));
    let (r, _) =
        lua("local hook = require('hook')\nlocal ok = pcall(hook.fail, 'x')\nprint(ok)").await;
    assert_eq!(r, Ok(()), "hook.fail is an error like any other to pcall");
}

#[tokio::test]
async fn the_sandbox_has_no_files_processes_or_binary_chunks() {
    for (script, expect) in [
        ("os.execute('touch /tmp/tarn-lua-escape')", "global 'os'"),
        ("io.open('/etc/passwd')", "global 'io'"),
        ("require('io')", "module 'io' not found"),
        ("require('os')", "module 'os' not found"),
        ("loadfile('/etc/passwd')", "global 'loadfile'"),
        ("dofile('/etc/passwd')", "global 'dofile'"),
        ("debug.getinfo(1)", "global 'debug'"),
        ("string.dump(print)", "field 'dump'"),
        ("package.loadlib('x', 'y')", "field 'loadlib'"),
    ] {
        let (r, _) = lua(script).await;
        let e = r.expect_err(script);
        assert!(e.contains(expect), "{script}: {e}");
    }
    let (r, log) = lua("local f, err = load('\\27Lua\\84\\0') print(f, err)").await;
    assert_eq!(r, Ok(()));
    assert!(
        log.contains("nil\tattempt to load a binary chunk (mode is 't')"),
        "binary chunks refused: {log}"
    );
}

#[tokio::test]
async fn runaway_loops_stop_at_the_instruction_limit_even_inside_pcall() {
    for script in [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
        // load's reader runs protected.
        "while true do load(function() while true do end end) end",
        // A stopped script that carries on still fails.
        "pcall(function() while true do end end) print('carried on')",
    ] {
        let (r, _) = lua(script).await;
        let e = r.expect_err(script);
        assert!(
            e.contains("more than 20000000 instructions"),
            "{script}: {e}"
        );
    }
}

#[tokio::test]
async fn a_script_stops_at_its_deadline_and_its_memory_limit() {
    let slow = LuaSettings {
        memory_bytes: 16 << 20,
        max_instructions: u64::MAX,
        timeout_secs: 1,
    };
    let started = std::time::Instant::now();
    let (r, _) = lua_with("while true do end", &slow).await;
    assert!(r.unwrap_err().contains("ran out of time"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let (r, _) = lua("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end").await;
    let e = r.unwrap_err();
    assert!(e.contains("memory limit"), "{e}");
}

#[tokio::test]
async fn encodings_and_hashes() {
    let (r, log) = lua(r#"
        local json = require("encoding/json")
        local yaml = require("encoding/yaml")
        local b64 = require("encoding/base64")
        local hex = require("encoding/hex")
        local sha256 = require("crypto/sha256")
        local hmac = require("crypto/hmac")
        print(json.marshal({b = array({1, 2.5, "x"}), a = {}, c = array({})}))
        local v = json.unmarshal('{"list":[1,{"k":null}],"n":7}')
        print(v.n, #v.list, json.marshal(v.list))
        local y = yaml.unmarshal("name: t\ncols:\n  - a\n  - b\nok: true\n")
        print(y.name, y.cols[2], y.ok, #y.cols)
        print(b64.encode("hi?"), b64.url_encode("hi?"), b64.decode("aGk/"))
        print(hex.encode("AB"), hex.decode("4142"))
        print(hex.encode(sha256.digest("abc")))
        print(hex.encode(hmac.sign_sha256("message", "key")))
        local ok, err = pcall(hex.decode, "zz")
        print(ok, err, type(err))
        "#)
    .await;
    assert_eq!(r, Ok(()), "{log}");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], r#"{"a":{},"b":[1,2.5,"x"],"c":[]}"#);
    assert_eq!(lines[2], "7\t2\t[1,{}]");
    assert_eq!(lines[4], "t\tb\ttrue\t2");
    assert_eq!(lines[5], "aGk/\taGk_\thi?");
    assert_eq!(lines[6], "4142\tAB");
    assert_eq!(
        lines[7],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        lines[8],
        "6e9ef29b75fffc5b7abae527d58fdadb2fe42e7219011976917343065f58ed4a"
    );
    assert!(
        lines[9] == "false\tencoding/hex: invalid byte: U+007A 'z'\tstring",
        "{}",
        lines[9]
    );
}

#[tokio::test]
async fn strings_paths_regexps_times_and_uuids() {
    let (r, log) = lua(
        r#"
        local strings = require("strings")
        local path = require("path")
        local regexp = require("regexp")
        local time = require("time")
        local uuid = require("uuid")
        local url = require("net/url")
        local parts = strings.split("a,b,", ",")
        print(#parts, parts[1], parts[3] == "", strings.trim("  x "), strings.replace("aaa", "a", "b", 2))
        print(strings.has_prefix("abc", "ab"), strings.has_suffix("abc", "bc"), strings.contains("abc", "x"))
        local p = path.parse("a/b/c.csv")
        print(p.parent, p.base_name, path.join("/", "path/", "to", "a", "file.data"), path.is_hidden("a/_b/c"))
        print(regexp.match("^[a-z0-9\\_\\-]+$", "main"), regexp.match("^[a-z]+$", "Main"))
        local re = regexp.compile("(\\w+)=(\\d+)")
        local m = re.find_submatch("x=1 y=2")
        print(re.find("x=1 y=2"), m[2], m[3], #re.find_all("x=1 y=2", -1), re.find("nothing"))
        local t = time.parse_iso("2024-03-05T07:08:09+02:00")
        print(time.format_iso(t, "UTC"), time.format(time.add(t, {hour = 1}), "2006-01-02 15:04", "UTC"))
        local _, no = pcall(string.gsub, "a", "a", "b")
        print(#uuid.new(), ("x"):find("."), ("a.b"):find("."), no:find("use the regexp module", 1, true) ~= nil)
        local u = url.parse("https://example.com/path?p1=a#section")
        print(u.scheme, u.host, u.path, u.query, u.fragment)
        "#,
    )
    .await;
    assert_eq!(r, Ok(()), "{log}");
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[0], "3\ta\ttrue\tx\tbba");
    assert_eq!(lines[1], "true\ttrue\tfalse");
    assert_eq!(lines[2], "a/b/\tc.csv\tpath/to/a/file.data\ttrue");
    assert_eq!(lines[3], "true\tfalse");
    assert_eq!(lines[4], "x=1\tx\t1\t2\t");
    assert_eq!(lines[5], "2024-03-05T05:08:09+00:00\t2024-03-05 06:08");
    // "." is plain (lakeFS's find has no patterns) unless told otherwise.
    assert_eq!(lines[6], "36\tnil\t2\ttrue");
    assert_eq!(lines[7], "https\texample.com\t/path\tp1=a\tsection");
}

/// lakeFS's quickstart hook (docs: "Check Commit Message and Metadata").
#[tokio::test]
async fn the_quickstart_example_runs_unchanged() {
    let script = r#"
commit_message=action.commit.message
if commit_message and #commit_message>0 then
    print("✅ The commit message exists and is not empty: " .. commit_message)
else
    error("\n\n❌ A commit message must be provided")
end
job_name=action.commit.metadata["job_name"]
if job_name == nil then
    error("\n❌ Commit metadata must include job_name")
else
    print("✅ Commit metadata includes job_name: " .. job_name)
end
"#;
    let (r, log) = lua(script).await;
    assert!(log.contains("✅ The commit message exists and is not empty: hello"));
    assert!(r
        .unwrap_err()
        .contains("❌ Commit metadata must include job_name"));
}

#[tokio::test]
async fn the_lakefs_module_needs_a_user() {
    let (r, _) = lua("local lakefs = require('lakefs')\nlakefs.get_object('r', 'main', 'x')").await;
    assert!(r.unwrap_err().contains("no user to act as"));
}

#[tokio::test]
async fn finalizers_and_long_c_loops_are_refused() {
    for (script, expect) in [
        (
            "setmetatable({}, {__gc = function() while true do end end})",
            "__gc metamethods are not available",
        ),
        ("table.move({}, 1, math.maxinteger, 1)", "range too large"),
        (
            "string.match(string.rep('a', 30), '.-.-.-.-b')",
            "use the regexp module",
        ),
        ("('a'):gsub('a', 'b')", "use the regexp module"),
        ("string.find('abc', 'b', 1, false)", "use the regexp module"),
    ] {
        let (r, _) = lua(script).await;
        let e = r.expect_err(script);
        assert!(e.contains(expect), "{script}: {e}");
    }
    let started = std::time::Instant::now();
    let (r, log) = lua("print(#string.rep('', math.maxinteger), #string.rep('ab', 3, ''))").await;
    assert_eq!(r, Ok(()));
    assert_eq!(log, "0\t6\n");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn sleeping_stops_at_the_deadline() {
    let short = LuaSettings {
        memory_bytes: 16 << 20,
        max_instructions: u64::MAX,
        timeout_secs: 1,
    };
    let started = std::time::Instant::now();
    let (r, _) = lua_with(
        "local time = require('time') while true do time.sleep(1e9) end",
        &short,
    )
    .await;
    assert!(r.unwrap_err().contains("ran out of time"));
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[tokio::test]
async fn rust_side_results_are_held_to_the_memory_limit() {
    for (script, expect) in [
        (
            "local json = require('encoding/json') local t = {} for i = 1, 40 do t = {t, t} end json.marshal(t)",
            "memory limit",
        ),
        (
            "local s = require('strings') s.replace(string.rep('a', 1000), '', string.rep('x', 100000), -1)",
            "memory limit",
        ),
        (
            "local path = require('path') local big = string.rep('x', 1000000) local t = {} for i = 1, 100 do t[i] = big end path.join('/', table.unpack(t))",
            "memory limit",
        ),
        (
            "local json = require('encoding/json') json.unmarshal('[' .. string.rep('0,', 400000) .. '0]')",
            "memory limit",
        ),
    ] {
        let (r, _) = lua(script).await;
        let e = r.expect_err(script);
        assert!(e.contains(expect), "{script}: {e}");
    }
}

#[tokio::test]
async fn strings_are_bytes() {
    let (r, log) = lua(
        "local s = require('strings') local parts = s.split('id;nam\\233\\nrow', '\\n') print(#parts, #parts[1], s.has_suffix(parts[1], '\\233'))",
    )
    .await;
    assert_eq!(r, Ok(()), "{log}");
    assert_eq!(log, "2\t7\ttrue\n");
}

#[tokio::test]
async fn coroutines_and_closers_cannot_slip_past_the_limits() {
    for (script, expect) in [
        (
            "local function node(d) for i = 1, 1000 do end if d > 0 then coroutine.wrap(node)(d - 1) coroutine.wrap(node)(d - 1) end end node(40)",
            "more than 20000000 instructions",
        ),
        (
            "local mt = {} function mt.__close() while true do end end local x <close> = setmetatable({}, mt) while true do end",
            "to-be-closed variables",
        ),
        (
            "rawset(getmetatable(''), '__close', function() end)",
            "table expected",
        ),
        ("table.move({}, '1', '1e15', 1)", "table.move"),
    ] {
        let (r, _) = lua(script).await;
        let e = r.expect_err(script);
        assert!(e.contains(expect), "{script}: {e}");
    }
    let (r, log) = lua(
        "local f, err = load('local x <' .. 'close> = nil') print(f, err)\n\
         getmetatable(array({})).__gc = function() while true do end end\n\
         for i = 1, 10 do local t = array({i}) end collectgarbage() print('collected')",
    )
    .await;
    assert_eq!(r, Ok(()), "{log}");
    assert!(log.starts_with("nil\tto-be-closed variables"), "{log}");
    assert!(log.ends_with("collected\n"), "{log}");
}

#[tokio::test]
async fn plain_find_is_linear_and_as_lua() {
    let started = std::time::Instant::now();
    let (r, log) = lua(
        "local s = ('a'):rep(2^22) print(s:find(('a'):rep(2^21) .. 'b'))\n\
         print(('hello'):find('l'), ('hello'):find('l', -2), ('hello'):find('', 3), ('hello'):find('x', 10))",
    )
    .await;
    assert_eq!(r, Ok(()), "{log}");
    assert_eq!(log, "nil\n3\t4\t3\tnil\n");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}
