-- Release a hold exactly once: its units go back on the list, the user's count and the held
-- count go down, returned goes up, and the stream records it for the drainer.
--
-- KEYS: 1 txn  2 stock  3 counts  4 user  5 holds  6 stream  7 session (its stock_version is bumped)
-- ARGV: 1 txn_id  2 reason ("expired" | "cancelled")  3 now  4 only_if_due ("1": refuse before expiry)
-- Returns {"released", reason} | {"noop", status} | {"not_due", expires_at} | {"unknown"}

local txn = redis.call('HMGET', KEYS[1], 'status', 'expires_at', 'item', 'quantity', 'units')
if not txn[1] then
  redis.call('ZREM', KEYS[5], ARGV[1])
  return {'unknown'}
end
if txn[1] ~= 'reserved' then
  -- Already released, paid or flagged: a second release changes nothing.
  redis.call('ZREM', KEYS[5], ARGV[1])
  return {'noop', txn[1]}
end
if ARGV[4] == '1' and tonumber(txn[2]) > tonumber(ARGV[3]) then
  return {'not_due', txn[2]}
end

local quantity = tonumber(txn[4])
redis.call('RPUSH', KEYS[2], unpack(cjson.decode(txn[5])))
if redis.call('HINCRBY', KEYS[4], txn[3], -quantity) <= 0 then
  redis.call('HDEL', KEYS[4], txn[3])
end
redis.call('HINCRBY', KEYS[3], 'held', -quantity)
redis.call('HINCRBY', KEYS[3], 'returned', quantity)
redis.call('HINCRBY', KEYS[7], 'stock_version', 1)
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'released_at', ARGV[3])
redis.call('ZREM', KEYS[5], ARGV[1])
local event = redis.call('HGETALL', KEYS[1])
-- The txn hash no longer names its TransactionID (reserve.lua): the entry does.
redis.call('XADD', KEYS[6], '*', 'type', ARGV[2], 'txn', ARGV[1], unpack(event))
return {'released', ARGV[2]}
