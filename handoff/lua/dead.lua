-- dead: a job given up (its attempts spent, or refused for good) leaves
-- the jobs for the dead list, where a person can see it, retry it or
-- drop it (retrydead, drop) until it expires (prunedead). The list is
-- bounded: when it is full the job is not moved, and keeps being tried.
--
-- KEYS[1]  jobs     the jobs, in order
-- KEYS[2]  job      the jobs' fields
-- KEYS[3]  dead     the dead jobs, by when they were given up (ms)
--
-- ARGV[1]  the job's number
-- ARGV[2]  the attempts made
-- ARGV[3]  the last error's class (no personal data)
-- ARGV[4]  now (ms)
-- ARGV[5]  the most jobs the dead list holds
--
-- Returns 1 when moved, 0 when the dead list is full, -1 when the job is
-- no longer waiting.
bind('jobs', 'job', 'dead')

local raw = redis.call('HGET', key('job'), ARGV[1])
if not raw or not redis.call('ZSCORE', key('jobs'), ARGV[1]) then return -1 end
if redis.call('ZCARD', key('dead')) >= tonumber(ARGV[5]) then return 0 end
local j = cjson.decode(raw)
j.tries, j.e, j.l, j.d, j.b, j.at = ARGV[2], ARGV[3], ARGV[4], ARGV[4], nil, nil
redis.call('HSET', key('job'), ARGV[1], cjson.encode(j))
redis.call('ZREM', key('jobs'), ARGV[1])
redis.call('ZADD', key('dead'), ARGV[4], ARGV[1])
return 1
