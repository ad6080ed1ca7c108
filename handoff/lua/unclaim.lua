-- unclaim: the officer holding the case, or a manager, puts it back to
-- wait for a claim. Its clocks were never stopped.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
-- KEYS[4]  seq      the last job number
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer
-- ARGV[3]  1 when the officer is a manager, else 0
-- ARGV[4]  now (ms)
-- ARGV[5]  the sealed thread line saying so
--
-- Returns {1}, or {0, state, claimer} when the officer may not.
bind('case', 'jobs', 'job', 'seq')

local id, user, now = ARGV[1], ARGV[2], ARGV[4]
local c = key('case')
local no = holder(c, user, ARGV[3], {claimed = true})
if no then return no end
local by = redis.call('HGET', c, 'by')
redis.call('HSET', c, 'st', 'queued')
redis.call('HDEL', c, 'by', 'cat')
act(c, now, user, 'unclaimed (held by ' .. by .. ')')
enqueue('thread', id, ARGV[5], '', user, '', by)
enqueue('update', id)
return {1}
