-- tenant: the tenant wrote after the handoff. Their words go to the
-- case's thread; a closed case opens again.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  pos      pos:<id>, the conversation's event position
-- KEYS[4]  open     the open cases
-- KEYS[5]  timers   the clocks
-- KEYS[6]  jobs     the jobs, in order
-- KEYS[7]  job      the jobs' fields
-- KEYS[8]  seq      the last job number
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  the sealed thread line of their words
-- ARGV[5]  how long to keep the case (ms)
-- ARGV[6]  its score in the open cases, if it opens again
-- ARGV[7]  three quarters of its new time (ms)
-- ARGV[8]  its new contact deadline (ms)
-- ARGV[9]  now (ms): opened again at
-- ARGV[10] its new deadline (ms), for the case
-- ARGV[11] the sealed thread line saying it opened again
-- ARGV[12] 1 when a case opened again alerts on-call, else 0
--
-- Returns 1, or 0 when the conversation has no case; 'seen' for an
-- event applied already.
bind('case', 'duties', 'pos', 'open', 'timers', 'jobs', 'job', 'seq')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id = ARGV[1]
local c = key('case')
local st = redis.call('HGET', c, 'st')
if not st then return 0 end
if redis.call('HDEL', c, 'ex') == 1 then
  -- They wrote again after texting STOP to the carrier (and START).
  enqueue('update', id)
end
if st ~= 'closed' then resume(c, id, ARGV[7], ARGV[8], ARGV[9]) end
redis.call('HDEL', c, 'er')
if st == 'closed' then
  redis.call('HSET', c, 'st', 'queued', 'ro', 1, 'op', ARGV[9], 'dl', ARGV[10])
  redis.call('HDEL', c, 'by', 'cat', 'cby', 'out', 'dsc', 'clt', 'cot', 'cob', 'coh')
  schedule(id, ARGV[6], ARGV[7], ARGV[8])
  rescheduleDuties(id, ARGV[9])
  enqueue('thread', id, ARGV[11], '')
  enqueue('update', id)
  if ARGV[12] == '1' then
    redis.call('HSET', c, 'oc', 1)
    enqueue('alert', id, '', 'oncall')
  end
  export(c, id, 'reopened')
end
redis.call('PEXPIRE', c, tonumber(ARGV[5]))
if redis.call('EXISTS', key('duties')) == 1 then redis.call('PEXPIRE', key('duties'), tonumber(ARGV[5])) end
enqueue('thread', id, ARGV[4], '', '', '1')
return 1
