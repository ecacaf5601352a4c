-- Count reservations in the live page's per-minute timeline, each once however often the drainer
-- sees its event: the first count marks the reservation's hash, atomically with the increment.
--
-- KEYS: 1 timeline
-- ARGV: 1 txn key prefix (the TransactionID is appended; the session's hash tag is in it), then
--       TransactionID, minute, TransactionID, minute...
-- Returns how many reservations were counted now.
local counted = 0
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', ARGV[1] .. ARGV[i], 'timeline_minute', ARGV[i + 1]) == 1 then
    redis.call('HINCRBY', KEYS[1], ARGV[i + 1], 1)
    counted = counted + 1
  end
end
return counted
