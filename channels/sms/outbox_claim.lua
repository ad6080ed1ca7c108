-- Leases a conversation's first waiting text to the caller, if what the
-- caller read (ZRANGEBYSCORE on the schedule, then LINDEX 0 on the
-- conversation's list) still holds. Claiming is these two steps because
-- the list's and the message's keys are found from the schedule, and a
-- script declares every key it touches: the read changes nothing, so a
-- crash after it loses nothing, and a worker that lost a race to another
-- is told so and reads again.
--
-- KEYS[1]  the schedule (ready)
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the message hash of the id read
-- ARGV[1]  the conversation id
-- ARGV[2]  the message id read at the list's head ('' when it was empty)
-- ARGV[3]  now, Unix ms
-- ARGV[4]  when the lease ends, Unix ms: the conversation is not due
--          again before then, and the caller passes it back to show the
--          lease is still theirs
--
-- Returns {state before the claim, sealed payload, attempts including
-- this one}; the state is 'sending' when an earlier attempt ended without
-- an answer, and the text must then be looked up before it is sent again.
-- Returns 0 when nothing was claimed: the conversation is not due (another
-- worker holds it), its list changed, or a stale entry was cleared.

local now = tonumber(ARGV[3])
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > now then return 0 end

local head = redis.call('LINDEX', KEYS[2], 0)
if not head then
  -- The list expired: nothing waits.
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
if head ~= ARGV[2] then return 0 end

local f = redis.call('HMGET', KEYS[3], 's', 'p', 'n')
local state = f[1]
if state ~= 'queued' and state ~= 'sending' then
  -- Expired, or finished without leaving the list: it is not sent (again).
  -- The next text is due at once.
  redis.call('LPOP', KEYS[2])
  if redis.call('LLEN', KEYS[2]) == 0 then redis.call('ZREM', KEYS[1], ARGV[1]) end
  return 0
end

redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[3], 's', 'sending', 'a', ARGV[3], 'l', ARGV[4])
local n = redis.call('HINCRBY', KEYS[3], 'n', 1)
return {state, f[2], n}
