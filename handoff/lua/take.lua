-- take: the worker takes a job to do it now. The job is marked tried,
-- for good (a line is never added to a post that may have gone out as it
-- was), and busy until the call's time is up (drop refuses it meanwhile).
--
-- KEYS[1]  jobs     the jobs, in order
-- KEYS[2]  job      the jobs' fields
--
-- ARGV[1]  the job's number
-- ARGV[2]  how long the call may take (ms)
--
-- Returns the job (JSON) as it is now, or false when it is no longer
-- waiting.
bind('jobs', 'job')

if not redis.call('ZSCORE', key('jobs'), ARGV[1]) then return false end
local raw = redis.call('HGET', key('job'), ARGV[1])
if not raw then
  redis.call('ZREM', key('jobs'), ARGV[1])
  return false
end
local j = cjson.decode(raw)
j.f, j.b = '1', tostring(nowMS() + tonumber(ARGV[2]))
raw = cjson.encode(j)
redis.call('HSET', key('job'), ARGV[1], raw)
return raw
