-- prunedead: dead jobs given up before a time are gone for good, a batch
-- at a time.
--
-- KEYS[1]  dead     the dead jobs, by when they were given up (ms)
-- KEYS[2]  job      the jobs' fields
--
-- ARGV[1]  given up before (ms)
-- ARGV[2]  the most to remove
--
-- Returns how many were removed.
bind('dead', 'job')

local gone = redis.call('ZRANGEBYSCORE', key('dead'), '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, n in ipairs(gone) do
  redis.call('HDEL', key('job'), n)
  redis.call('ZREM', key('dead'), n)
end
return #gone
