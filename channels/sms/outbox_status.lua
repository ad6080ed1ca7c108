-- Records a sent text's delivery status from Twilio's status callback. A
-- text the phone network did not deliver (undelivered, failed) goes on
-- the dead list, as a text given up does (outbox_fail.lua), for a person
-- to send again or drop.
--
-- KEYS[1]  the message hash (found by the caller from the SID's key)
-- KEYS[2]  the dead list
-- ARGV[1]  the status Twilio reported (queued, sent, delivered,
--          undelivered, failed, …)
-- ARGV[2]  the message id
-- ARGV[3]  Twilio's SID the status is for
-- ARGV[4]  now, Unix ms
-- ARGV[5]  how long a dead text is kept, ms
-- ARGV[6]  how many dead texts are kept at most
--
-- Returns {the previous status or '', the conversation id}, so that the
-- caller tells the officer of a new status once however often Twilio
-- repeats it; or false when the message has expired (nothing is written:
-- a hash without its fields would never expire).

if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local f = redis.call('HMGET', KEYS[1], 'st', 'c', 's', 'sid')
redis.call('HSET', KEYS[1], 'st', ARGV[1])
local lost = ARGV[1] == 'undelivered' or ARGV[1] == 'failed'
-- Only for the text's latest sending: a late status for an earlier SID of
-- a text sent again changes nothing.
if lost and f[1] ~= ARGV[1] and f[3] == 'sent' and f[4] == ARGV[3] then
  local now, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
  redis.call('HSET', KEYS[1], 'ec', 'undelivered', 'code', 0, 'u', 0, 'd', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', string.format('(%.0f', now - ttl))
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[6]) - 1)
  redis.call('PEXPIRE', KEYS[2], ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return {f[1] or '', f[2] or ''}
