-- reassign: the officer holding the case passes it on; a manager may
-- give any open case to anyone.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
-- KEYS[4]  seq      the last job number
-- KEYS[5]  entries  the ledger's entries
-- KEYS[6]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer
-- ARGV[3]  1 when the officer is a manager, else 0
-- ARGV[4]  the officer it goes to
-- ARGV[5]  now (ms)
-- ARGV[6]  the sealed thread line saying so
--
-- Returns {1}, or {0, state, claimer} when the officer may not.
bind('case', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user, to, now = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local c = key('case')
local states = {claimed = true}
if ARGV[3] == '1' then states.queued = true end
local no = holder(c, user, ARGV[3], states)
if no then return no end
redis.call('HSET', c, 'st', 'claimed', 'by', to, 'cat', now)
act(c, now, user, 'gave the case to ' .. to)
ledgerFirst(c, 'tcl', minutes(c, now))
enqueue('thread', id, ARGV[6], '', user, '', to)
enqueue('update', id)
return {1}
