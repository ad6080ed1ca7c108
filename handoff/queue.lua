-- The officer queue's state changes, each atomic. ARGV[1] names the
-- operation, ARGV[2] is the key prefix; the rest depend on the operation.
--
-- Keys under the prefix:
--   c:<id>      hash, one case (fields below)
--   d:<id>      hash, the case's duties: duty id -> JSON (see 'duties')
--   tl:<id>     list, "channel|ts" of the cards and thread lines that
--               held the tenant's words, across the conversation's
--               cases, to redact them if the tenant asks; kept as long
--               as the ledger
--   open        zset of open (queued or claimed) case ids, by priority then age
--   timers      zset, by when they fire (ms): "warn|<id>" and "due|<id>"
--               (the contact deadline), "dwarn|<duty>|<id>" and
--               "ddue|<duty>|<id>" (a duty's)
--   jobs        zset of job numbers, in order
--   job:<n>     hash, one job: k kind, c case id, t sealed text, a alert,
--               o and o2 the officers it names, w 1 for the tenant's words,
--               x the duty an alert is about, or an export's event
--   seq         the last job number
--   card:<ts>   the case id of the card posted at Slack timestamp ts
--   lease       the owner of the lease to run the clocks and jobs (expires)
--   pos:<id>    the id of the conversation's last event applied from the
--               store's event log, kept 30 days
--   {queue}:ledger          zset of ledger ids, by the hour their case
--                           opened (ms)
--   {queue}:ledger:entries  hash, ledger id -> one case's anonymous
--                           entry, a JSON object of strings (see ledger/)
--   {queue}:ledger:expiry   zset of ledger ids, by when the entry expires
--                           (ms, Redis's clock)
--
-- Case fields: st state, pr priority (0-2), ar area, ch channel, lg language,
-- rs reason, op opened (ms), dl deadline (ms), sec sealed summary and
-- address, by claimer, cat claimed at, cby closed by, out outcome, dsc
-- closure discussed with the tenant, clt closed at, ex 1 once the tenant
-- ended the chat, er 1 once the tenant asked for their words to be erased,
-- ro 1 once reopened, oc 1 once on-call was alerted, oat when on-call was
-- last alerted (ms), cc/cts the card's channel and timestamp, shown the
-- officers who were shown the contact, cot/cob/coh when, by whom and how
-- the tenant was first contacted, log the officers' actions (one
-- "ms<TAB>officer<TAB>what" a line), lid the ledger id, lttl the ledger's
-- time to live (ms), xp 1 when cases are exported, xv the last export
-- version.

local op, prefix = ARGV[1], ARGV[2]

local function key(s) return prefix .. s end

-- The operations that apply a tenant's event take the conversation's id
-- as ARGV[3], and as their last two arguments the event's id in the
-- store's event log ('' when it came directly) and how long to keep the
-- conversation's position (ms). Ids order one conversation's events
-- only, so each conversation has its own position: an event at or
-- before it is not applied again, and the position moves with the
-- change itself, so each event counts once.
local function streamID(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

if op == 'open' or op == 'tenant' or op == 'exited' or op == 'erase' or op == 'raise' or op == 'summary' or op == 'skip' then
  local evid, ttl = ARGV[#ARGV - 1], ARGV[#ARGV]
  if evid ~= '' then
    local ms, seq = streamID(evid)
    if not ms then return redis.error_reply('queue: bad event id ' .. evid) end
    local pk = key('pos:' .. ARGV[3])
    local pos = redis.call('GET', pk)
    if pos then
      local pms, pseq = streamID(pos)
      if pms and (ms < pms or (ms == pms and seq <= pseq)) then return 'seen' end
    end
    redis.call('SET', pk, evid, 'PX', tonumber(ttl))
  end
  -- skip: an event that cannot be read is passed over, once. ARGV: id.
  if op == 'skip' then return 1 end
end

-- enqueue adds a job. A thread line's text is sealed; who and who2 are the
-- officers it names ({officer} and {officer2} in the text), tenant is '1'
-- when the text is the tenant's own words, extra the duty an alert is
-- about or an export's event and version.
local function enqueue(kind, id, text, alert, who, tenant, who2, extra)
  local n = redis.call('INCR', key('seq'))
  redis.call('HSET', key('job:' .. n), 'k', kind, 'c', id, 't', text or '', 'a', alert or '',
    'o', who or '', 'w', tenant or '', 'o2', who2 or '', 'x', extra or '')
  redis.call('ZADD', key('jobs'), n, n)
end

-- export queues the case's record for the housing system, when that is
-- configured; each delivery has the next version.
local function export(c, id, event)
  if redis.call('HGET', c, 'xp') ~= '1' then return end
  local v = redis.call('HINCRBY', c, 'xv', 1)
  enqueue('export', id, '', '', '', '', '', event .. '|' .. v)
end

-- nowMS is Redis's clock, in ms: ledger entries expire by it, as keys
-- with a TTL do.
local function nowMS()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- ledgerOf returns the case's ledger id, its entry's time to live (ms)
-- and the entry, decoded; nothing when the case has no ledger id.
local function ledgerOf(c)
  local lid, ttl = unpack(redis.call('HMGET', c, 'lid', 'lttl'))
  if not lid or lid == '' then return nil end
  local raw = redis.call('HGET', key('{queue}:ledger:entries'), lid)
  local e = {}
  if raw then e = cjson.decode(raw) end
  return lid, tonumber(ttl), e
end

-- ledgerSave stores the entry and keeps it ttl ms from now.
local function ledgerSave(lid, ttl, e)
  redis.call('HSET', key('{queue}:ledger:entries'), lid, cjson.encode(e))
  if ttl then redis.call('ZADD', key('{queue}:ledger:expiry'), nowMS() + ttl, lid) end
end

-- ledger writes fields (name, value, ...) of the case's anonymous ledger
-- entry. Every value is kept as a string.
local function ledger(c, ...)
  local lid, ttl, e = ledgerOf(c)
  if not lid then return end
  local kv = {...}
  for i = 1, #kv, 2 do e[kv[i]] = tostring(kv[i + 1]) end
  ledgerSave(lid, ttl, e)
end

-- ledgerFirst writes a ledger field only the first time: the first claim,
-- the first contact.
local function ledgerFirst(c, field, value)
  local lid, ttl, e = ledgerOf(c)
  if not lid or e[field] then return end
  e[field] = tostring(value)
  ledgerSave(lid, ttl, e)
end

-- ledgerAdd adds a word to a space-separated ledger field, once.
local function ledgerAdd(c, field, word)
  local lid, ttl, e = ledgerOf(c)
  if not lid then return end
  local cur = e[field] or ''
  if string.find(' ' .. cur .. ' ', ' ' .. word .. ' ', 1, true) then return end
  if cur ~= '' then cur = cur .. ' ' end
  e[field] = cur .. word
  ledgerSave(lid, ttl, e)
end

-- minutes since the case opened.
local function minutes(c, now)
  return math.floor((tonumber(now) - tonumber(redis.call('HGET', c, 'op') or now)) / 60000)
end

-- act records an officer's action on the case.
local function act(c, now, who, what)
  local log = redis.call('HGET', c, 'log') or ''
  redis.call('HSET', c, 'log', log .. now .. '\t' .. who .. '\t' .. what .. '\n')
end

local function unschedule(id)
  redis.call('ZREM', key('timers'), 'warn|' .. id, 'due|' .. id)
end

-- contactClocks sets the case's contact clocks: at three quarters of
-- its time, and at its deadline.
local function contactClocks(id, warn, due)
  redis.call('ZADD', key('timers'), warn, 'warn|' .. id, due, 'due|' .. id)
end

-- schedule sets the case's contact clocks and its place in the queue.
local function schedule(id, score, warn, due)
  redis.call('ZADD', key('open'), score, id)
  contactClocks(id, warn, due)
end

-- dutyClock names a duty's timer: kind 'dwarn' or 'ddue'.
local function dutyClock(kind, duty, id) return kind .. '|' .. duty .. '|' .. id end

-- dutyClocks sets a duty's clocks (d: its stored JSON, decoded).
local function dutyClocks(d, id)
  redis.call('ZADD', key('timers'), d.warn, dutyClock('dwarn', d.id, id), d.due, dutyClock('ddue', d.id, id))
end

-- stopDutyClocks removes a duty's clocks.
local function stopDutyClocks(duty, id)
  redis.call('ZREM', key('timers'), dutyClock('dwarn', duty, id), dutyClock('ddue', duty, id))
end

-- addDuties adds the duties (a JSON array of {id, due, warn, rem, ...})
-- the case does not have yet, and starts their clocks. The ledger counts
-- each duty triggered.
local function addDuties(c, id, list)
  local added = 0
  for _, d in ipairs(cjson.decode(list)) do
    if redis.call('HSETNX', key('d:' .. id), d.id, cjson.encode(d)) == 1 then
      added = added + 1
      if not d.rem then
        -- A duty due before closing has no time on the clock.
        if d.due then dutyClocks(d, id) end
        ledgerAdd(c, 'dut', d.id)
      end
    end
  end
  return added
end

-- rescheduleDuties starts again the clocks of the duties not done yet,
-- when a closed or erased case opens again: they are still asked of the
-- officers. A duty already overdue at now is due again at once, without
-- the reminder that would come with it.
local function rescheduleDuties(id, now)
  for _, raw in ipairs(redis.call('HVALS', key('d:' .. id))) do
    local d = cjson.decode(raw)
    if not d.by and not d.rem and d.due then
      if tonumber(d.due) > tonumber(now) then
        dutyClocks(d, id)
      else
        redis.call('ZADD', key('timers'), now, dutyClock('ddue', d.id, id))
      end
    end
  end
end

-- resume starts a case's clocks again when the tenant comes back after
-- asking for erasure (which stopped them): the contact deadline from
-- their return, unless contact was made, and the undone duties.
local function resume(c, id, warn, due, now)
  if redis.call('HGET', c, 'er') ~= '1' then return end
  if redis.call('HEXISTS', c, 'cot') == 0 then
    redis.call('HSET', c, 'dl', due)
    contactClocks(id, warn, due)
  end
  rescheduleDuties(id, now)
end

local function unscheduleDuties(id)
  for _, d in ipairs(redis.call('HKEYS', key('d:' .. id))) do stopDutyClocks(d, id) end
end

-- holder checks that user may act on a claimed case: its claimer, or a
-- manager (manager '1'). Returns the refusal, or nil.
local function holder(c, user, manager, states)
  local st, by = unpack(redis.call('HMGET', c, 'st', 'by'))
  if not st then return {0, 'missing', ''} end
  if not states[st] then return {0, st, by or ''} end
  if st == 'claimed' and by ~= user and manager ~= '1' then return {0, st, by or ''} end
  return nil
end

if op == 'open' then
  -- A handoff. ARGV: id, ttl-ms, priority, score, warn-ms, due-ms, oncall
  -- (0/1), sealed, area, channel, lang, reason, opened-ms, deadline-ms,
  -- sealed text for the thread when the case is open already, now-ms,
  -- duties (JSON), ledger id, ledger ttl-ms, ledger fields (JSON object),
  -- export (0/1).
  local id, ttl = ARGV[3], tonumber(ARGV[4])
  local pr, score, warn, due, oncall = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  local c = key('c:' .. id)
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
    redis.call('PEXPIRE', key('d:' .. id), ttl)
    return 'update'
  end
  local result = 'new'
  if st then result = 'reopen' end
  -- Who saw the tenant's contact, the actions, the ledger entry and the
  -- export's versions are kept across a reopening.
  local keep = redis.call('HMGET', c, 'shown', 'log', 'lid', 'lttl', 'xv')
  redis.call('DEL', c)
  -- tl: lists the Slack messages that held the tenant's words, the
  -- cards included, across every case of the conversation: DELETE
  -- redacts them all, old cards of a reopened case too.
  if not st then redis.call('DEL', key('d:' .. id)) end
  redis.call('HSET', c, 'st', 'queued', 'pr', pr, 'sec', ARGV[10], 'ar', ARGV[11], 'ch', ARGV[12],
    'lg', ARGV[13], 'rs', ARGV[14], 'op', ARGV[15], 'dl', ARGV[16], 'oc', oncall, 'xp', ARGV[23])
  for i, f in ipairs({'shown', 'log', 'lid', 'lttl', 'xv'}) do
    if keep[i] then redis.call('HSET', c, f, keep[i]) end
  end
  if oncall == '1' then redis.call('HSET', c, 'oat', ARGV[18]) end
  if st then
    redis.call('HSET', c, 'ro', 1)
  else
    redis.call('HSET', c, 'lid', ARGV[20], 'lttl', ARGV[21])
    redis.call('ZADD', key('{queue}:ledger'), cjson.decode(ARGV[22]).hr, ARGV[20])
    local fields = {}
    for f, v in pairs(cjson.decode(ARGV[22])) do
      table.insert(fields, f)
      table.insert(fields, tostring(v))
    end
    ledger(c, unpack(fields))
  end
  redis.call('PEXPIRE', c, ttl)
  schedule(id, score, warn, due)
  enqueue('card', id)
  if oncall == '1' then enqueue('alert', id, '', 'oncall') end
  addDuties(c, id, ARGV[19])
  if st then rescheduleDuties(id, ARGV[18]) end
  redis.call('PEXPIRE', key('d:' .. id), ttl)
  if st then export(c, id, 'reopened') else export(c, id, 'handoff') end
  return result
end

if op == 'claim' then
  -- ARGV: id, user, now-ms. Returns {1} to the winner, {0, state, claimer}
  -- to anyone else. The contact clocks run on until the tenant is
  -- contacted.
  local id, user, now = ARGV[3], ARGV[4], ARGV[5]
  local c = key('c:' .. id)
  local st = redis.call('HGET', c, 'st')
  if st ~= 'queued' then
    return {0, st or 'missing', redis.call('HGET', c, 'by') or ''}
  end
  redis.call('HSET', c, 'st', 'claimed', 'by', user, 'cat', now)
  act(c, now, user, 'claimed')
  ledgerFirst(c, 'tcl', minutes(c, now))
  enqueue('update', id)
  return {1}
end

if op == 'unclaim' then
  -- ARGV: id, user, manager (0/1), now-ms, sealed note. The case waits
  -- to be claimed again; its clocks were never stopped.
  local id, user, now = ARGV[3], ARGV[4], ARGV[6]
  local c = key('c:' .. id)
  local no = holder(c, user, ARGV[5], {claimed = true})
  if no then return no end
  local by = redis.call('HGET', c, 'by')
  redis.call('HSET', c, 'st', 'queued')
  redis.call('HDEL', c, 'by', 'cat')
  act(c, now, user, 'unclaimed (held by ' .. by .. ')')
  enqueue('thread', id, ARGV[7], '', user, '', by)
  enqueue('update', id)
  return {1}
end

if op == 'reassign' then
  -- ARGV: id, user, manager (0/1), to, now-ms, sealed note. The claimer
  -- passes the case on; a manager may give any open case to anyone.
  local id, user, to, now = ARGV[3], ARGV[4], ARGV[6], ARGV[7]
  local c = key('c:' .. id)
  local states = {claimed = true}
  if ARGV[5] == '1' then states.queued = true end
  local no = holder(c, user, ARGV[5], states)
  if no then return no end
  redis.call('HSET', c, 'st', 'claimed', 'by', to, 'cat', now)
  act(c, now, user, 'gave the case to ' .. to)
  ledgerFirst(c, 'tcl', minutes(c, now))
  enqueue('thread', id, ARGV[8], '', user, '', to)
  enqueue('update', id)
  return {1}
end

if op == 'contacted' then
  -- ARGV: id, user ('' when an officer's message was delivered), manager
  -- (0/1), how, now-ms, sealed note. The first contact stops the clocks;
  -- later ones are not recorded again. Returns {1} when this was the
  -- first, {2} when contact was recorded already.
  local id, user, how, now = ARGV[3], ARGV[4], ARGV[6], ARGV[7]
  local c = key('c:' .. id)
  if user ~= '' then
    local no = holder(c, user, ARGV[5], {claimed = true})
    if no then return no end
  elseif not redis.call('HGET', c, 'st') then
    return {0, 'missing', ''}
  end
  if redis.call('HEXISTS', c, 'cot') == 1 then return {2} end
  redis.call('HSET', c, 'cot', now, 'cob', user, 'coh', how)
  unschedule(id)
  act(c, now, user, 'contacted the tenant: ' .. how)
  ledgerFirst(c, 'tco', minutes(c, now))
  enqueue('thread', id, ARGV[8], '', user)
  enqueue('update', id)
  return {1}
end

if op == 'close' then
  -- ARGV: id, user, manager (0/1), outcome, discussed, now-ms, ttl-ms,
  -- sealed note. The claimer closes, or a manager.
  local id, user, now = ARGV[3], ARGV[4], ARGV[8]
  local c = key('c:' .. id)
  local no = holder(c, user, ARGV[5], {claimed = true})
  if no then return no end
  redis.call('HSET', c, 'st', 'closed', 'out', ARGV[6], 'dsc', ARGV[7], 'cby', user, 'clt', now)
  redis.call('ZREM', key('open'), id)
  unschedule(id)
  unscheduleDuties(id)
  act(c, now, user, 'closed: ' .. ARGV[6])
  ledger(c, 'out', ARGV[6], 'disc', ARGV[7])
  -- Closing discussed with the tenant is the closure duty done (seed 003).
  local raw = redis.call('HGET', key('d:' .. id), 'closure')
  if ARGV[7] == 'yes' and raw then
    local d = cjson.decode(raw)
    if not d.by then
      d.by, d.at, d.v = user, tonumber(now), 'discussed with the tenant'
      redis.call('HSET', key('d:' .. id), 'closure', cjson.encode(d))
      ledgerAdd(c, 'dok', 'closure')
    end
  end
  redis.call('PEXPIRE', c, tonumber(ARGV[9]))
  redis.call('PEXPIRE', key('d:' .. id), tonumber(ARGV[9]))
  enqueue('update', id)
  enqueue('thread', id, ARGV[10], '', user)
  export(c, id, 'closed')
  return {1}
end

if op == 'duty' then
  -- An officer did a duty. ARGV: id, user, manager (0/1), duty id, what
  -- they recorded, now-ms, sealed note, follow-up duties (JSON), repairs
  -- request (sealed, or '' for none).
  local id, user, duty, now = ARGV[3], ARGV[4], ARGV[6], tonumber(ARGV[8])
  local c = key('c:' .. id)
  local no = holder(c, user, ARGV[5], {claimed = true})
  if no then return no end
  local raw = redis.call('HGET', key('d:' .. id), duty)
  if not raw then return {0, 'noduty', ''} end
  local d = cjson.decode(raw)
  if d.by then return {0, 'done', d.by} end
  d.by, d.at, d.v = user, now, ARGV[7]
  redis.call('HSET', key('d:' .. id), duty, cjson.encode(d))
  stopDutyClocks(duty, id)
  if not d.rem then
    if not d.due or now <= tonumber(d.due) then ledgerAdd(c, 'dok', duty) else ledgerAdd(c, 'dlate', duty) end
  end
  act(c, now, user, 'did ' .. duty)
  enqueue('thread', id, ARGV[9], '', user)
  addDuties(c, id, ARGV[10])
  if ARGV[11] ~= '' then enqueue('repairs', id, ARGV[11], '', user) end
  enqueue('update', id)
  return {1}
end

if op == 'addduty' then
  -- An officer adds a duty the policy lists for them to judge (a
  -- vulnerable adult). ARGV: id, user, manager (0/1), duties (JSON),
  -- now-ms, sealed note.
  local id, user = ARGV[3], ARGV[4]
  local c = key('c:' .. id)
  local no = holder(c, user, ARGV[5], {claimed = true})
  if no then return no end
  if addDuties(c, id, ARGV[6]) == 0 then return {0, 'done', ''} end
  act(c, ARGV[7], user, 'added a duty')
  enqueue('thread', id, ARGV[8], '', user)
  enqueue('update', id)
  return {1}
end

if op == 'shown' then
  -- ARGV: id, user, now-ms, sealed note. Records that the claimer saw
  -- the contact, in the case and in its thread.
  local c = key('c:' .. ARGV[3])
  local st, by = unpack(redis.call('HMGET', c, 'st', 'by'))
  if st ~= 'claimed' or by ~= ARGV[4] then
    return {0, st or 'missing', by or ''}
  end
  local shown = redis.call('HGET', c, 'shown') or ''
  redis.call('HSET', c, 'shown', shown .. ARGV[4] .. '@' .. ARGV[5] .. ' ')
  enqueue('thread', ARGV[3], ARGV[6], '', ARGV[4])
  return {1}
end

if op == 'tenant' then
  -- The tenant wrote after the handoff. ARGV: id, sealed text, ttl-ms,
  -- score, warn-ms, due-ms, opened-ms, deadline-ms, sealed reopen note,
  -- oncall (0/1: whether a reopened case alerts on-call).
  local id = ARGV[3]
  local c = key('c:' .. id)
  local st = redis.call('HGET', c, 'st')
  if not st then return 0 end
  if redis.call('HDEL', c, 'ex') == 1 then
    -- They wrote again after texting STOP to the carrier (and START).
    enqueue('update', id)
  end
  if st ~= 'closed' then resume(c, id, ARGV[7], ARGV[8], ARGV[9]) end
  redis.call('HDEL', c, 'er')
  if st == 'closed' then
    redis.call('HSET', c, 'st', 'queued', 'ro', 1, 'op', ARGV[9], 'dl', ARGV[10])
    redis.call('HDEL', c, 'by', 'cat', 'cby', 'out', 'dsc', 'clt', 'cot', 'cob', 'coh')
    schedule(id, ARGV[6], ARGV[7], ARGV[8])
    rescheduleDuties(id, ARGV[9])
    enqueue('thread', id, ARGV[11], '')
    enqueue('update', id)
    if ARGV[12] == '1' then
      redis.call('HSET', c, 'oc', 1)
      enqueue('alert', id, '', 'oncall')
    end
    export(c, id, 'reopened')
  end
  redis.call('PEXPIRE', c, tonumber(ARGV[5]))
  if redis.call('EXISTS', key('d:' .. id)) == 1 then redis.call('PEXPIRE', key('d:' .. id), tonumber(ARGV[5])) end
  enqueue('thread', id, ARGV[4], '', '', '1')
  return 1
end

if op == 'exited' then
  -- ARGV: id, sealed note.
  local id = ARGV[3]
  local c = key('c:' .. id)
  if redis.call('EXISTS', c) == 0 then return 0 end
  redis.call('HSET', c, 'ex', 1)
  ledger(c, 'left', 1)
  enqueue('update', id)
  enqueue('thread', id, ARGV[4], '')
  return 1
end

if op == 'erase' then
  -- The tenant asked for their words to be erased. ARGV: id, sealed
  -- summary with the answers removed and no address, sealed note, export
  -- (0/1), now in seconds (an expired case's export version). The
  -- case stays for the officers, without the tenant's words: the thread
  -- lines that held them are redacted, and lines not yet posted are
  -- dropped. The ledger entry, which holds no words, stays.
  local id = ARGV[3]
  local c = key('c:' .. id)
  if redis.call('EXISTS', c) == 0 then
    -- The case has expired, but Slack keeps its messages, and the housing
    -- system its record: both are erased all the same. The export's
    -- version is the time, above any the case had.
    local n = 0
    if redis.call('EXISTS', key('tl:' .. id)) == 1 then
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
  for _, n in ipairs(redis.call('ZRANGE', key('jobs'), 0, -1)) do
    local j = key('job:' .. n)
    local jc, jw = unpack(redis.call('HMGET', j, 'c', 'w'))
    if jc == id and jw == '1' then
      redis.call('DEL', j)
      redis.call('ZREM', key('jobs'), n)
    end
  end
  redis.call('HSET', c, 'sec', ARGV[4], 'ex', 1, 'er', 1)
  ledger(c, 'left', 1)
  enqueue('redact', id)
  enqueue('update', id)
  enqueue('thread', id, ARGV[5], '')
  export(c, id, 'erased')
  return 1
end

if op == 'raise' then
  -- ARGV: id, priority, score, oncall (0/1), sealed note, now-ms, danger
  -- (1 when the tenant wrote words of danger: on-call is told again if it
  -- was last told realert-ms ago or more), realert-ms.
  local id, pr = ARGV[3], tonumber(ARGV[4])
  local c = key('c:' .. id)
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
end

if op == 'summary' then
  -- What the tenant answered since an early case opened. ARGV: id,
  -- sealed summary and address, area, duties (JSON). The card is redrawn.
  local id = ARGV[3]
  local c = key('c:' .. id)
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
end

if op == 'note' then
  -- ARGV: id, sealed text, officer named ('' for none). A line in the
  -- case's thread, if there is one.
  if redis.call('EXISTS', key('c:' .. ARGV[3])) == 0 then return 0 end
  enqueue('thread', ARGV[3], ARGV[4], '', ARGV[5])
  return 1
end

if op == 'retry' then
  -- A failed attempt. ARGV: job number, attempts, next-attempt-ms, case
  -- id, alert kind to raise with it ('' for none).
  local j = key('job:' .. ARGV[3])
  if redis.call('EXISTS', j) == 0 then return 0 end
  redis.call('HSET', j, 'n', ARGV[4], 'at', ARGV[5])
  if ARGV[7] ~= '' then enqueue('alert', ARGV[6], '', ARGV[7]) end
  return 1
end

if op == 'fire' then
  -- ARGV: now-ms. Turns due timers into alerts: a case not yet contacted
  -- at three quarters of its time (its claimer is reminded; the managers
  -- are told when nobody holds it) and at its deadline (the managers); a
  -- duty not done at three quarters of its time (the claimer) and when
  -- due (the managers). Each redraws the card.
  local due = redis.call('ZRANGEBYSCORE', key('timers'), '-inf', ARGV[3], 'LIMIT', 0, 100)
  local n = 0
  for _, m in ipairs(due) do
    redis.call('ZREM', key('timers'), m)
    local kind, rest = string.match(m, '^(%a+)|(.+)$')
    local duty, id = nil, rest
    if kind == 'dwarn' or kind == 'ddue' then duty, id = string.match(rest, '^([^|]+)|(.+)$') end
    local c = key('c:' .. id)
    local st, cot = unpack(redis.call('HMGET', c, 'st', 'cot'))
    if st == 'queued' or st == 'claimed' then
      if duty then
        local raw = redis.call('HGET', key('d:' .. id), duty)
        if raw and not cjson.decode(raw).by then
          enqueue('alert', id, '', kind, '', '', '', duty)
          enqueue('update', id)
          n = n + 1
        end
      elseif not cot then
        if kind == 'warn' and st == 'claimed' then kind = 'remind' end
        enqueue('alert', id, '', kind)
        -- The card redraws, to show the time now left or overdue.
        enqueue('update', id)
        n = n + 1
      end
    end
  end
  return n
end

if op == 'done' then
  -- A job is finished. ARGV: job number, case id, posted message's
  -- channel and ts, ttl-ms, kind, refs-ttl-ms. A posted card's place is
  -- recorded with the case; a card, and a line of the tenant's words, is
  -- listed (as channel|ts, no words) so that DELETE can redact it, for
  -- as long as Slack may keep it (the ledger's time).
  local j = key('job:' .. ARGV[3])
  local tenant = redis.call('HGET', j, 'w')
  redis.call('ZREM', key('jobs'), ARGV[3])
  redis.call('DEL', j)
  if ARGV[6] ~= '' then
    local c = key('c:' .. ARGV[4])
    if ARGV[8] == 'card' then
      if redis.call('EXISTS', c) == 1 then
        redis.call('HSET', c, 'cc', ARGV[5], 'cts', ARGV[6])
      end
      redis.call('SET', key('card:' .. ARGV[6]), ARGV[4], 'PX', tonumber(ARGV[7]))
    end
    if ARGV[8] == 'card' or tenant == '1' then
      redis.call('RPUSH', key('tl:' .. ARGV[4]), ARGV[5] .. '|' .. ARGV[6])
      redis.call('PEXPIRE', key('tl:' .. ARGV[4]), tonumber(ARGV[9]))
    end
  end
  return 1
end

if op == 'stats' then
  -- Returns the number of jobs waiting, then state, priority, opened-ms
  -- and the contact deadline (ms, or '' once contacted) of each open
  -- case.
  local out = {redis.call('ZCARD', key('jobs'))}
  for _, id in ipairs(redis.call('ZRANGE', key('open'), 0, -1)) do
    local st, pr, opened, dl, cot = unpack(redis.call('HMGET', key('c:' .. id), 'st', 'pr', 'op', 'dl', 'cot'))
    if not st then
      -- The case expired while open: it leaves the queue too.
      redis.call('ZREM', key('open'), id)
    else
      table.insert(out, st)
      table.insert(out, pr)
      table.insert(out, opened)
      if cot then table.insert(out, '') else table.insert(out, dl or '') end
    end
  end
  return out
end

if op == 'prune' then
  -- ARGV: the most to remove. Removes ledger entries whose time to live
  -- has run out (on Redis's clock). Returns how many.
  local gone = redis.call('ZRANGEBYSCORE', key('{queue}:ledger:expiry'), '-inf', nowMS(), 'LIMIT', 0, tonumber(ARGV[3]))
  for _, lid in ipairs(gone) do
    redis.call('HDEL', key('{queue}:ledger:entries'), lid)
    redis.call('ZREM', key('{queue}:ledger'), lid)
    redis.call('ZREM', key('{queue}:ledger:expiry'), lid)
  end
  return #gone
end

if op == 'lease' then
  -- ARGV: owner, lease-ms. Takes the lease if nobody holds it, or renews
  -- it for its holder; 1 if this owner holds it now. Expiry is Redis's own
  -- clock, so processes whose clocks differ cannot both hold it.
  local cur = redis.call('GET', key('lease'))
  if cur and cur ~= ARGV[3] then return 0 end
  redis.call('SET', key('lease'), ARGV[3], 'PX', tonumber(ARGV[4]))
  return 1
end

if op == 'release' then
  -- ARGV: owner. Gives up the lease if this owner holds it.
  if redis.call('GET', key('lease')) == ARGV[3] then redis.call('DEL', key('lease')) end
  return 1
end

return redis.error_reply('queue: unknown operation ' .. tostring(op))
