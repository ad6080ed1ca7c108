-- drop: a person removes a dead or waiting job for good, and with it the
-- words it held. A waiting card or alert is kept: officers and on-call
-- act on them, and they are tried until they go. A job the worker is
-- doing now is left alone.
--
-- KEYS[1]  dead     the dead jobs
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
--
-- ARGV[1]  the job's number
--
-- Returns 'dead' or 'waiting' for the job dropped; 'kept' for a waiting
-- card or alert, 'busy' for a job being done, 'none' for no such job.
bind('dead', 'jobs', 'job')

local n = ARGV[1]
if redis.call('ZSCORE', key('dead'), n) then
  redis.call('ZREM', key('dead'), n)
  redis.call('HDEL', key('job'), n)
  return 'dead'
end
if not redis.call('ZSCORE', key('jobs'), n) then return 'none' end
local raw = redis.call('HGET', key('job'), n)
if raw then
  local j = cjson.decode(raw)
  if j.k == 'card' or j.k == 'alert' then return 'kept' end
  if j.b and tonumber(j.b) > nowMS() then return 'busy' end
end
redis.call('ZREM', key('jobs'), n)
redis.call('HDEL', key('job'), n)
return 'waiting'
