-- wrk script for bench/run and bench/soak. Every request is built once, in init(), before the run: users (one
-- token each), identity providers and keys rotate through the prepared set, so that request() only hands out the
-- next string and response() only checks the status and the result's sign. SCENARIO picks the call.
local scenario = os.getenv("SCENARIO")
local threads = {}
local prepared = {}
local next_request = 1
errors = 0 -- global: done() reads it from each thread

function setup(thread)
  table.insert(threads, thread)
end

local all_keys = '["key-0","key-1","key-2","key-3","key-4","key-5","key-6","key-7","key-8","key-9"]'

-- mixed (the soak's traffic): 70% get with 1 key, 10% get with 10 keys, 15% set, 5% shared-list-get
local function pick(roll)
  if scenario ~= "mixed" then
    return scenario
  end
  if roll <= 70 then return "get1" elseif roll <= 80 then return "get10" elseif roll <= 95 then return "set" else return "shared" end
end

-- retrieve: one of the intents bench/run signed in ("n id token" lines), asked for again and again (SPEC §4.2 allows it).
local function retrieve(token, intent)
  return wrk.format("POST", "/v2/idp_intents/" .. intent.id,
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, '{"idpIntentToken":"' .. intent.token .. '"}')
end

local function build(kind, token, idp, key, serial)
  local family, path, body = "by-idp", nil, nil
  if kind == "uid1" then
    family, path, body = "by-user-id", "get", '{"value_keys":["key-' .. key .. '"]}'
  elseif kind == "get1" then
    path, body = "get", '{"identity_provider":"' .. idp .. '","value_keys":["key-' .. key .. '"]}'
  elseif kind == "get10" then
    path, body = "get", '{"identity_provider":"' .. idp .. '","value_keys":' .. all_keys .. '}'
  elseif kind == "set" then
    path, body = "set", '{"identity_provider":"' .. idp .. '","value_key":"key-' .. (key % 5) .. '","value_data":"bench value ' .. serial .. '","access_scope":0}'
  elseif kind == "delete" then
    path, body = "delete", '{"identity_provider":"' .. idp .. '","value_keys":["key-' .. (key % 5) .. '"]}'
  elseif kind == "list" then
    path, body = "list-get", '{"identity_provider":"' .. idp .. '"}'
  else
    path, body = "shared-list-get", '{"identity_provider":"' .. idp .. '","page_size":100}'
  end
  return wrk.format("POST", "/user-data/" .. family .. "/" .. path,
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end

function init(args)
  local tokens = {}
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    tokens[#tokens + 1] = line
  end
  local intents = {}
  if scenario == "retrieve" then
    for line in io.lines(os.getenv("INTENTS_FILE")) do
      local _, id, token = string.match(line, "(%S+) (%S+) (%S+)")
      intents[#intents + 1] = { id = id, token = token }
    end
  end
  local seed = #threads + tonumber(string.sub(tostring({}), 8), 16) % 100000
  math.randomseed(os.time() * 1000 + seed)
  -- Enough distinct requests that each user and key comes round many times, in a random order per thread.
  local count = math.max(4096, #tokens * 4)
  for i = 1, count do
    local idp = (math.random(2) == 1) and "telegram" or "google"
    if scenario == "retrieve" then
      prepared[i] = retrieve(tokens[math.random(#tokens)], intents[math.random(#intents)])
    else
      prepared[i] = build(pick(math.random(100)), tokens[math.random(#tokens)], idp, math.random(0, 9), seed * count + i)
    end
  end
  next_request = math.random(count)
end

function request()
  local r = prepared[next_request]
  next_request = next_request % #prepared + 1
  return r
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
