-- exited: the tenant left with the quick exit, or texted STOP to the
-- carrier. The case stays with the officers, marked.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  pos      pos:<id>, the conversation's event position
-- KEYS[3]  jobs     the jobs, in order
-- KEYS[4]  job      the jobs' fields
-- KEYS[5]  seq      the last job number
-- KEYS[6]  entries  the ledger's entries
-- KEYS[7]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  the sealed thread line saying so
--
-- Returns 1, or 0 when the conversation has no case; 'seen' for an
-- event applied already.
bind('case', 'pos', 'jobs', 'job', 'seq', 'entries', 'expiry')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id = ARGV[1]
local c = key('case')
if redis.call('EXISTS', c) == 0 then return 0 end
redis.call('HSET', c, 'ex', 1)
ledger(c, 'left', 1)
enqueue('update', id)
enqueue('thread', id, ARGV[4], '')
return 1
