-- The sale page's order: a session's located items nearest first from a point, with their
-- distances. Read only; run once per process, load stamp and location cell
-- (reservations/availability.py). Answered as two comma-joined strings because decoding hundreds
-- of small replies in Python costs more than the search in Redis.
--
-- KEYS: 1 geo
-- ARGV: 1 longitude  2 latitude  3 radius in km
-- Returns {ids, distances}: item ids nearest first and their distances (km).
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[1], ARGV[2], 'BYRADIUS', ARGV[3], 'km', 'ASC',
  'WITHDIST')
local ids, distances = {}, {}
for i, pair in ipairs(found) do
  ids[i] = pair[1]
  distances[i] = pair[2]
end
return {table.concat(ids, ','), table.concat(distances, ',')}
