-- open: a handoff. It opens a new case, opens a closed one again, or
-- brings an open one up to date when the tenant went through the
-- questions again.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  pos      pos:<id>, the conversation's event position
-- KEYS[4]  open     the open cases
-- KEYS[5]  timers   the clocks
-- KEYS[6]  jobs     the jobs, in order
-- KEYS[7]  job      the jobs' fields
-- KEYS[8]  seq      the last job number
-- KEYS[9]  ledger   the ledger's index
-- KEYS[10] entries  the ledger's entries
-- KEYS[11] expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  how long to keep the case (ms)
-- ARGV[5]  priority (0-2)
-- ARGV[6]  its score in the open cases
-- ARGV[7]  three quarters of its time (ms)
-- ARGV[8]  its contact deadline (ms), for the clock
-- ARGV[9]  1 when on-call is to be alerted, else 0
-- ARGV[10] the sealed summary and address
-- ARGV[11] area
-- ARGV[12] channel
-- ARGV[13] language
-- ARGV[14] reason
-- ARGV[15] opened (ms)
-- ARGV[16] deadline (ms), for the case
-- ARGV[17] the sealed thread line for a case open already
-- ARGV[18] now (ms)
-- ARGV[19] the duties the answers trigger (JSON)
-- ARGV[20] a new ledger id
-- ARGV[21] the ledger entry's time to live (ms)
-- ARGV[22] the new ledger entry's fields (a JSON object of strings)
-- ARGV[23] 1 when cases are exported, else 0
--
-- Returns 'new', 'reopen' or 'update'; 'seen' for an event applied
-- already.
bind('case', 'duties', 'pos', 'open', 'timers', 'jobs', 'job', 'seq', 'ledger', 'entries', 'expiry')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id, ttl = ARGV[1], tonumber(ARGV[4])
local pr, score, warn, due, oncall = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local c = key('case')
local st = redis.call('HGET', c, 'st')
if st == 'queued' or st == 'claimed' then
  -- The tenant went through the questions again while the case is open:
  -- they came back after any quick exit, too.
  redis.call('HSET', c, 'sec', ARGV[10], 'rs', ARGV[14])
  if ARGV[11] ~= '' then
    redis.call('HSET', c, 'ar', ARGV[11])
    ledger(c, 'ar', ARGV[11])
  end
  resume(c, id, warn, due, ARGV[18])
  redis.call('HDEL', c, 'ex', 'er')
  local old = tonumber(redis.call('HGET', c, 'pr'))
  if pr > old then
    redis.call('HSET', c, 'pr', pr)
    ledger(c, 'pr', pr)
    if st == 'queued' then redis.call('ZADD', key('open'), score, id) end
  end
  if oncall == '1' and redis.call('HGET', c, 'oc') ~= '1' then
    redis.call('HSET', c, 'oc', 1, 'oat', ARGV[18])
    enqueue('alert', id, '', 'oncall')
  end
  addDuties(c, id, ARGV[19])
  enqueue('thread', id, ARGV[17], '', '', '1')
  enqueue('update', id)
  redis.call('PEXPIRE', c, ttl)
  redis.call('PEXPIRE', key('duties'), ttl)
  return 'update'
end
local result = 'new'
if st then result = 'reopen' end
-- Who saw the tenant's contact, the actions, the ledger entry, the
-- export's versions and the posts still waiting are kept across a
-- reopening.
local kept = {'shown', 'log', 'lid', 'lttl', 'xv', 'tq', 'uj'}
local keep = redis.call('HMGET', c, unpack(kept))
redis.call('DEL', c)
-- refs (tl:<id>) lists the Slack messages that held the tenant's words,
-- the cards included, across every case of the conversation: DELETE
-- redacts them all, old cards of a reopened case too.
if not st then redis.call('DEL', key('duties')) end
redis.call('HSET', c, 'st', 'queued', 'pr', pr, 'sec', ARGV[10], 'ar', ARGV[11], 'ch', ARGV[12],
  'lg', ARGV[13], 'rs', ARGV[14], 'op', ARGV[15], 'dl', ARGV[16], 'oc', oncall, 'xp', ARGV[23])
for i, f in ipairs(kept) do
  if keep[i] then redis.call('HSET', c, f, keep[i]) end
end
if oncall == '1' then redis.call('HSET', c, 'oat', ARGV[18]) end
if st then
  redis.call('HSET', c, 'ro', 1)
else
  local fields = cjson.decode(ARGV[22])
  redis.call('HSET', c, 'lid', ARGV[20], 'lttl', ARGV[21])
  redis.call('ZADD', key('ledger'), fields.hr, ARGV[20])
  local kv = {}
  for f, v in pairs(fields) do
    table.insert(kv, f)
    table.insert(kv, v)
  end
  ledger(c, unpack(kv))
end
redis.call('PEXPIRE', c, ttl)
schedule(id, score, warn, due)
enqueue('card', id)
if oncall == '1' then enqueue('alert', id, '', 'oncall') end
addDuties(c, id, ARGV[19])
if st then rescheduleDuties(id, ARGV[18]) end
redis.call('PEXPIRE', key('duties'), ttl)
if st then export(c, id, 'reopened') else export(c, id, 'handoff') end
return result
