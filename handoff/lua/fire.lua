-- fire: one due timer of one case becomes an alert. The worker reads the
-- due timers, then calls fire for each with that case's keys; a timer
-- fired already, or moved later since it was read, is left alone, so
-- each fires once.
--
-- A case not yet contacted at three quarters of its time: its claimer
-- is reminded (the managers are told when nobody holds it); at its
-- deadline, the managers. A duty not done at three quarters of its time:
-- the claimer; when due, the managers. Each redraws the card.
--
-- KEYS[1]  timers   the clocks
-- KEYS[2]  case     c:<id>, the case
-- KEYS[3]  duties   d:<id>, its duties
-- KEYS[4]  jobs     the jobs, in order
-- KEYS[5]  job      the jobs' fields
-- KEYS[6]  seq      the last job number
--
-- ARGV[1]  the timer: warn|<id>, due|<id>, dwarn|<duty>|<id>, ddue|<duty>|<id>
-- ARGV[2]  the case's id, as the worker read it from the timer
-- ARGV[3]  now (ms)
--
-- Returns 1 when an alert was queued, else 0.
bind('timers', 'case', 'duties', 'jobs', 'job', 'seq')

local m = ARGV[1]
local at = redis.call('ZSCORE', key('timers'), m)
if not at or tonumber(at) > tonumber(ARGV[3]) then return 0 end
redis.call('ZREM', key('timers'), m)
local kind, rest = string.match(m, '^(%a+)|(.+)$')
local duty, id = nil, rest
if kind == 'dwarn' or kind == 'ddue' then duty, id = string.match(rest, '^([^|]+)|(.+)$') end
if id ~= ARGV[2] then error('queue: timer ' .. m .. ' is not of case ' .. ARGV[2]) end
local c = key('case')
local st, cot = unpack(redis.call('HMGET', c, 'st', 'cot'))
if st ~= 'queued' and st ~= 'claimed' then return 0 end
if duty then
  local raw = redis.call('HGET', key('duties'), duty)
  if not raw or cjson.decode(raw).by then return 0 end
  enqueue('alert', id, '', kind, '', '', '', duty)
  enqueue('update', id)
  return 1
end
if cot then return 0 end
if kind == 'warn' and st == 'claimed' then kind = 'remind' end
enqueue('alert', id, '', kind)
-- The card redraws, to show the time now left or overdue.
enqueue('update', id)
return 1
