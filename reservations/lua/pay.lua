-- Confirm a payment atomically against expiry. An active hold becomes paid; a payment for a hold
-- that has expired (released or merely past its expiry) is recorded as paid_after_expiry and
-- flagged for refund, never dropped. A payment of another amount or currency than the
-- reservation's never confirms it: the reservation becomes refused (a hold still running is released, its units go
-- back on sale) and the charge is flagged for refund. Paying twice changes nothing.
--
-- KEYS: 1 txn  2 stock  3 counts  4 user  5 holds  6 stream  7 session (its stock_version is bumped)
-- ARGV: 1 txn_id  2 now  3 gateway_order_id  4 amount (decimal string)
--       5 currency (ISO 4217, any case; "" = not known: the amount alone decides, as callers
--         written before it was passed do)
-- Stream entries name the TransactionID ("txn", ARGV 1): the txn hash no longer does.
-- Returns {outcome, status} with outcome one of: paid, paid_after_expiry, already_paid,
--   already_paid_after_expiry, amount_mismatch (another amount or currency: now refused),
--   already_refused, unknown

local txn = redis.call('HMGET', KEYS[1], 'status', 'expires_at', 'item', 'quantity', 'units', 'amount', 'currency')
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
local quantity = tonumber(txn[4])
local now = tonumber(ARGV[2])

-- A hold's units go back on the list, once (as release.lua does).
local function give_back()
  redis.call('RPUSH', KEYS[2], unpack(cjson.decode(txn[5])))
  if redis.call('HINCRBY', KEYS[4], txn[3], -quantity) <= 0 then
    redis.call('HDEL', KEYS[4], txn[3])
  end
  redis.call('HINCRBY', KEYS[3], 'held', -quantity)
  redis.call('HINCRBY', KEYS[3], 'returned', quantity)
  redis.call('HINCRBY', KEYS[7], 'stock_version', 1)
  redis.call('HSET', KEYS[1], 'released_at', ARGV[2])
  redis.call('ZREM', KEYS[5], ARGV[1])
end

-- 49.90 USD is not 49.90 EUR: the currency is compared as well as the amount (in hundredths).
local currency = ARGV[5] or ''
if cents(ARGV[4]) ~= cents(txn[6]) or (currency ~= '' and string.upper(currency) ~= txn[7]) then
  if status == 'refused' then
    return {'already_refused', status}
  end
  if status == 'reserved' then
    give_back()
  end
  redis.call('HSET', KEYS[1], 'released_as', status == 'reserved' and 'refused' or status, 'status', 'refused',
    'gateway_order_id', ARGV[3], 'refused_amount', ARGV[4], 'refused_currency', currency, 'refused_at', ARGV[2],
    'refund_due', '1')
  redis.call('HINCRBY', KEYS[3], 'refused', 1)
  local event = redis.call('HGETALL', KEYS[1])
  redis.call('XADD', KEYS[6], '*', 'type', 'refused', 'txn', ARGV[1], unpack(event))
  return {'amount_mismatch', 'refused'}
end
if status == 'reserved' and now < tonumber(txn[2]) then
  redis.call('HSET', KEYS[1], 'status', 'paid', 'paid_at', ARGV[2], 'gateway_order_id', ARGV[3])
  redis.call('HINCRBY', KEYS[3], 'held', -quantity)
  redis.call('HINCRBY', KEYS[3], 'paid', quantity)
  redis.call('ZREM', KEYS[5], ARGV[1])
  local event = redis.call('HGETALL', KEYS[1])
  redis.call('XADD', KEYS[6], '*', 'type', 'paid', 'txn', ARGV[1], unpack(event))
  return {'paid', 'paid'}
end

if status == 'reserved' then
  -- Past its expiry but not yet released by the job: release it here, in the same step.
  give_back()
  redis.call('HSET', KEYS[1], 'released_as', 'expired')
else
  redis.call('HSET', KEYS[1], 'released_as', status)
end
redis.call('HSET', KEYS[1], 'status', 'paid_after_expiry', 'paid_at', ARGV[2], 'gateway_order_id', ARGV[3],
  'refund_due', '1')
redis.call('HINCRBY', KEYS[3], 'paid_after_expiry', 1)
local event = redis.call('HGETALL', KEYS[1])
redis.call('XADD', KEYS[6], '*', 'type', 'paid_after_expiry', 'txn', ARGV[1], unpack(event))
return {'paid_after_expiry', 'paid_after_expiry'}
