-- Confirm a payment atomically against expiry. An active hold becomes paid; a payment for a hold
-- that has expired (released or merely past its expiry) is recorded as paid_after_expiry and
-- flagged for refund, never dropped. Paying twice changes nothing.
--
-- KEYS: 1 txn  2 stock  3 counts  4 user  5 holds  6 stream  7 session (its stock_version is bumped)
-- ARGV: 1 txn_id  2 now  3 gateway_order_id  4 amount (decimal string)
-- Returns {outcome, status} with outcome one of: paid, paid_after_expiry, already_paid,
--   already_paid_after_expiry, amount_mismatch, unknown

local txn = redis.call('HMGET', KEYS[1], 'status', 'expires_at', 'item', 'quantity', 'units', 'amount')
if not txn[1] then
  return {'unknown', ''}
end
local status = txn[1]
if status == 'paid' then
  return {'already_paid', status}
end
if status == 'paid_after_expiry' then
  return {'already_paid_after_expiry', status}
end

local function cents(text)
  local whole, fraction = string.match(text, '^(%d+)%.?(%d*)$')
  if not whole then
    return -1
  end
  return tonumber(whole) * 100 + tonumber(string.sub(fraction .. '00', 1, 2))
end
if cents(ARGV[4]) ~= cents(txn[6]) then
  return {'amount_mismatch', status}
end

local quantity = tonumber(txn[4])
local now = tonumber(ARGV[2])
if status == 'reserved' and now < tonumber(txn[2]) then
  redis.call('HSET', KEYS[1], 'status', 'paid', 'paid_at', ARGV[2], 'gateway_order_id', ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'held', -quantity)
  redis.call('HINCRBY', KEYS[3], 'paid', quantity)
  redis.call('ZREM', KEYS[5], ARGV[1])
  local event = redis.call('HGETALL', KEYS[1])
  redis.call('XADD', KEYS[6], '*', 'type', 'paid', unpack(event))
  return {'paid', 'paid'}
end

if status == 'reserved' then
  -- Past its expiry but not yet released by the job: release it here, in the same step.
  redis.call('RPUSH', KEYS[2], unpack(cjson.decode(txn[5])))
  if redis.call('HINCRBY', KEYS[4], txn[3], -quantity) <= 0 then
    redis.call('HDEL', KEYS[4], txn[3])
  end
  redis.call('HINCRBY', KEYS[3], 'held', -quantity)
  redis.call('HINCRBY', KEYS[3], 'returned', quantity)
  redis.call('HINCRBY', KEYS[7], 'stock_version', 1)
  redis.call('HSET', KEYS[1], 'released_at', ARGV[2], 'released_as', 'expired')
  redis.call('ZREM', KEYS[5], ARGV[1])
else
  redis.call('HSET', KEYS[1], 'released_as', status)
end
redis.call('HSET', KEYS[1], 'status', 'paid_after_expiry', 'paid_at', ARGV[2], 'gateway_order_id', ARGV[3],
  'refund_due', '1')
redis.call('HINCRBY', KEYS[3], 'paid_after_expiry', 1)
local event = redis.call('HGETALL', KEYS[1])
redis.call('XADD', KEYS[6], '*', 'type', 'paid_after_expiry', unpack(event))
return {'paid_after_expiry', 'paid_after_expiry'}
