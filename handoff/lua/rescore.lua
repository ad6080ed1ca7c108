-- rescore: a job queued before jobs had classes (scored by its number
-- alone) is given its class, keeping its number.
--
-- KEYS[1]  jobs     the jobs, in order
-- KEYS[2]  job      the jobs' fields
-- KEYS[3]  case     c:<id>, the job's case
--
-- ARGV[1]  the job's number
-- ARGV[2]  the job's case id, as the caller read it
--
-- Returns 1 when the job was given its class, else 0.
bind('jobs', 'job', 'case')

local score = redis.call('ZSCORE', key('jobs'), ARGV[1])
if not score or tonumber(score) >= classSpan then return 0 end
local raw = redis.call('HGET', key('job'), ARGV[1])
if not raw then
  redis.call('ZREM', key('jobs'), ARGV[1])
  return 0
end
local j = cjson.decode(raw)
if j.c ~= ARGV[2] then error('queue: job ' .. ARGV[1] .. ' is not of case ' .. ARGV[2]) end
redis.call('ZADD', key('jobs'), jobScore(jobClass(j.k), ARGV[1]), ARGV[1])
return 1
