-- lease: takes the lease to run the clocks and the jobs if nobody holds
-- it, or renews it for its holder. Expiry is Redis's own clock, so
-- processes whose clocks differ cannot both hold it.
--
-- KEYS[1]  lease    the lease's holder (expires)
--
-- ARGV[1]  the owner
-- ARGV[2]  how long to hold it (ms)
--
-- Returns 1 when this owner holds it now, else 0.
bind('lease')

local cur = redis.call('GET', key('lease'))
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', key('lease'), ARGV[1], 'PX', tonumber(ARGV[2]))
return 1
