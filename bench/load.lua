-- One wrk script for every server and scenario. The harness sets:
--   BENCH_BODY    the JSON request body; `%ID%` is replaced by a random id per request
--   BENCH_IDS     how many ids there are (ids are BENCH_PREFIX .. zero-padded 0..BENCH_IDS-1)
--   BENCH_PREFIX  the id prefix (e.g. "c")
--   BENCH_EXPECT  a string every good response body contains
--   BENCH_PAD     how many digits ids are zero-padded to (0: a plain number, for offsets)
--   BENCH_AUTH    Authorization header values separated by commas (one picked per request), or empty
--   `%RAND%` in the body becomes a fresh random number per request (so updates really change).
-- Every response body is checked: a GraphQL error still answers 200.

local body = os.getenv("BENCH_BODY")
local ids = tonumber(os.getenv("BENCH_IDS") or "1")
local prefix = os.getenv("BENCH_PREFIX") or ""
local expect = os.getenv("BENCH_EXPECT") or ""
local pad = tonumber(os.getenv("BENCH_PAD") or "5")
local auth = {}
for value in string.gmatch(os.getenv("BENCH_AUTH") or "", "[^,]+") do
  table.insert(auth, value)
end
local path = os.getenv("BENCH_PATH") or "/graphql"

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  bad = 0
  math.randomseed(os.time() + id * 7919)
  wrk.method = "POST"
end

function request()
  local number = math.random(0, ids - 1)
  local id = prefix .. (pad > 0 and string.format("%0" .. pad .. "d", number) or tostring(number))
  local text = body:gsub("%%ID%%", id):gsub("%%RAND%%", tostring(math.random(1, 1000000000)))
  -- wrk.format replaces wrk.headers with the table it is given, so it carries them all.
  local headers = { ["Content-Type"] = "application/json" }
  if #auth > 0 then
    headers["Authorization"] = auth[math.random(1, #auth)]
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
