-- Runs before every hook script, in a state without io, os, debug,
-- loadfile, dofile or binary chunks. Makes the state what lakeFS's Lua
-- hooks see: modules through `require` (from package.loaded and
-- package.preload only, never from files), a `print` that writes to the
-- hook's log, hook.fail, string.find plain unless told otherwise (lakeFS's
-- Lua has no patterns there), whole floats printed without ".0", the Lua
-- 5.2 math functions lakeFS scripts may call; and keeps a script from
-- catching the error that stops it at its instruction or time limit.
local modules, tripped, emit = ...

local _error, _pcall, _xpcall, _type = error, pcall, xpcall, type
local _tostring, _select, _mtype, _format = tostring, select, math.type, string.format
local _load, _resume, _pack, _unpack = load, coroutine.resume, table.pack, table.unpack
local _find, _floor, _huge = string.find, math.floor, math.huge

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

function load(chunk, name, mode, env)
  if env ~= nil then return _load(chunk, name, "t", env) end
  return _load(chunk, name, "t")
end

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
  if plain == nil then plain = true end
  return _find(s, pattern, init, plain)
end

math.pow = function(x, y) return x ^ y end
math.atan2 = function(y, x) return math.atan(y, x) end
math.ldexp = function(m, e) return m * 2.0 ^ e end
math.cosh = function(x) return (math.exp(x) + math.exp(-x)) / 2 end
math.sinh = function(x) return (math.exp(x) - math.exp(-x)) / 2 end
math.tanh = function(x) return math.sinh(x) / math.cosh(x) end
