-- Decide one reservation atomically. Idempotent on the TransactionID: a retry returns the stored
-- result and never pops twice. Time comes from ARGV (never TIME) so callers and tests drive it.
--
-- KEYS: 1 session  2 item  3 stock  4 counts  5 user  6 txn  7 holds  8 stream  9 timeline  10 user_txns
--       11 per-user rate window  12 per-IP rate window
-- ARGV: 1 txn_id  2 user_id  3 item_id  4 quantity  5 now  6 ttl_seconds  7 entered_at
--       8 latitude  9 longitude  10 token kid  11 session_id
--       12 user limit  13 user window seconds  14 IP limit  15 IP window seconds ("" = no limit)
-- Returns {code, ...}:
--   {"reserved", units_json, quantity, amount, currency, expires_at, status, replayed("0"|"1"), session_ends_at}
--   {"sold_out", remaining}  {"limit", held, per_user_limit}  {"not_open", starts_at}
--   {"closed", ends_at}  {"no_session"}  {"no_item"}  {"conflict"}  {"rate_limited", retry_after}

local txn_key = KEYS[6]
local previous = redis.call('HMGET', txn_key, 'user', 'item', 'units', 'quantity', 'amount', 'currency',
  'expires_at', 'status')
if previous[1] then
  -- Same TransactionID seen before: replay only for the same user and item.
  if previous[1] ~= ARGV[2] or previous[2] ~= ARGV[3] then
    return {'conflict'}
  end
  return {'reserved', previous[3], previous[4], previous[5], previous[6], previous[7], previous[8], '1', ''}
end

local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state')
if not session[1] then
  return {'no_session'}
end
local item = redis.call('HMGET', KEYS[2], 'per_user_limit', 'sale_price', 'currency')
if not item[1] then
  return {'no_item'}
end

local now = tonumber(ARGV[5])
local quantity = tonumber(ARGV[4])

-- Fixed-window rate limits per user and per IP, counted here so that limiting costs no extra
-- round trip on the hot path. The window keys carry the session's hash tag (one slot).
local function over_limit(key, limit, window)
  if limit == '' then
    return false
  end
  local used = redis.call('INCR', key)
  if used == 1 then
    redis.call('EXPIRE', key, tonumber(window))
  end
  return used > tonumber(limit)
end
local user_over = over_limit(KEYS[11], ARGV[12], ARGV[13])
local ip_over = over_limit(KEYS[12], ARGV[14], ARGV[15])
if user_over or ip_over then
  redis.call('HINCRBY', KEYS[4], 'rejected_rate_limited', 1)
  local window = tonumber(user_over and ARGV[13] or ARGV[15])
  return {'rate_limited', tostring(window - math.fmod(now, window))}
end
if now < tonumber(session[1]) then
  redis.call('HINCRBY', KEYS[4], 'rejected_closed', 1)
  return {'not_open', session[1]}
end
if now >= tonumber(session[2]) or session[3] == 'cancelled' then
  redis.call('HINCRBY', KEYS[4], 'rejected_closed', 1)
  return {'closed', session[2]}
end

local limit = tonumber(item[1])
local held = tonumber(redis.call('HGET', KEYS[5], ARGV[3]) or '0')
if held + quantity > limit then
  redis.call('HINCRBY', KEYS[4], 'rejected_limit', 1)
  return {'limit', tostring(held), tostring(limit)}
end

-- Check before popping: asking for more units than remain must not take a partial set.
local remaining = redis.call('LLEN', KEYS[3])
if remaining < quantity then
  redis.call('HINCRBY', KEYS[4], 'rejected_sold_out', 1)
  return {'sold_out', tostring(remaining)}
end
local units = redis.call('LPOP', KEYS[3], quantity)

-- Money in integer cents: Lua numbers are doubles and prices are decimal strings.
local whole, fraction = string.match(item[2], '^(%d+)%.?(%d*)$')
local unit_cents = tonumber(whole) * 100 + tonumber(string.sub(fraction .. '00', 1, 2))
local total = unit_cents * quantity
local amount = string.format('%d.%02d', math.floor(total / 100), total % 100)
local expires_at = string.format('%.3f', now + tonumber(ARGV[6]))
local units_json = cjson.encode(units)

redis.call('HINCRBY', KEYS[5], ARGV[3], quantity)
redis.call('HINCRBY', KEYS[4], 'held', quantity)
redis.call('HSET', txn_key,
  'txn', ARGV[1], 'user', ARGV[2], 'session', ARGV[11], 'item', ARGV[3],
  'units', units_json, 'quantity', quantity, 'amount', amount, 'currency', item[3],
  'status', 'reserved', 'reserved_at', ARGV[5], 'expires_at', expires_at,
  'entered_at', ARGV[7], 'latitude', ARGV[8], 'longitude', ARGV[9], 'kid', ARGV[10])
redis.call('ZADD', KEYS[7], expires_at, ARGV[1])
redis.call('SADD', KEYS[10], ARGV[1])
-- The stream entry names the transaction only; the drainer reads the rest from its hash.
redis.call('XADD', KEYS[8], '*', 'type', 'reserved', 'txn', ARGV[1])
redis.call('HINCRBY', KEYS[9], tostring(math.floor(now / 60)), 1)

return {'reserved', units_json, tostring(quantity), amount, item[3], expires_at, 'reserved', '0', session[2]}
