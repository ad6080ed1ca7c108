-- Cancels a conversation's waiting texts (the gate refused it: the tenant
-- exited, opted out or was erased). The caller reads the list (LRANGE)
-- and passes each message's key, as a script declares every key it
-- touches: a text queued since the read is left waiting, and is cancelled
-- when the gate refuses it in turn.
--
-- KEYS[1]    the conversation's list of waiting message ids
-- KEYS[2]    the schedule (ready)
-- KEYS[3…]   the message hashes: KEYS[i] is ARGV[i]'s, for i from 3
-- ARGV[1]    the conversation id
-- ARGV[2]    now, Unix ms
-- ARGV[3…]   the message ids read from the list
--
-- Each text still on the list leaves it with state 'cancelled' and its
-- sealed payload erased. Returns how many were cancelled.

local n = 0
for i = 3, #ARGV do
  if redis.call('LREM', KEYS[1], 1, ARGV[i]) > 0 then
    if redis.call('EXISTS', KEYS[i]) == 1 then
      redis.call('HSET', KEYS[i], 's', 'cancelled', 'p', '')
      redis.call('HDEL', KEYS[i], 'l')
    end
    n = n + 1
  end
end
if redis.call('LLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
return n
