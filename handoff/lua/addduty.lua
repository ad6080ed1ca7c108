-- addduty: an officer adds a duty the policy leaves to their judgement
-- (an adult at risk).
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
-- ARGV[4]  the duties (JSON)
-- ARGV[5]  now (ms)
-- ARGV[6]  the sealed thread line saying so
--
-- Returns {1}; {0, 'done', ''} when the case has the duty already,
-- {0, state, claimer} when the officer may not.
bind('case', 'duties', 'timers', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user = ARGV[1], ARGV[2]
local c = key('case')
local no = holder(c, user, ARGV[3], {claimed = true})
if no then return no end
if addDuties(c, id, ARGV[4]) == 0 then return {0, 'done', ''} end
act(c, ARGV[5], user, 'added a duty')
enqueue('thread', id, ARGV[6], '', user)
enqueue('update', id)
return {1}
