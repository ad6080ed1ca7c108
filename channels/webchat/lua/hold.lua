-- Counts one open chat in a set of them, within a limit.
--
-- KEYS[1]  a sorted set of open chats: member = session's token hash,
--          score = Unix milliseconds when it stops counting
-- ARGV[1]  now, Unix milliseconds
-- ARGV[2]  when this chat stops counting unless touched, Unix ms
-- ARGV[3]  the session's token hash
-- ARGV[4]  the limit: how many may count at once
--
-- Returns 1 when counted, 0 when the set is full.

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) == false and
   redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
