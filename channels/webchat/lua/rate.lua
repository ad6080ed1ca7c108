-- Counts one use in a fixed one-minute window.
--
-- KEYS[1]  the counter
-- ARGV[1]  the window in milliseconds
--
-- Returns the count in the window so far, this use included.

local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
