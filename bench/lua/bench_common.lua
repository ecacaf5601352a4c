-- What the wrk scripts share: threads numbered by setup(), and one "BENCH_RESULT {json}" line from
-- the threads' counts (each script's response() keeps `statuses` and `redirects` per thread).
local M = {threads = {}}
local next_id = 0

function M.setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(M.threads, thread)
end

-- Throughput, latency percentiles, socket errors, a count per HTTP status and the redirects
-- (expected / other), summed over the threads; `extra` adds JSON members (', "journeys": 12').
function M.write_result(summary, latency, extra)
  local by_status = {}
  local expected, other = 0, 0
  for _, thread in ipairs(M.threads) do
    for status, count in pairs(thread:get("statuses")) do
      by_status[status] = (by_status[status] or 0) + count
    end
    local moved = thread:get("redirects")
    expected = expected + moved.expected
    other = other + moved.other
  end
  local parts = {}
  for status, count in pairs(by_status) do
    table.insert(parts, string.format('"%d": %d', status, count))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"duration_us": %d, "requests": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, "statuses": {%s}, '
      .. '"redirects": {"expected": %d, "other": %d}%s}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ", "),
    expected, other, extra or ""
  ))
end

return M
