-- wrk script for bench/run: rotates users (one token each) and keys; SCENARIO picks the call.
-- Counts as errors every non-200 answer and every negative result code.
local scenario = os.getenv("SCENARIO")
local tokens = {}
local threads = {}
errors = 0 -- global: done() reads it from each thread
local serial = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  math.randomseed(os.time() * 1000 + #threads + tonumber(string.sub(tostring({}), 8), 16) % 100000)
end

local all_keys = '["key-0","key-1","key-2","key-3","key-4","key-5","key-6","key-7","key-8","key-9"]'

-- mixed (the soak's traffic): 70% get with 1 key, 10% get with 10 keys, 15% set, 5% shared-list-get
local function pick_scenario()
  if scenario ~= "mixed" then
    return scenario
  end
  local roll = math.random(100)
  if roll <= 70 then return "get1" elseif roll <= 80 then return "get10" elseif roll <= 95 then return "set" else return "shared" end
end

function request()
  local scenario = pick_scenario()
  local user = math.random(#tokens)
  local idp = (math.random(2) == 1) and "telegram" or "google"
  local family, path, body = "by-idp", nil, nil
  if scenario == "uid1" then
    family = "by-user-id"
    path = "get"
    body = '{"value_keys":["key-' .. math.random(0, 9) .. '"]}'
  elseif scenario == "get1" then
    path = "get"
    body = '{"identity_provider":"' .. idp .. '","value_keys":["key-' .. math.random(0, 9) .. '"]}'
  elseif scenario == "get10" then
    path = "get"
    body = '{"identity_provider":"' .. idp .. '","value_keys":' .. all_keys .. '}'
  elseif scenario == "set" then
    serial = serial + 1
    path = "set"
    body = '{"identity_provider":"' .. idp .. '","value_key":"key-' .. math.random(0, 4) .. '","value_data":"bench value ' .. serial .. '","access_scope":0}'
  else
    path = "shared-list-get"
    body = '{"identity_provider":"' .. idp .. '","page_size":100}'
  end
  return wrk.format("POST", "/user-data/" .. family .. "/" .. path,
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. tokens[user] }, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"result":-', 1, true) then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  local result_errors = 0
  for _, thread in ipairs(threads) do
    result_errors = result_errors + thread:get("errors")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"answer_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, result_errors,
    latency:percentile(50), latency:percentile(99)))
end
