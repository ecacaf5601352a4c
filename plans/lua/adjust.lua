-- Add or withdraw units of one loaded item, atomically.
-- KEYS: 1 session hash (its stock_version is bumped on a change), 2 stock list, 3 counts hash, 4 loaded hash
-- ARGV: 1 item id, 2 delta (non-zero integer)
-- Returns {code, applied delta, units remaining}; code 1 applied, -1 session not in Redis,
-- -2 item not loaded, -3 session ended or cancelled.
-- Adding pushes new unit ids continuing the item's numbering (the loaded hash holds the last
-- number issued); withdrawing takes at most what is still in the list, so held and paid units
-- are never touched and sold units can never exceed allocated + adjusted.
local item = ARGV[1]
local delta = tonumber(ARGV[2])

local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return {-1, 0, 0}
end
if state == 'ended' or state == 'cancelled' then
  return {-3, 0, redis.call('LLEN', KEYS[2])}
end
local issued = redis.call('HGET', KEYS[4], item)
if not issued then
  return {-2, 0, 0}
end
issued = tonumber(issued)

local applied = 0
if delta > 0 then
  local batch = {}
  for n = issued + 1, issued + delta do
    batch[#batch + 1] = item .. ':' .. n
    -- unpack() is bounded by Lua's C stack; push in chunks.
    if #batch == 5000 then
      redis.call('RPUSH', KEYS[2], unpack(batch))
      batch = {}
    end
  end
  if #batch > 0 then
    redis.call('RPUSH', KEYS[2], unpack(batch))
  end
  redis.call('HSET', KEYS[4], item, issued + delta)
  applied = delta
elseif delta < 0 then
  local take = math.min(-delta, redis.call('LLEN', KEYS[2]))
  if take > 0 then
    -- Drop the last `take` elements (the most recently numbered units).
    redis.call('LTRIM', KEYS[2], 0, -take - 1)
  end
  applied = -take
end
if applied ~= 0 then
  redis.call('HINCRBY', KEYS[3], 'adjusted', applied)
  redis.call('HINCRBY', KEYS[1], 'stock_version', 1)
end
return {1, applied, redis.call('LLEN', KEYS[2])}
