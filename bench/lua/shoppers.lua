-- wrk script: every request carries one pre-logged-in shopper's session cookie and CSRF token.
--
-- Usage: wrk -s shoppers.lua <url> -- <shoppers file> <method> <path> <threads> <body> <location prefix>
-- The shoppers file has one "<session key> <csrf token>" pair per line. Thread t of T uses the
-- shoppers t, t+T, t+2T, ... round-robin, so two threads never send for the same shopper.
-- done() prints one line "BENCH_RESULT {json}" with throughput, latency percentiles, socket
-- errors, a count per HTTP status, and how many redirects went where a success goes (their
-- Location starts with <location prefix>) and how many elsewhere (a login page, a waiting room).

-- bench_common.lua sits beside this script.
package.path = debug.getinfo(1, "S").source:match("^@(.-)[^/]*$") .. "?.lua;" .. package.path
local common = require("bench_common")
setup = common.setup

local requests_by_shopper = {}
local position = 0
local location_prefix = ""
statuses = {}
redirects = {expected = 0, other = 0}

function init(args)
  local file, method, path, thread_count, body = args[1], args[2], args[3], tonumber(args[4]), args[5]
  location_prefix = args[6] or ""
  local n = 0
  for line in io.lines(file) do
    local session_key, csrf = line:match("^(%S+)%s+(%S+)")
    if session_key then
      if n % thread_count == thread_id then
        local headers = {
          ["Cookie"] = "sessionid=" .. session_key .. "; csrftoken=" .. csrf,
          ["X-CSRFToken"] = csrf,
        }
        if method == "POST" then
          headers["Content-Type"] = "application/x-www-form-urlencoded"
        end
        table.insert(requests_by_shopper, wrk.format(method, path, headers, body or ""))
      end
      n = n + 1
    end
  end
  if #requests_by_shopper == 0 then
    error("no shoppers for thread " .. thread_id .. " in " .. file)
  end
end

function request()
  position = position % #requests_by_shopper + 1
  return requests_by_shopper[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 300 and status < 400 then
    local location = headers["Location"] or headers["location"] or ""
    if location_prefix ~= "" and location:sub(1, #location_prefix) == location_prefix then
      redirects.expected = redirects.expected + 1
    else
      redirects.other = redirects.other + 1
    end
  end
end

function done(summary, latency, requests)
  common.write_result(summary, latency)
end
