-- Write the opening shuffle of a waiting room, once. The caller read the pre-queue and its
-- version, shuffled it with a secure RNG, and passes the order here; if anyone joined or left the
-- pre-queue meanwhile the version differs and the caller starts over, so nobody is lost.
--
-- KEYS: 1 waiting  2 pre  3 queue
-- ARGV: 1 now  2 pre-queue version read with the members  3 starts_at  4.. user ids, shuffled
-- Returns {"shuffled", n} | {"already"} | {"stale"} | {"mismatch"}

local state = redis.call('HMGET', KEYS[1], 'shuffled', 'pre_version')
if state[1] == '1' then
  return {'already'}
end
if (state[2] or '0') ~= ARGV[2] then
  return {'stale'}
end
local n = #ARGV - 3
if redis.call('ZCARD', KEYS[2]) ~= n then
  return {'mismatch'}
end

-- Positions 1..n in the shuffled order; later arrivals continue from n + 1 (the seq field).
local batch = {}
for i = 1, n do
  batch[#batch + 1] = i
  batch[#batch + 1] = ARGV[i + 3]
  if #batch >= 1000 then
    redis.call('ZADD', KEYS[3], unpack(batch))
    batch = {}
  end
end
if #batch > 0 then
  redis.call('ZADD', KEYS[3], unpack(batch))
end
redis.call('DEL', KEYS[2])
-- The bucket starts at the opening instant: admissions due since then are not lost to a late poll.
redis.call('HSET', KEYS[1], 'shuffled', '1', 'opened_at', ARGV[1], 'seq', n, 'last', ARGV[3], 'tokens', '0')
return {'shuffled', tostring(n)}
