-- summary: what the tenant answered since an early case opened (on words
-- of danger). The card is redrawn.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  pos      pos:<id>, the conversation's event position
-- KEYS[4]  timers   the clocks
-- KEYS[5]  jobs     the jobs, in order
-- KEYS[6]  job      the jobs' fields
-- KEYS[7]  seq      the last job number
-- KEYS[8]  entries  the ledger's entries
-- KEYS[9]  expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  the sealed summary and address
-- ARGV[5]  area, or '' when not given
-- ARGV[6]  the duties the answers trigger (JSON)
--
-- Returns 1, or 0 when the conversation has no open case; 'seen' for an
-- event applied already.
bind('case', 'duties', 'pos', 'timers', 'jobs', 'job', 'seq', 'entries', 'expiry')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id = ARGV[1]
local c = key('case')
local st = redis.call('HGET', c, 'st')
if st ~= 'queued' and st ~= 'claimed' then return 0 end
redis.call('HSET', c, 'sec', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('HSET', c, 'ar', ARGV[5])
  ledger(c, 'ar', ARGV[5])
end
addDuties(c, id, ARGV[6])
enqueue('update', id)
return 1
