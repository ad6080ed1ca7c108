-- shown: the officer holding the case saw the tenant's contact details.
-- It is recorded in the case and in its thread.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
-- KEYS[4]  seq      the last job number
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer
-- ARGV[3]  now (ms)
-- ARGV[4]  the sealed thread line saying so
--
-- Returns {1}, or {0, state, claimer} to anyone but the claimer.
bind('case', 'jobs', 'job', 'seq')

local c = key('case')
local st, by = unpack(redis.call('HMGET', c, 'st', 'by'))
if st ~= 'claimed' or by ~= ARGV[2] then
  return {0, st or 'missing', by or ''}
end
local shown = redis.call('HGET', c, 'shown') or ''
redis.call('HSET', c, 'shown', shown .. ARGV[2] .. '@' .. ARGV[3] .. ' ')
enqueue('thread', ARGV[1], ARGV[4], '', ARGV[2])
return {1}
