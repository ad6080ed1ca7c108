-- release: gives up the lease if this owner holds it, so that another
-- process takes over at its next tick.
--
-- KEYS[1]  lease    the lease's holder (expires)
--
-- ARGV[1]  the owner
--
-- Returns 1.
bind('lease')

if redis.call('GET', key('lease')) == ARGV[1] then redis.call('DEL', key('lease')) end
return 1
