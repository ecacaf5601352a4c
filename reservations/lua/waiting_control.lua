-- Operator controls of a waiting room: the admission rate and the pause switch. Either resets the
-- token bucket's instant to now, so a new rate only applies from now on and a pause or a rate
-- change never releases a burst accrued under the old setting.
--
-- KEYS: 1 waiting
-- ARGV: 1 now  2 field ("rate" | "paused")  3 value ("rate": admissions/s, "0" = all at once;
--       "paused": "1" | "0")
-- Returns the value stored.

local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local now = tonumber(ARGV[1])
if now > last then
  redis.call('HSET', KEYS[1], 'last', string.format('%.6f', now))
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
if ARGV[2] == 'rate' then
  -- Tokens saved under the old rate may exceed the new burst cap.
  redis.call('HSET', KEYS[1], 'tokens', '0')
end
return ARGV[3]
