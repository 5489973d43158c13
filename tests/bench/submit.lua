-- wrk script: POSTs distinct, valid submissions of the bundled questionnaire to an open wave,
-- and counts the answers by status.
--
--   wrk -t2 -c64 -d15s --latency -s tests/bench/submit.lua \
--       https://127.0.0.1:8443/v1/waves/WAVE/responses -- RUNTAG
--
-- RUNTAG (12 hex digits; else $BENCH_RUN_TAG; else derived from the clock) makes the first two
-- groups of every submission_id, so ids are unique across runs; the third group carries the
-- wrk thread, the last the thread's own counter, so they are unique across threads:
--   RRRRRRRR-RRRR-4TTT-8000-CCCCCCCCCCCC   (a well-formed version-4 UUID)
-- At the end it prints one line that tests/bench/run.sh reads:
--   bench: sent=N answered=N 2xx=N non2xx=N status_201=N ...
-- ("sent" counts requests written; those still unanswered when wrk stops are sent - answered.)

local counter = 0
local tag = nil
thread_id = 0 -- set per thread by setup(); globals, so thread:set/get reach them
sent = 0
answered = 0
ok2xx = 0
non2xx = 0
statuses = {}
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local function clock_tag()
  return string.format("%08x%04x", os.time() % 4294967296, math.random(0, 65535))
end

function init(args)
  local t = args[1] or os.getenv("BENCH_RUN_TAG") or clock_tag()
  t = string.lower(t)
  if not t:match("^[0-9a-f]+$") or #t ~= 12 then
    error("run tag must be 12 hex digits, got " .. t)
  end
  tag = t:sub(1, 8) .. "-" .. t:sub(9, 12)
end

local stages = {"none", "exploring", "experimenting", "production"}
local priorities = {"genai", "security", "compute", "other"}
local roles = {"c_level", "vp_director", "head_of_it"}
local industries = {"finance", "ict", "manufacturing", "retail", "other"}
local sizes = {"small", "mid", "large"}

function request()
  counter = counter + 1
  sent = sent + 1
  local stage = stages[(counter % 4) + 1]
  local uses = ""
  if stage == "experimenting" or stage == "production" then
    uses = '"use_cases":["analytics"],'
  end
  local id = string.format("%s-4%03x-8000-%012x", tag, thread_id % 4096, counter)
  local body = '{"submission_id":"' .. id .. '","answers":{"role":"' .. roles[(counter % 3) + 1] ..
    '","industry":"' .. industries[(counter % 5) + 1] .. '",' ..
    '"company_size":"' .. sizes[(counter % 3) + 1] .. '","region":"seoul","genai_stage":"' ..
    stage .. '",' .. uses ..
    '"budget_top_priority":"' .. priorities[(counter % 4) + 1] .. '","caio":"appointed",' ..
    '"change_mgmt":"in_place","training":"in_place","hiring_genai_2025":"yes",' ..
    '"approach":["general_purpose"]}}'
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then
    ok2xx = ok2xx + 1
  else
    non2xx = non2xx + 1
  end
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local s, a, ok, bad, by = 0, 0, 0, 0, {}
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    a = a + t:get("answered")
    ok = ok + t:get("ok2xx")
    bad = bad + t:get("non2xx")
    for code, n in pairs(t:get("statuses")) do
      by[code] = (by[code] or 0) + n
    end
  end
  local line = string.format("bench: sent=%d answered=%d 2xx=%d non2xx=%d", s, a, ok, bad)
  local codes = {}
  for code in pairs(by) do
    table.insert(codes, code)
  end
  table.sort(codes)
  for _, code in ipairs(codes) do
    line = line .. string.format(" status_%d=%d", code, by[code])
  end
  local e = summary.errors
  line = line .. string.format(" err_connect=%d err_read=%d err_write=%d err_timeout=%d",
    e.connect, e.read, e.write, e.timeout)
  io.write(line .. "\n")
end
