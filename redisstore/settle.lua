-- Settles a conversation whose waiting events were all taken: forgets it
-- when no save can still add events, sets it aside until then otherwise.
--
-- KEYS[1]  the index (mark.lua)
-- KEYS[2]  the index's hash (mark.lua)
-- ARGV[1]  the conversation id
-- ARGV[2]  the number of its latest mark ("<id>:w") when the reader
--          read the index, before it read the conversation's events
-- ARGV[3]  now, Unix ms
-- ARGV[4]  the margin, ms: how much later than a save's deadline it is
--          surely applied or refused, allowing for clocks that differ
--
-- A mark since the reader read means a save it may have missed: the
-- conversation stays due. Otherwise every save that marked it either
-- wrote its events before the reader looked (and they were taken) or can
-- only write them before its deadline: the conversation is set aside
-- until the deadline and margin have passed (a save after the reader
-- looked marks it again and it is due at once), then forgotten.

local id = ARGV[1]
local w = redis.call('HGET', KEYS[2], id .. ':w')
if w ~= ARGV[2] then
  return 0
end
local until_ = tonumber(redis.call('HGET', KEYS[2], id .. ':d') or '0') + tonumber(ARGV[4])
if until_ <= tonumber(ARGV[3]) then
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id .. ':w', id .. ':d')
  return 2
end
redis.call('ZADD', KEYS[1], 'XX', until_, id)
return 1
