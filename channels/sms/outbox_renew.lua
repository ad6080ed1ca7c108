-- Keeps a worker's lease on a text while it waits for Twilio, so that a
-- short lease hands a dead worker's text to another soon, and a slow
-- Twilio does not hand a live worker's text to another.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the schedule (ready)
-- ARGV[1]  the conversation id
-- ARGV[2]  the caller's lease end, Unix ms, as it holds it
-- ARGV[3]  the new lease end, Unix ms
--
-- Returns 1 when renewed, 0 when the lease was no longer the caller's.

if redis.call('HGET', KEYS[1], 'l') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'l', ARGV[3])
redis.call('ZADD', KEYS[2], 'XX', ARGV[3], ARGV[1])
return 1
