-- One visit to a session's waiting room, atomically: release everyone if the session sold out,
-- drop shoppers who stopped polling, let the shopper join (pre-queue before the opening, the back
-- of the queue after it), admit whoever the token bucket says is due, and report the shopper's
-- place. Time comes from ARGV (never TIME) so callers and tests drive it. Shoppers admitted on
-- somebody else's visit are appended to the turns list ("user:instant"): their mail is due.
--
-- KEYS: 1 session  2 waiting  3 pre  4 queue  5 admitted  6 seen  7 turns  8.. stock lists of every item
-- ARGV: 1 now  2 user id ("" = only admit, no shopper)  3 join ("1" = join if not there)
--       4 lead seconds  5 default rate ("0" = all at once)  6 burst seconds  7 idle seconds
--       8 pass seconds  9 drop batch
-- Returns {state, position, waiting, rate, paused, admitted_at, starts_at, tokens}; state is one of
--   no_session, closed, too_early, needs_shuffle, sold_out, pre_queue, queued, admitted,
--   not_queued, tick.

local now = tonumber(ARGV[1])
local user = ARGV[2]
local session = redis.call('HMGET', KEYS[1], 'starts_at', 'ends_at', 'state')
if not session[1] then
  return {'no_session', '0', '0', '', '0', '', '', '0'}
end
local starts_at = tonumber(session[1])
local ends_at = tonumber(session[2])

local state = redis.call('HMGET', KEYS[2], 'rate', 'paused', 'last', 'tokens', 'shuffled', 'sold_out')
local rate = tonumber(state[1] or ARGV[5]) or 0
local paused = state[2] == '1'
local shuffled = state[5] == '1'
local sold_out = state[6] == '1'

local function reply(name, position, waiting, admitted_at, tokens)
  return {name, tostring(position or 0), tostring(waiting or 0), tostring(rate), paused and '1' or '0',
    admitted_at or '', session[1], tostring(tokens or 0)}
end

if now >= ends_at or session[3] == 'cancelled' or session[3] == 'ended' then
  return reply('closed')
end
if now < starts_at - tonumber(ARGV[4]) then
  return reply('too_early')
end

-- Sold out = every item's list is empty. Everyone still waiting is released at once; the flag
-- clears by itself if units come back (an expired hold), so later visitors can queue again.
if #KEYS > 7 then
  local empty = true
  for i = 8, #KEYS do
    if redis.call('LLEN', KEYS[i]) > 0 then
      empty = false
      break
    end
  end
  if empty and not sold_out then
    local released = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[4])
    redis.call('DEL', KEYS[3], KEYS[4], KEYS[6])
    redis.call('HINCRBY', KEYS[2], 'released', released)
    redis.call('HINCRBY', KEYS[2], 'pre_version', 1)
    redis.call('HSET', KEYS[2], 'sold_out', '1', 'sold_out_at', ARGV[1])
    sold_out = true
  elseif not empty and sold_out then
    redis.call('HSET', KEYS[2], 'sold_out', '0')
    sold_out = false
  end
end

local opened = now >= starts_at
if opened and not shuffled then
  if redis.call('ZCARD', KEYS[3]) > 0 then
    -- The shuffle needs a secure RNG, so the caller does it (waiting_open.lua) and visits again.
    return reply('needs_shuffle')
  end
  -- Nobody arrived early: there is nothing to shuffle, the queue simply opens.
  redis.call('HSET', KEYS[2], 'shuffled', '1', 'opened_at', ARGV[1], 'last', session[1], 'tokens', '0')
  shuffled = true
end

-- Shoppers who stopped polling leave the queue (bounded per visit to keep the script short).
local idle = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', '(' .. tostring(now - tonumber(ARGV[7])),
  'LIMIT', 0, tonumber(ARGV[9]))
if #idle > 0 then
  local dropped = 0
  local from_pre = 0
  for _, member in ipairs(idle) do
    dropped = dropped + redis.call('ZREM', KEYS[4], member)
    local pre = redis.call('ZREM', KEYS[3], member)
    from_pre = from_pre + pre
    dropped = dropped + pre
    redis.call('ZREM', KEYS[6], member)
  end
  redis.call('HINCRBY', KEYS[2], 'dropped', dropped)
  if from_pre > 0 then
    redis.call('HINCRBY', KEYS[2], 'pre_version', 1)
  end
end

-- Passes last ARGV[8] seconds, to the whole second (a pass carries its expiry in whole seconds,
-- rounded down), so an admission is forgotten as soon as floor(admitted_at + pass) <= now: answering
-- "admitted" after that would hand out a pass that is already void. Before the join, so a shopper
-- whose turn lapsed joins again on this very visit instead of being told they are not queued.
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', '(' .. tostring(math.floor(now) + 1 - tonumber(ARGV[8])))

-- Join before admitting, so with no rate a newcomer is let in on this very visit.
if user ~= '' and ARGV[3] == '1' and not sold_out
    and redis.call('ZSCORE', KEYS[5], user) == false
    and redis.call('ZSCORE', KEYS[4], user) == false
    and redis.call('ZSCORE', KEYS[3], user) == false then
  if not opened then
    redis.call('ZADD', KEYS[3], now, user)
    redis.call('HINCRBY', KEYS[2], 'pre_version', 1)
  else
    local seq = redis.call('HINCRBY', KEYS[2], 'seq', 1)
    redis.call('ZADD', KEYS[4], seq, user)
  end
  redis.call('HINCRBY', KEYS[2], 'joined', 1)
  redis.call('ZADD', KEYS[6], now, user)
end

local tokens = 0
if opened and shuffled then
  local last = tonumber(redis.call('HGET', KEYS[2], 'last') or session[1])
  tokens = tonumber(redis.call('HGET', KEYS[2], 'tokens') or '0')
  local waiting = redis.call('ZCARD', KEYS[4])
  local due = 0
  if paused then
    -- A pause accrues nothing, so resuming never releases a burst.
    tokens = 0
  elseif rate <= 0 then
    due = waiting
  else
    -- Token bucket: rate tokens per second since the last instant, capped at burst seconds' worth.
    local cap = math.max(1, rate * tonumber(ARGV[6]))
    if now > last then
      tokens = math.min(cap, tokens + (now - last) * rate)
    end
    due = math.min(math.floor(tokens), waiting)
    tokens = tokens - due
  end
  if now > last then
    last = now
  end
  if due > 0 then
    local popped = redis.call('ZPOPMIN', KEYS[4], due)
    for i = 1, #popped, 2 do
      redis.call('ZADD', KEYS[5], now, popped[i])
      redis.call('ZREM', KEYS[6], popped[i])
      if popped[i] ~= user then
        -- Not the visitor: they learn it from their page's poll, or from the mail this asks for.
        redis.call('RPUSH', KEYS[7], popped[i] .. ':' .. ARGV[1])
      end
    end
    redis.call('HINCRBY', KEYS[2], 'admitted', due)
  end
  redis.call('HSET', KEYS[2], 'last', string.format('%.6f', last), 'tokens', string.format('%.6f', tokens))
end

if user == '' then
  return reply('tick', 0, redis.call('ZCARD', KEYS[4]), nil, tokens)
end
local admitted_at = redis.call('ZSCORE', KEYS[5], user)
if admitted_at then
  return reply('admitted', 0, 0, admitted_at, tokens)
end
local rank = redis.call('ZRANK', KEYS[4], user)
if rank then
  redis.call('ZADD', KEYS[6], now, user)
  return reply('queued', rank + 1, redis.call('ZCARD', KEYS[4]), nil, tokens)
end
if redis.call('ZSCORE', KEYS[3], user) then
  redis.call('ZADD', KEYS[6], now, user)
  return reply('pre_queue', 0, redis.call('ZCARD', KEYS[3]), nil, tokens)
end
if sold_out then
  return reply('sold_out')
end
return reply('not_queued', 0, redis.call('ZCARD', KEYS[4]), nil, tokens)
