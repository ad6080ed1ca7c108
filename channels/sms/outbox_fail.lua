-- Gives up a conversation's first text: it leaves the list with state
-- 'failed', the conversation's next text is due at once, and unless the
-- tenant opted out it goes on the dead list, for a person to retry or
-- drop (safecontact jobs). The dead list keeps at most ARGV[10] texts,
-- given up within ARGV[9] ms, and expires that long after its last entry;
-- a dead text's message hash is kept as long.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the schedule (ready)
-- KEYS[4]  the dead list: message id -> when given up, Unix ms
-- ARGV[1]  the conversation id
-- ARGV[2]  the message id
-- ARGV[3]  the caller's lease end, Unix ms, as claimed: a worker whose
--          lease ran out and was taken by another changes nothing
-- ARGV[4]  now, Unix ms
-- ARGV[5]  the error's class (refused, attempts, unreadable, opted-out, …)
-- ARGV[6]  Twilio's error code, or 0
-- ARGV[7]  1 when the last attempt ended without an answer: it may have
--          gone, and a retry looks it up first
-- ARGV[8]  1: put it on the dead list; 0: not (the tenant opted out, and
--          nothing may be sent to them)
-- ARGV[9]  how long a dead text is kept, ms
-- ARGV[10] how many dead texts are kept at most (the oldest go first)
--
-- Returns 1, or -1 when the lease was no longer the caller's.

if redis.call('HGET', KEYS[1], 'l') ~= ARGV[3] then return -1 end
local now = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 's', 'failed', 'ec', ARGV[5], 'code', ARGV[6], 'u', ARGV[7], 'd', ARGV[4])
redis.call('HDEL', KEYS[1], 'l')
if redis.call('LINDEX', KEYS[2], 0) == ARGV[2] then
  redis.call('LPOP', KEYS[2])
end
if redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
elseif ARGV[8] == '1' then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
end
-- When the tenant opted out, the conversation keeps the caller's lease:
-- its other texts are cancelled next (outbox_cancel.lua), and none is
-- claimed in between. Should the caller stop before, the next is claimed
-- when the lease ends, refused by Twilio (21610) and cancelled then.
if ARGV[8] == '1' then
  local ttl = tonumber(ARGV[9])
  redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', string.format('(%.0f', now - ttl))
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[10]) - 1)
  redis.call('PEXPIRE', KEYS[4], ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
