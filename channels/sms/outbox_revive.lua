-- Puts a dead text back to be sent (safecontact jobs retry): it leaves the
-- dead list and waits behind the conversation's other texts, with its
-- attempts counted afresh. A text whose last attempt ended without an
-- answer is looked up in Twilio before it is sent again.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the schedule (ready)
-- KEYS[4]  the dead list
-- ARGV[1]  the conversation id, as the caller read it from the message
-- ARGV[2]  the message id
-- ARGV[3]  now, Unix ms
-- ARGV[4]  how long the message and the list are kept from now, ms
--
-- Returns 1, or 0 when the text is not on the dead list (retried or
-- dropped already, or expired).

if not redis.call('ZSCORE', KEYS[4], ARGV[2]) then return 0 end
if redis.call('HGET', KEYS[1], 'c') ~= ARGV[1] then
  -- Its message expired: nothing is left to send.
  redis.call('ZREM', KEYS[4], ARGV[2])
  return 0
end
redis.call('ZREM', KEYS[4], ARGV[2])
local state = 'queued'
if redis.call('HGET', KEYS[1], 'u') == '1' then state = 'sending' end
redis.call('HSET', KEYS[1], 's', state, 'n', 0)
redis.call('HDEL', KEYS[1], 'd', 'l', 'late')
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('ZADD', KEYS[3], 'NX', ARGV[3], ARGV[1])
return 1
