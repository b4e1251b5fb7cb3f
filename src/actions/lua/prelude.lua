-- Runs before every hook script, in a state without io, os, debug,
-- loadfile, dofile or binary chunks. Makes the state what lakeFS's Lua
-- hooks see: modules through `require` (from package.loaded and
-- package.preload only, never from files), a `print` that writes to the
-- hook's log, hook.fail, library errors as plain strings, string.find
-- plain (lakeFS's Lua has no patterns: match, gmatch and gsub are gone,
-- the regexp module is there), whole floats printed without ".0", the Lua
-- 5.2 math functions lakeFS scripts may call. It also keeps a script
-- within its limits: the error that stops it at its instruction or time
-- limit cannot be caught (by pcall, xpcall, coroutines or load's reader),
-- no finalizer (__gc, which runs without limits) can be set, and no C
-- loop runs longer than the data it walks (string.rep of "", table.move
-- over huge ranges, backtracking patterns).
local modules, tripped, emit, charge, no_close, plain_find = ...

local _error, _pcall, _xpcall, _type = error, pcall, xpcall, type
local _tostring, _select, _mtype, _format = tostring, select, math.type, string.format
local _load, _resume, _close, _pack, _unpack = load, coroutine.resume, coroutine.close, table.pack, table.unpack
local _find, _sub, _floor, _huge = string.find, string.sub, math.floor, math.huge
local _rep, _move, _setmetatable, _rawget, _pairs = string.rep, table.move, setmetatable, rawget, pairs
local _create, _wrap, _tointeger, _concat = coroutine.create, coroutine.wrap, math.tointeger, table.concat

-- A library error as lakeFS's are: a plain string, without mlua's
-- "runtime error: " and traceback.
local function plain_error(e)
  if _type(e) ~= "string" then e = _tostring(e) end
  local at = _find(e, "caused by: ", 1, true)
  if at then e = _sub(e, at + 11) end
  if _sub(e, 1, 15) == "runtime error: " then e = _sub(e, 16) end
  local tb = _find(e, "\nstack traceback:", 1, true)
  if tb then e = _sub(e, 1, tb - 1) end
  return e
end

local function wrap(f)
  return function(...)
    local r = _pack(_pcall(f, ...))
    if r[1] then return _unpack(r, 2, r.n) end
    local why = tripped()
    if why then _error(why, 0) end
    _error(plain_error(r[2]), 2)
  end
end

local function wrap_module(m)
  local out = {}
  for k, v in _pairs(m) do
    if _type(v) == "function" then out[k] = wrap(v) else out[k] = v end
  end
  return out
end

for name, m in _pairs(modules) do modules[name] = wrap_module(m) end
do
  -- Compiled expressions are tables of functions too.
  local re = modules["regexp"]
  local compile = re.compile
  re.compile = function(p) return wrap_module(compile(p)) end
end

local loaded = {}
for name, m in pairs(modules) do loaded[name] = m end
loaded["string"], loaded["table"], loaded["math"] = string, table, math
loaded["coroutine"], loaded["utf8"], loaded["_G"] = coroutine, utf8, _G
loaded["hook"] = {
  fail = function(message)
    if _type(message) ~= "string" then
      _error("bad argument #1 to 'fail' (string expected)", 2)
    end
    _error("<HookFailure>" .. message .. "</HookFailure>", 0)
  end,
}
package = { loaded = loaded, preload = {}, path = "?.lua", config = "/\n;\n?\n!\n-\n" }
loaded["package"] = package

function require(name)
  if _type(name) ~= "string" then
    _error("bad argument #1 to 'require' (string expected)", 2)
  end
  local m = package.loaded[name]
  if m ~= nil then return m end
  local loader = package.preload[name]
  if loader == nil then
    _error("module '" .. name .. "' not found", 2)
  end
  m = loader(name)
  if m == nil then m = true end
  package.loaded[name] = m
  return m
end

-- A stop (instruction or time limit) cannot be caught.
local function check(...)
  local why = tripped()
  if why then _error(why, 0) end
  return ...
end
function pcall(...) return check(_pcall(...)) end
function xpcall(...) return check(_xpcall(...)) end
coroutine.resume = function(...) return check(_resume(...)) end
coroutine.close = function(...) return check(_close(...)) end
coroutine.create = function(f) charge() return _create(f) end
coroutine.wrap = function(f) charge() return _wrap(f) end

-- Text only (binary chunks can crash the VM); a reader function runs
-- protected, so its stop is raised again.
function load(chunk, name, mode, env)
  if _type(chunk) == "function" then
    -- Read it all first (a reader runs protected), then check it.
    local parts, n = {}, 0
    while true do
      local piece = chunk()
      if piece == nil or piece == "" then break end
      n = n + 1
      parts[n] = piece
    end
    chunk = _concat(parts)
  end
  if _type(chunk) == "string" then
    local ok, err = _pcall(no_close, chunk)
    if not ok then return nil, plain_error(err) end
  end
  if env ~= nil then return check(_load(chunk, name, "t", env)) end
  return check(_load(chunk, name, "t"))
end

function setmetatable(t, mt)
  if _type(mt) == "table" and _rawget(mt, "__gc") ~= nil then
    _error("__gc metamethods are not available in hooks", 2)
  end
  return _setmetatable(t, mt)
end

string.rep = function(s, n, sep)
  if #_tostring(s) == 0 and (sep == nil or #_tostring(sep) == 0) then return "" end
  return _rep(s, n, sep)
end

table.move = function(a1, f, e, t, a2)
  local fi, ei = _tointeger(f), _tointeger(e)
  if fi == nil or ei == nil then _error("table.move: the range must be integers", 2) end
  if ei - fi > 10000000 then _error("table.move: range too large", 2) end
  charge()
  return _move(a1, fi, ei, t, a2)
end

local function no_patterns()
  _error("Lua patterns are not available in hooks (lakeFS's Lua has none): use the regexp module", 2)
end
string.match, string.gmatch, string.gsub = no_patterns, no_patterns, no_patterns

function tostring(v)
  if _mtype(v) == "float" and v == _floor(v) and v ~= _huge and v ~= -_huge then
    return _format("%.14g", v)
  end
  return _tostring(v)
end

function print(...)
  local n = _select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((_select(i, ...))) end
  emit(table.concat(parts, "\t") .. "\n")
end

string.find = function(s, pattern, init, plain)
  if plain == false then no_patterns() end
  local a, b = plain_find(_tostring(s), _tostring(pattern), init)
  if a == nil then return nil end
  return a, b
end

-- Scripts cannot change the metatable strings share.
getmetatable("").__metatable = false

math.pow = function(x, y) return x ^ y end
math.atan2 = function(y, x) return math.atan(y, x) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) return math.sinh(x) / math.cosh(x) end
