-- Calibration, not a reservation: the least a decision made in Redis costs. One unit moves from
-- the head of a list to its tail (so the list never empties and every call does the same work)
-- and a counter counts the call. Driven over HTTP by the floor_redis scenario (bench/views.py)
-- and, without HTTP, by redis-benchmark beside the reserve script.
-- KEYS: 1 units list  2 call counter
local unit = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
redis.call('INCR', KEYS[2])
return unit
