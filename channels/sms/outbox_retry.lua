-- Schedules another attempt at a conversation's first text, whose
-- attempt failed, and ends the caller's lease.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the schedule (ready)
-- ARGV[1]  the conversation id
-- ARGV[2]  the caller's lease end, Unix ms, as claimed: a worker whose
--          lease ran out and was taken by another changes nothing
-- ARGV[3]  when to try again, Unix ms
-- ARGV[4]  the state until then: 'queued' when the text surely did not
--          go, 'sending' when the attempt's outcome is unknown (it is
--          looked up before anything is sent again)
-- ARGV[5]  the error's class (network, no-answer, twilio, lookup, gate)
-- ARGV[6]  Twilio's error code, or 0
-- ARGV[7]  1 when the text is now late (queued over a minute ago)
--
-- Returns 1 when the text was marked late by this call (the officer is
-- told, once), 0 when not, -1 when the lease was no longer the caller's.

if redis.call('HGET', KEYS[1], 'l') ~= ARGV[2] then return -1 end
local uncertain = 0
if ARGV[4] == 'sending' then uncertain = 1 end
redis.call('HSET', KEYS[1], 's', ARGV[4], 'u', uncertain, 'ec', ARGV[5], 'code', ARGV[6])
redis.call('HDEL', KEYS[1], 'l')
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[7] == '1' then
  return redis.call('HSETNX', KEYS[1], 'late', 1)
end
return 0
