-- Give every key a deadline unless it already has one (EXPIREAT ... NX needs Redis 7; this does
-- the same on 6.2, the embedded default, in one call). The keys are one session's (one hash tag,
-- one cluster slot).
-- KEYS: the keys
-- ARGV: 1 deadline (epoch seconds)
-- Returns the number of keys that got a deadline.
local applied = 0
for _, key in ipairs(KEYS) do
  if redis.call('TTL', key) == -1 then
    redis.call('EXPIREAT', key, ARGV[1])
    applied = applied + 1
  end
end
return applied
