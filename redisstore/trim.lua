-- Drops a conversation's events the officer queue has taken, and the
-- stream with them when nothing is left in it (an empty stream would
-- keep its memory until the conversation expires).
--
-- KEYS[1]  the conversation's event stream
-- ARGV[1]  the first id to keep: everything before it was taken
--
-- Returns how many events are left.

redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
local left = redis.call('XLEN', KEYS[1])
if left == 0 then
  redis.call('DEL', KEYS[1])
end
return left
