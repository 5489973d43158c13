-- wrk script: POSTs distinct, valid submissions of the bundled questionnaire to an open wave.
-- Each wrk thread numbers its own submissions; the thread id keeps ids unique across threads.
local counter = 0
thread_id = 0  -- set per thread by setup(); a global, so thread:set reaches it
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

local stages = {"none", "exploring", "experimenting", "production"}
local priorities = {"genai", "security", "compute", "other"}

function request()
  counter = counter + 1
  local stage = stages[(counter % 4) + 1]
  local uses = ""
  if stage == "experimenting" or stage == "production" then
    uses = '"use_cases":["analytics"],'
  end
  local id = string.format("%08x-0000-4000-8000-%012x", thread_id, counter)
  local body = '{"submission_id":"' .. id .. '","answers":{"role":"c_level","industry":"finance",' ..
    '"company_size":"small","region":"seoul","genai_stage":"' .. stage .. '",' .. uses ..
    '"budget_top_priority":"' .. priorities[(counter % 4) + 1] .. '","caio":"appointed",' ..
    '"change_mgmt":"in_place","training":"in_place","hiring_genai_2025":"yes",' ..
    '"approach":["general_purpose"]}}'
  return wrk.format("POST", wrk.path, {["Content-Type"] = "application/json"}, body)
end
