-- The sale page's poll (stock.json) in one round trip: the session's window and state, every
-- item's remaining units and, for a shopper, their own counts. Read only.
--
-- The shopper is ARGV[3], or, when that is empty, the user named by the browser session's reserve
-- ticket (reservations/tickets.py), so a poll needs no Django session read. Keys formed here
-- (stock lists, the user's hash) are the prefixes ARGV 1..2 plus an id, in the session's slot.
--
-- KEYS: 1 session  2 items  3 ticket
-- ARGV: 1 stock key prefix  2 user key prefix  3 user id ("" = the ticket's, "-" = nobody)
-- Returns {"ok", starts_at, ends_at, state, {item id, remaining, ...}, {item id, held, ...}},
--   {"no_session"}, or {"no_ticket"} (ARGV[3] was "" and there is no ticket: ask again with a user).

local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state')
if not session[1] then
  return {'no_session'}
end
local user = ARGV[3]
if user == '' then
  user = redis.call('HGET', KEYS[3], 'user')
  if not user then
    return {'no_ticket'}
  end
end
local levels = {}
for _, item_id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  levels[#levels + 1] = item_id
  levels[#levels + 1] = redis.call('LLEN', ARGV[1] .. item_id)
end
local held = {}
if user ~= '-' then
  held = redis.call('HGETALL', ARGV[2] .. user)
end
return {'ok', session[1], session[2], session[3] or '', levels, held}
