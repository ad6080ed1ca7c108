-- contacted: the tenant was reached, by the officer holding the case (or
-- a manager) saying so, or by an officer's message delivered. The first
-- contact stops the contact clocks; later ones are not recorded again.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  timers   the clocks
-- KEYS[3]  jobs     the jobs, in order
-- KEYS[4]  job      the jobs' fields
-- KEYS[5]  seq      the last job number
-- KEYS[6]  entries  the ledger's entries
-- KEYS[7]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer, or '' when an officer's message was delivered
-- ARGV[3]  1 when the officer is a manager, else 0
-- ARGV[4]  how
-- ARGV[5]  now (ms)
-- ARGV[6]  the sealed thread line saying so
--
-- Returns {1} for the first contact, {2} when contact was recorded
-- already, {0, state, claimer} when the officer may not.
bind('case', 'timers', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user, how, now = ARGV[1], ARGV[2], ARGV[4], ARGV[5]
local c = key('case')
if user ~= '' then
  local no = holder(c, user, ARGV[3], {claimed = true})
  if no then return no end
elseif not redis.call('HGET', c, 'st') then
  return {0, 'missing', ''}
end
if redis.call('HEXISTS', c, 'cot') == 1 then return {2} end
redis.call('HSET', c, 'cot', now, 'cob', user, 'coh', how)
unschedule(id)
act(c, now, user, 'contacted the tenant: ' .. how)
ledgerFirst(c, 'tco', minutes(c, now))
enqueue('thread', id, ARGV[6], '', user)
enqueue('update', id)
return {1}
