-- A session's stock as everybody sees it, read once a second per web process (the shared stock
-- poll, the sale page's cards, the sold-out memo). Read only.
--
-- KEYS: 1 session  2 items  3 stream
-- ARGV: 1 stock key prefix (the item id is appended; the session's hash tag is in it)
-- Returns {"ok", starts_at, ends_at, state, version, loaded_at, name, "id:units,id:units,..."}
--   or {"no_session"}. The levels come as one joined string: decoding 400 small replies in
--   Python costs more than the whole read in Redis.
-- version = the session's stock_version (bumped by loads, releases, late payments, adjustments,
--   audit repairs) + the entries ever added to its stream (XINFO STREAM "entries-added", Redis
--   7.0: one per reservation, release and payment, however many the drainer has deleted). Both
--   only grow and every change of a stock list moves one of them, while the reserve script, which
--   XADDs anyway, writes no counter for it. Older servers have no entries-added: 0.
local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state', 'stock_version', 'loaded_at', 'name')
if not session[1] then
  return {'no_session'}
end
local added = 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[3])
  for i = 1, #info, 2 do
    if info[i] == 'entries-added' then
      added = info[i + 1]
    end
  end
end
local levels = {}
for i, item_id in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  levels[i] = item_id .. ':' .. redis.call('LLEN', ARGV[1] .. item_id)
end
return {'ok', session[1], session[2], session[3] or '', string.format('%d', (session[4] or 0) + added),
  session[5] or '', session[6] or '', table.concat(levels, ',')}
