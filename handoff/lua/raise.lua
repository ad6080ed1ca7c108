-- raise: the tenant's priority went up, or they wrote words of danger.
-- On-call is told when the new priority calls for it, and again for
-- words of danger if it was last told long enough ago.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  pos      pos:<id>, the conversation's event position
-- KEYS[3]  open     the open cases
-- KEYS[4]  jobs     the jobs, in order
-- KEYS[5]  job      the jobs' fields
-- KEYS[6]  seq      the last job number
-- KEYS[7]  entries  the ledger's entries
-- KEYS[8]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  priority (0-2)
-- ARGV[5]  its score in the open cases
-- ARGV[6]  1 when the priority alerts on-call, else 0
-- ARGV[7]  the sealed thread line for words of danger, or ''
-- ARGV[8]  now (ms)
-- ARGV[9]  1 when the tenant wrote words of danger, else 0
-- ARGV[10] the least time between two alerts about words of danger (ms)
--
-- Returns 1, or 0 when the conversation has no case; 'seen' for an
-- event applied already.
bind('case', 'pos', 'open', 'jobs', 'job', 'seq', 'entries', 'expiry')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id, pr = ARGV[1], tonumber(ARGV[4])
local c = key('case')
local st, old, oc, oat = unpack(redis.call('HMGET', c, 'st', 'pr', 'oc', 'oat'))
if not st then return 0 end
if ARGV[7] ~= '' then enqueue('thread', id, ARGV[7], '') end
if pr > tonumber(old) then
  redis.call('HSET', c, 'pr', pr)
  ledger(c, 'pr', pr)
  if ARGV[9] == '1' then
    ledger(c, 'why', 'danger')
  else
    -- Raised by the answers or risk words, not by words of danger.
    local lid, _, e = ledgerOf(c)
    if lid and (e.why or '') == '' then ledger(c, 'why', 'answers') end
  end
  if st == 'queued' then redis.call('ZADD', key('open'), ARGV[5], id) end
  enqueue('update', id)
end
if st == 'closed' then return 1 end
local now = tonumber(ARGV[8])
if ARGV[6] == '1' and oc ~= '1' then
  redis.call('HSET', c, 'oc', 1, 'oat', now)
  enqueue('alert', id, '', 'oncall')
elseif ARGV[9] == '1' and now - tonumber(oat or 0) >= tonumber(ARGV[10]) then
  redis.call('HSET', c, 'oc', 1, 'oat', now)
  enqueue('alert', id, '', 'danger')
end
return 1
