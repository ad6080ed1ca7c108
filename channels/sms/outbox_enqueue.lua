-- Queues a text behind the conversation's others, unless its id is known.
--
-- KEYS[1]  the message hash
-- KEYS[2]  the conversation's list of waiting message ids
-- KEYS[3]  the schedule (ready): conversation id -> when due, Unix ms
-- ARGV[1]  the conversation id
-- ARGV[2]  the message id
-- ARGV[3]  the sealed payload (number, body, when queued)
-- ARGV[4]  now, Unix ms
-- ARGV[5]  how long the message and the list are kept, ms
--
-- The message hash's fields, as every outbox script uses them:
--   c     conversation id          p     sealed payload ('' once cancelled
--   s     state: queued, sending,        or dropped)
--         sent, failed, cancelled, n     attempts so far
--         dropped                  q     when queued, Unix ms
--   a     when last claimed        l     lease end while a worker holds it
--   u     1: the last attempt ended without an answer (it may have gone)
--   ec    last error's class       code  last error's Twilio code
--   d     when given up            sid   Twilio's SID, once sent
--   st    last delivery status     late  1 once the officer was told it is
--                                        late
--
-- Returns 1 when queued, 0 when the id was known (queued, sent, given up
-- or dropped before): queueing is idempotent.

if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'c', ARGV[1], 'p', ARGV[3], 's', 'queued', 'n', 0, 'q', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
-- NX: a conversation already scheduled keeps its time (its first text
-- may be leased or backing off).
redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[1])
return 1
