-- Count a rejection that happened before the reserve script ran (rate limit) against an item,
-- only if the item is loaded, so a bogus item id never creates a key.
--
-- KEYS: 1 counts  2 item
-- ARGV: 1 field (e.g. "rejected_rate_limited")
if redis.call('EXISTS', KEYS[2]) == 1 then
  return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
end
return 0
