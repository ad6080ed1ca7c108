-- Records a conversation's first text as sent: it leaves the list, its
-- SID is kept for delivery statuses, and the conversation's next text is
-- due at once. It applies even when the caller's lease ran out: the text
-- went, and must not be sent again.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the schedule (ready)
-- KEYS[4]  the SID's key: SID -> message id
-- ARGV[1]  the conversation id
-- ARGV[2]  the message id
-- ARGV[3]  Twilio's message SID
-- ARGV[4]  now, Unix ms
-- ARGV[5]  how long the SID's key is kept, ms
--
-- Returns 1.

if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 's', 'sent', 'sid', ARGV[3], 'u', 0)
  redis.call('HDEL', KEYS[1], 'l')
end
redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[5])
if redis.call('LINDEX', KEYS[2], 0) == ARGV[2] then
  redis.call('LPOP', KEYS[2])
  if redis.call('LLEN', KEYS[2]) > 0 then
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
  else
    redis.call('ZREM', KEYS[3], ARGV[1])
  end
end
return 1
