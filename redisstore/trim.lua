-- Drops a conversation's events the officer queue has taken. A stream
-- left empty is kept a while rather than deleted: the queue remembers the
-- last id it applied of each conversation and passes over any id at or
-- before it, and only an existing stream's next id is sure to come after
-- its last, even when Redis's clock stands still or steps back (within a
-- millisecond of the last event, after a clock correction, or after a
-- failover to a replica whose clock is behind). A deleted stream starts
-- again from the clock. Once nothing has been added for ARGV[2] ms it
-- expires: by then the clock has moved on past its last id, unless it
-- stepped back further than that (then the conversation's next event
-- would be passed over).
--
-- KEYS[1]  the conversation's event stream
-- ARGV[1]  the first id to keep: everything before it was taken
-- ARGV[2]  how long to keep an emptied stream (ms); a later event's save
--          sets the conversation's own expiry again
--
-- Returns how many events are left.

redis.call('XTRIM', KEYS[1], 'MINID', ARGV[1])
local left = redis.call('XLEN', KEYS[1])
if left == 0 then
  -- Only ever shortened (PEXPIRE's LT needs Redis 7).
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl == -1 or ttl > tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end
return left
