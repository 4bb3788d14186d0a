-- One wrk script for every server and scenario. The harness sets:
--   BENCH_BODY      the JSON request body; `%ID%` is replaced by a random id per request
--   BENCH_IDS       how many ids there are (ids are BENCH_PREFIX .. zero-padded 0..BENCH_IDS-1)
--   BENCH_PREFIX    the id prefix (e.g. "c")
--   BENCH_EXPECT    a string every good response body contains
--   BENCH_PAD       how many digits ids are zero-padded to (0: a plain number, for offsets)
--   BENCH_AUTH      Authorization header values separated by commas (one picked per request), or empty
--   BENCH_IDS_FILE  instead of numbered ids: a file of values, one a line, `%ID%` becoming a random
--                   line per request (the cursors of (b'), which only the server can make). A line
--                   may carry its own Authorization value after a tab (a cursor is bound to its
--                   tenant, so it goes with that tenant's key); it then replaces BENCH_AUTH's.
--   BENCH_RUN       a tag unique to this wrk process (lowercase letters and digits)
--   `%RAND%` in the body becomes a fresh random number per request (so updates really change), and
--   `%SEQ%` a value no other request of any run has: BENCH_RUN, the thread and a counter (the
--   unique entity ids of (e)).
-- Every response body is checked: a GraphQL error still answers 200.

local body = os.getenv("BENCH_BODY")
local ids = tonumber(os.getenv("BENCH_IDS") or "1")
local prefix = os.getenv("BENCH_PREFIX") or ""
local expect = os.getenv("BENCH_EXPECT") or ""
local pad = tonumber(os.getenv("BENCH_PAD") or "5")
local run = os.getenv("BENCH_RUN") or "run"
local auth = {}
for value in string.gmatch(os.getenv("BENCH_AUTH") or "", "[^,]+") do
  table.insert(auth, value)
end
local listed = {}
local ids_file = os.getenv("BENCH_IDS_FILE") or ""
if ids_file ~= "" then
  for line in io.lines(ids_file) do
    local value, authorization = line:match("^([^\t]*)\t(.+)$")
    if value then
      table.insert(listed, { value, authorization })
    elseif line ~= "" then
      table.insert(listed, { line, nil })
    end
  end
  assert(#listed > 0, "BENCH_IDS_FILE " .. ids_file .. " lists nothing")
end
local path = os.getenv("BENCH_PATH") or "/graphql"
-- Only the substitutions the body asks for (the script's CPU is taken from the server's cores).
local has_rand = body:find("%RAND%", 1, true) ~= nil
local has_seq = body:find("%SEQ%", 1, true) ~= nil

-- A literal replacement (a function result is not read for `%1`-style captures).
local function fill(text, token, value)
  return (text:gsub(token, function() return value end))
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  sequence = 0
  math.randomseed(os.time() + id * 7919)
  wrk.method = "POST"
end

function request()
  local value, authorization
  if #listed > 0 then
    local item = listed[math.random(1, #listed)]
    value, authorization = item[1], item[2]
  else
    local number = math.random(0, ids - 1)
    value = prefix .. (pad > 0 and string.format("%0" .. pad .. "d", number) or tostring(number))
  end
  local text = fill(body, "%%ID%%", value)
  if has_rand then
    text = fill(text, "%%RAND%%", tostring(math.random(1, 1000000000)))
  end
  if has_seq then
    sequence = sequence + 1
    text = fill(text, "%%SEQ%%", run .. "_" .. id .. "_" .. sequence)
  end
  -- wrk.format replaces wrk.headers with the table it is given, so it carries them all.
  local headers = { ["Content-Type"] = "application/json" }
  if authorization == nil and #auth > 0 then
    authorization = auth[math.random(1, #auth)]
  end
  if authorization ~= nil then
    headers["Authorization"] = authorization
  end
  return wrk.format(nil, path, headers, text)
end

function response(status, headers, text)
  if status ~= 200 or text:find('"errors"', 1, true) or not text:find(expect, 1, true) then
    bad = bad + 1
    if bad == 1 then
      io.stderr:write("first bad response (" .. status .. "): " .. text:sub(1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("bad")
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "BENCH_RESULT requests=%d bad=%d socket_errors=%d duration_us=%d p50_us=%d p99_us=%d\n",
    summary.requests, failed, errors, summary.duration,
    latency:percentile(50), latency:percentile(99)))
end
