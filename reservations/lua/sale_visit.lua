-- A sale-page visit of a shopper who holds a reserve ticket: record the visit's new TransactionID
-- in the ticket and read the shopper's own counts, in one round trip and without the Django session.
--
-- KEYS: 1 ticket (reservations/tickets.py)
-- ARGV: 1 user key prefix (the ticket's user id is appended; the session's hash tag is in it)
--       2 the visit's TransactionID  3 now (entered_at)
-- The ticket's TTL is left as it is: it counts from the last write made from the Django session.
-- Returns {"ok", {ticket field, value, ...}, {user hash field, value, ...}} or {"no_ticket"}; the user
-- hash holds item id -> units and other fields (rate window, reservations): see keys.user.
local user = redis.call('HGET', KEYS[1], 'user')
if not user then
  return {'no_ticket'}
end
redis.call('HSET', KEYS[1], 'visit', ARGV[2], 'entered_at', ARGV[3])
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', ARGV[1] .. user)}
