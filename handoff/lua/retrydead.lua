-- retrydead: a person puts a dead job back to be done, in its class and
-- its place by number among its case's jobs, with its attempts counted
-- afresh. Its attempts stay above zero, so that the board looks for a
-- post an earlier attempt may have made before it posts again.
--
-- KEYS[1]  dead     the dead jobs
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
-- KEYS[4]  case     c:<id>, the job's case
--
-- ARGV[1]  the job's number
-- ARGV[2]  the job's case id, as the caller read it
--
-- Returns 1, or 0 when the job is not dead.
bind('dead', 'jobs', 'job', 'case')

if not redis.call('ZSCORE', key('dead'), ARGV[1]) then return 0 end
local raw = redis.call('HGET', key('job'), ARGV[1])
if not raw then
  redis.call('ZREM', key('dead'), ARGV[1])
  return 0
end
local j = cjson.decode(raw)
if j.c ~= ARGV[2] then error('queue: job ' .. ARGV[1] .. ' is not of case ' .. ARGV[2]) end
j.tries, j.d, j.at, j.b = '1', nil, nil, nil
redis.call('HSET', key('job'), ARGV[1], cjson.encode(j))
redis.call('ZREM', key('dead'), ARGV[1])
redis.call('ZADD', key('jobs'), jobScore(jobClass(j.k), ARGV[1]), ARGV[1])
local c = key('case')
if j.k == 'thread' and redis.call('EXISTS', c) == 1 then
  -- Counted again among the case's waiting posts, in number order.
  local ns = {}
  for _, w in ipairs(linePosts(c)) do
    if w ~= ARGV[1] then ns[#ns + 1] = tonumber(w) end
  end
  ns[#ns + 1] = tonumber(ARGV[1])
  table.sort(ns)
  for i, n in ipairs(ns) do ns[i] = string.format('%d', n) end
  redis.call('HSET', c, 'tq', table.concat(ns, ','))
end
return 1
