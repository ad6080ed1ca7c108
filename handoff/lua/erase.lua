-- erase: the tenant asked for their words to be erased. The case stays
-- for the officers, without the tenant's words: the thread lines that
-- held them are redacted, and lines not yet posted are dropped, waiting
-- or dead (a post of several lines keeps its notes, unless it was tried:
-- an earlier attempt may have posted it whole). A post that was tried,
-- or is being tried now, is listed as '?channel|thread|job' (no words),
-- so that the redaction looks for it by its job's key and redacts it if
-- Slack has it. The ledger entry, which holds no words, stays.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  duties   d:<id>, its duties
-- KEYS[3]  refs     tl:<id>, the Slack messages that held their words
-- KEYS[4]  pos      pos:<id>, the conversation's event position
-- KEYS[5]  timers   the clocks
-- KEYS[6]  jobs     the jobs, in order
-- KEYS[7]  job      the jobs' fields
-- KEYS[8]  dead     the dead jobs
-- KEYS[9]  seq      the last job number
-- KEYS[10] entries  the ledger's entries
-- KEYS[11] expiry   the ledger's expiry
--
-- ARGV[1]  the case's id
-- ARGV[2]  the event's id in the store's log ('' when delivered directly)
-- ARGV[3]  how long to keep the event position (ms)
-- ARGV[4]  the sealed summary with the answers removed and no address
-- ARGV[5]  the sealed thread line saying so
-- ARGV[6]  1 when cases are exported, else 0
-- ARGV[7]  now, in seconds: an expired case's export version
--
-- Returns 1; for an expired case 2 when its messages or record are
-- erased all the same, else 0; 'seen' for an event applied already.
bind('case', 'duties', 'refs', 'pos', 'timers', 'jobs', 'job', 'dead', 'seq', 'entries', 'expiry')
if seen(ARGV[2], ARGV[3]) then return 'seen' end

local id = ARGV[1]
local c = key('case')
-- The card a tried post went under: a thread line is posted only once
-- the card is, and a list of messages to redact exists once it is.
local card = redis.call('HMGET', c, 'cc', 'cts')
local listed = card[1] and card[2] and redis.call('EXISTS', key('refs')) == 1
local function strip(n)
  local raw = redis.call('HGET', key('job'), n)
  if not raw then return end
  local j = cjson.decode(raw)
  if j.c ~= id or j.w ~= '1' then return end
  local ls, flags = lines(j)
  local keep = {}
  for i, l in ipairs(ls) do
    if string.sub(flags, i, i) ~= '1' then keep[#keep + 1] = l end
  end
  if #keep == 0 or j.f then
    redis.call('HDEL', key('job'), n)
    redis.call('ZREM', key('jobs'), n)
    redis.call('ZREM', key('dead'), n)
    if j.f and listed then
      redis.call('RPUSH', key('refs'), '?' .. card[1] .. '|' .. card[2] .. '|' .. n)
    end
    return
  end
  setLines(j, keep, string.rep('0', #keep))
  j.m, j.mi = nil, nil
  redis.call('HSET', key('job'), n, cjson.encode(j))
end
for _, n in ipairs(redis.call('ZRANGE', key('jobs'), 0, -1)) do strip(n) end
for _, n in ipairs(redis.call('ZRANGE', key('dead'), 0, -1)) do strip(n) end
if redis.call('EXISTS', c) == 0 then
  -- The case has expired, but Slack keeps its messages, and the housing
  -- system its record: both are erased all the same. The export's
  -- version is the time, above any the case had.
  local n = 0
  if redis.call('EXISTS', key('refs')) == 1 then
    enqueue('redact', id)
    n = 2
  end
  if ARGV[6] == '1' then
    enqueue('export', id, '', '', '', '', '', 'erased|' .. ARGV[7])
    n = 2
  end
  return n
end
-- Nobody is to be chased to contact a tenant who asked to be erased.
unschedule(id)
unscheduleDuties(id)
redis.call('HSET', c, 'sec', ARGV[4], 'ex', 1, 'er', 1)
ledger(c, 'left', 1)
enqueue('redact', id)
enqueue('update', id)
enqueue('thread', id, ARGV[5], '')
export(c, id, 'erased')
return 1
