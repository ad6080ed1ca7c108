-- close: the officer holding the case, or a manager, ends it with an
-- outcome.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  open     the open cases
-- KEYS[4]  timers   the clocks
-- KEYS[5]  jobs     the jobs, in order
-- KEYS[6]  job      the jobs' fields
-- KEYS[7]  seq      the last job number
-- KEYS[8]  entries  the ledger's entries
-- KEYS[9]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the officer
-- ARGV[3]  1 when the officer is a manager, else 0
-- ARGV[4]  the outcome
-- ARGV[5]  whether closing was discussed with the tenant: yes, no or ''
-- ARGV[6]  now (ms)
-- ARGV[7]  how long to keep the closed case (ms)
-- ARGV[8]  the sealed thread line saying so
--
-- Returns {1}, or {0, state, claimer} when the officer may not.
bind('case', 'duties', 'open', 'timers', 'jobs', 'job', 'seq', 'entries', 'expiry')

local id, user, now = ARGV[1], ARGV[2], ARGV[6]
local c = key('case')
local no = holder(c, user, ARGV[3], {claimed = true})
if no then return no end
redis.call('HSET', c, 'st', 'closed', 'out', ARGV[4], 'dsc', ARGV[5], 'cby', user, 'clt', now)
redis.call('ZREM', key('open'), id)
unschedule(id)
unscheduleDuties(id)
act(c, now, user, 'closed: ' .. ARGV[4])
ledger(c, 'out', ARGV[4], 'disc', ARGV[5])
-- Closing discussed with the tenant is the closure duty done (seed 003).
local raw = redis.call('HGET', key('duties'), 'closure')
if ARGV[5] == 'yes' and raw then
  local d = cjson.decode(raw)
  if not d.by then
    d.by, d.at, d.v = user, tonumber(now), 'discussed with the tenant'
    redis.call('HSET', key('duties'), 'closure', cjson.encode(d))
    ledgerAdd(c, 'dok', 'closure')
  end
end
redis.call('PEXPIRE', c, tonumber(ARGV[7]))
redis.call('PEXPIRE', key('duties'), tonumber(ARGV[7]))
enqueue('update', id)
enqueue('thread', id, ARGV[8], '', user)
export(c, id, 'closed')
return {1}
