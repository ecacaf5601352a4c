-- The sale page's read: the geo search from the shopper and every item's remaining units, in one
-- call. Read only. Answered as three comma-joined strings because decoding 600 small replies in
-- Python costs more than the whole search in Redis.
--
-- KEYS: 1 geo  2.. the stock lists (in the display cache's order)
-- ARGV: 1 longitude  2 latitude  3 radius in km
-- Returns {ids, distances, lengths}: item ids nearest first with their distances (km), and the
--   remaining units of KEYS[2..] in that order. Every key carries the session's hash tag.
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'km', 'ASC',
  'WITHDIST')
local ids, distances, lengths = {}, {}, {}
for i, pair in ipairs(found) do
  ids[i] = pair[1]
  distances[i] = pair[2]
end
for i = 2, #KEYS do
  lengths[i - 1] = redis.call('LLEN', KEYS[i])
end
return {table.concat(ids, ','), table.concat(distances, ','), table.concat(lengths, ',')}
