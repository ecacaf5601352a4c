-- One shopper's own counts in a session (units held or paid per item): the small, private
-- complement of the shared stock poll, asked only after the shopper's own actions. Read only.
--
-- The shopper is ARGV[2], or, when that is empty, the user named by the browser session's reserve
-- ticket (reservations/tickets.py), so it needs no Django session read.
-- KEYS: 1 session  2 ticket
-- ARGV: 1 user key prefix (the user id is appended; the session's hash tag is in it)
--       2 user id ("" = the ticket's)
-- Returns {"ok", stock_version, {field, value, ...}} (the user hash: item id/units pairs, the rate
--   window and the t:<TransactionID> fields; readers keep the item ids), {"no_session"}, or
--   {"no_ticket"} (ARGV[2] was "" and there is no ticket: ask again with a user).
local version = redis.call('HGET', KEYS[1], 'stock_version')
if not version then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    return {'no_session'}
  end
  version = '0'
end
local user = ARGV[2]
if user == '' then
  user = redis.call('HGET', KEYS[2], 'user')
  if not user then
    return {'no_ticket'}
  end
end
return {'ok', version, redis.call('HGETALL', ARGV[1] .. user)}
