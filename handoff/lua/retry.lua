-- retry: a job's attempt failed, or its lane was rate limited. The
-- attempt is counted, the next is set, the error's class is kept, and an
-- alert to raise with it (a card that cannot be posted) is queued in the
-- same step.
--
-- KEYS[1]  jobs     the jobs, in order
-- KEYS[2]  job      the jobs' fields
-- KEYS[3]  seq      the last job number
--
-- ARGV[1]  the job's number
-- ARGV[2]  the attempts made
-- ARGV[3]  not before (ms); 0 for none of its own
-- ARGV[4]  the case's id
-- ARGV[5]  the alert to raise, or '' for none
-- ARGV[6]  the error's class (no personal data)
-- ARGV[7]  now (ms): the attempt's time
--
-- Returns 1, or 0 when the job is gone.
bind('jobs', 'job', 'seq')

local raw = redis.call('HGET', key('job'), ARGV[1])
if not raw then return 0 end
local j = cjson.decode(raw)
j.tries, j.at, j.e, j.l, j.b = ARGV[2], ARGV[3], ARGV[6], ARGV[7], nil
redis.call('HSET', key('job'), ARGV[1], cjson.encode(j))
if ARGV[5] ~= '' then enqueue('alert', ARGV[4], '', ARGV[5]) end
return 1
