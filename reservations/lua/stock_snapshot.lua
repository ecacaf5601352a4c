-- A session's stock as everybody sees it, read once a second per web process (the shared stock
-- poll, the sale page's cards, the sold-out memo). Read only.
--
-- KEYS: 1 session  2 items
-- ARGV: 1 stock key prefix (the item id is appended; the session's hash tag is in it)
-- Returns {"ok", starts_at, ends_at, state, stock_version, loaded_at, name, "id:units,id:units,..."}
--   or {"no_session"}. The levels come as one joined string: decoding 400 small replies in
--   Python costs more than the whole read in Redis.
local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state', 'stock_version', 'loaded_at', 'name')
if not session[1] then
  return {'no_session'}
end
local levels = {}
for i, item_id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  levels[i] = item_id .. ':' .. redis.call('LLEN', ARGV[1] .. item_id)
end
return {'ok', session[1], session[2], session[3] or '', session[4] or '0', session[5] or '', session[6] or '',
  table.concat(levels, ',')}
