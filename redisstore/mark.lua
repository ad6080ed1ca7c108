-- Marks a conversation as having events waiting for the officer queue, in
-- the index every process reads. A turn with events calls it before its
-- save (so a crash after the save cannot leave events nobody looks for)
-- and again after it (so a reader that looked in between looks again).
--
-- KEYS[1]  the index: a sorted set of conversation ids, scored by when
--          their events are due to be taken (Unix ms)
-- KEYS[2]  the index's hash: "<id>:d" the latest deadline of a save that
--          may still add events (Unix ms), "<id>:w" the number of its
--          latest mark, from "#", which counts every mark of every
--          conversation and is never reset: a mark after a conversation
--          was forgotten (settle.lua) does not get the number a reader
--          saw before, which would let that reader set aside events it
--          has not read. A number is also always above the
--          conversation's last (kept by an earlier version, which counted
--          each conversation's marks, or left above a "#" a failover
--          rolled back).
-- ARGV[1]  the conversation id
-- ARGV[2]  now, Unix ms
-- ARGV[3]  the save's deadline, Unix ms: Redis refuses the save after it

local id = ARGV[1]
local n = redis.call('HINCRBY', KEYS[2], '#', 1)
local last = tonumber(redis.call('HGET', KEYS[2], id .. ':w') or '0')
if n <= last then
  n = last + 1
  redis.call('HSET', KEYS[2], '#', n)
end
redis.call('HSET', KEYS[2], id .. ':w', n)
local dl = tonumber(redis.call('HGET', KEYS[2], id .. ':d') or '0')
if tonumber(ARGV[3]) > dl then
  redis.call('HSET', KEYS[2], id .. ':d', ARGV[3])
end
-- LT: a conversation already due keeps its place; one set aside
-- (settle.lua) becomes due now.
redis.call('ZADD', KEYS[1], 'LT', ARGV[2], id)
return 1
