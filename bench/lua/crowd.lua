-- wrk script for the crowd: each shopper opens the sale page once, polls the shared stock.json ten
-- times and clicks Reserve once (on a hot item most clicks find sold out), then the next shopper.
--
-- Usage: wrk -s crowd.lua <url> -- <shoppers file> <threads> <page path> <poll path> <reserve path> <body>
-- The shoppers file has one "<session key> <csrf token>" pair per line. Thread t of T uses the
-- shoppers t, t+T, t+2T, ... round-robin. done() prints "BENCH_RESULT {json}" as shoppers.lua does,
-- plus the journeys begun.

-- bench_common.lua sits beside this script.
package.path = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "?.lua;" .. package.path
local common = require("bench_common")
setup = common.setup

local JOURNEY = 12 -- 1 page + 10 polls + 1 reserve
local shoppers = {}
local step = 0
local current = 0
journeys = 0
statuses = {}
redirects = {expected = 0, other = 0}

function init(args)
  local file, thread_count = args[1], tonumber(args[2])
  local page, poll, reserve, body = args[3], args[4], args[5], args[6]
  local n = 0
  for line in io.lines(file) do
    local session_key, csrf = line:match("^(%S+)%s+(%S+)")
    if session_key then
      if n % thread_count == thread_id then
        local cookie = "sessionid=" .. session_key .. "; csrftoken=" .. csrf
        table.insert(shoppers, {
          page = wrk.format("GET", page, {["Cookie"] = cookie}),
          -- The shared poll carries no cookie in a real browser's cache key; sending it changes nothing.
          poll = wrk.format("GET", poll, {["Cookie"] = cookie, ["Accept"] = "application/json"}),
          reserve = wrk.format("POST", reserve, {
            ["Cookie"] = cookie,
            ["X-CSRFToken"] = csrf,
            ["Content-Type"] = "application/x-www-form-urlencoded",
          }, body),
        })
      end
      n = n + 1
    end
  end
  if #shoppers == 0 then
    error("no shoppers for thread " .. thread_id .. " in " .. file)
  end
end

function request()
  if step == 0 then
    current = current % #shoppers + 1
    journeys = journeys + 1
  end
  local shopper = shoppers[current]
  local s = step
  step = (step + 1) % JOURNEY
  if s == 0 then
    return shopper.page
  elseif s == JOURNEY - 1 then
    return shopper.reserve
  end
  return shopper.poll
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and status < 400 then
    redirects.expected = redirects.expected + 1
  end
end

function done(summary, latency, requests)
  local begun = 0
  for _, thread in ipairs(common.threads) do
    begun = begun + thread:get("journeys")
  end
  common.write_result(summary, latency, string.format(', "journeys": %d', begun))
end
