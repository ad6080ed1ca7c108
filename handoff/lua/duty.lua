-- duty: the officer holding the case, or a manager, did one of its
-- duties. What they recorded may bring follow-up duties (a DASH score
-- of 14 or more: the MARAC referral), and a repairs duty done with a
-- request sends it to the repairs team.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  timers   the clocks
-- KEYS[4]  jobs     the jobs, in order
-- KEYS[5]  job      the jobs' fields
-- KEYS[6]  seq      the last job number
-- KEYS[7]  entries  the ledger's entries
-- KEYS[8]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer
-- ARGV[3]  1 when the officer is a manager, else 0
-- ARGV[4]  the duty's id
-- ARGV[5]  what they recorded
-- ARGV[6]  now (ms)
-- ARGV[7]  the sealed thread line saying so
-- ARGV[8]  the follow-up duties (JSON)
-- ARGV[9]  the sealed repairs request, or '' for none
--
-- Returns {1}; {0, 'noduty', ''} for a duty the case does not have,
-- {0, 'done', by} for one done already, {0, state, claimer} when the
-- officer may not.
bind('case', 'duties', 'timers', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user, duty, now = ARGV[1], ARGV[2], ARGV[4], tonumber(ARGV[6])
local c = key('case')
local no = holder(c, user, ARGV[3], {claimed = true})
if no then return no end
local raw = redis.call('HGET', key('duties'), duty)
if not raw then return {0, 'noduty', ''} end
local d = cjson.decode(raw)
if d.by then return {0, 'done', d.by} end
d.by, d.at, d.v = user, now, ARGV[5]
redis.call('HSET', key('duties'), duty, cjson.encode(d))
stopDutyClocks(duty, id)
if not d.rem then
  if not d.due or now <= tonumber(d.due) then ledgerAdd(c, 'dok', duty) else ledgerAdd(c, 'dlate', duty) end
end
act(c, now, user, 'did ' .. duty)
enqueue('thread', id, ARGV[7], '', user)
addDuties(c, id, ARGV[8])
if ARGV[9] ~= '' then enqueue('repairs', id, ARGV[9], '', user) end
enqueue('update', id)
return {1}
