-- Removes a dead or waiting text for good (safecontact jobs drop): it
-- leaves the dead list or its conversation's list with state 'dropped'
-- and its sealed payload erased. The message hash stays until it
-- expires, so that the same text queued again (a redelivered Slack
-- event) is still known and not sent.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the schedule (ready)
-- KEYS[4]  the dead list
-- ARGV[1]  the conversation id, as the caller read it from the message
-- ARGV[2]  the message id
-- ARGV[3]  now, Unix ms
--
-- Returns 'dead' or 'waiting', where it was; 'busy' when a worker is
-- trying it now (nothing changed: try again when its attempt is over);
-- 'none' when it is neither dead nor waiting.

local function erase()
  if redis.call('EXISTS', KEYS[1]) == 1 then
    redis.call('HSET', KEYS[1], 's', 'dropped', 'p', '')
    redis.call('HDEL', KEYS[1], 'l')
  end
end

if redis.call('ZREM', KEYS[4], ARGV[2]) == 1 then
  erase()
  return 'dead'
end

local head = redis.call('LINDEX', KEYS[2], 0)
local lease = redis.call('HGET', KEYS[1], 'l')
if head == ARGV[2] and lease and tonumber(lease) > tonumber(ARGV[3]) then
  return 'busy'
end
if redis.call('LREM', KEYS[2], 1, ARGV[2]) == 0 then return 'none' end
erase()
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
elseif head == ARGV[2] then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
end
return 'waiting'
