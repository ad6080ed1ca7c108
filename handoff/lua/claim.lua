-- claim: an officer takes a waiting case. Of two claiming at once, one
-- wins. The contact clocks run on until the tenant is contacted.
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
-- ARGV[3]  now (ms)
--
-- Returns {1} to the winner, {0, state, claimer} to anyone else (state
-- 'missing' for no case).
bind('case', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user, now = ARGV[1], ARGV[2], ARGV[3]
local c = key('case')
local st = redis.call('HGET', c, 'st')
if st ~= 'queued' then
  return {0, st or 'missing', redis.call('HGET', c, 'by') or ''}
end
redis.call('HSET', c, 'st', 'claimed', 'by', user, 'cat', now)
act(c, now, user, 'claimed')
ledgerFirst(c, 'tcl', minutes(c, now))
enqueue('update', id)
return {1}
