-- The officer queue's shared helpers, prepended to every script of the
-- queue when it is loaded (handoff/script.go). A script names its KEYS in
-- order with bind(), and the helpers reach a key by that name with key():
-- no key is built here, and a helper whose key the script did not declare
-- fails rather than reach for it.
--
-- Key names (their Redis keys are listed in handoff/keys.go): case,
-- duties, refs, pos, card (one conversation's or card's); open, timers,
-- jobs, job, seq, lease (the queue's); ledger, entries, expiry (the
-- ledger's).

local K = {}

-- bind names the script's KEYS, in order.
local function bind(...)
  local names = {...}
  if #names ~= #KEYS then
    error('queue: ' .. #KEYS .. ' keys given for ' .. #names .. ' declared')
  end
  for i, name in ipairs(names) do K[name] = KEYS[i] end
end

-- key returns the key the script bound to name.
local function key(name)
  local k = K[name]
  if not k then error('queue: the script declares no key ' .. name) end
  return k
end

-- streamID splits an event id ("ms-seq").
local function streamID(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

-- seen is true when the event (its id in the store's log; '' when it came
-- directly) was applied already. Otherwise it records the event as the
-- conversation's position (key pos, kept ttl ms): the position moves
-- with the change itself, so each event counts once. Ids order one
-- conversation's events only, so each conversation has its own position.
local function seen(evid, ttl)
  if evid == '' then return false end
  local ms, seq = streamID(evid)
  if not ms then error('queue: bad event id ' .. evid) end
  local pos = redis.call('GET', key('pos'))
  if pos then
    local pms, pseq = streamID(pos)
    if pms and (ms < pms or (ms == pms and seq <= pseq)) then return true end
  end
  redis.call('SET', key('pos'), evid, 'PX', tonumber(ttl))
  return false
end

-- enqueue adds a job for the board (keys seq, job, jobs): the next
-- number from seq, its fields in job (a hash, number -> JSON), its place
-- in jobs (a sorted set, by number). A thread line's text is sealed;
-- who and who2 are the officers it names ({officer} and {officer2} in
-- the text), tenant is '1' when the text is the tenant's own words,
-- extra the duty an alert is about or an export's event and version.
local function enqueue(kind, id, text, alert, who, tenant, who2, extra)
  local n = redis.call('INCR', key('seq'))
  redis.call('HSET', key('job'), n, cjson.encode({
    k = kind, c = id, t = text or '', a = alert or '', o = who or '',
    w = tenant or '', o2 = who2 or '', x = extra or ''}))
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
-- and the entry (keys entries), decoded; nothing when the case has no
-- ledger id.
local function ledgerOf(c)
  local lid, ttl = unpack(redis.call('HMGET', c, 'lid', 'lttl'))
  if not lid or lid == '' then return nil end
  local raw = redis.call('HGET', key('entries'), lid)
  local e = {}
  if raw then e = cjson.decode(raw) end
  return lid, tonumber(ttl), e
end

-- ledgerSave stores the entry and keeps it ttl ms from now (keys
-- entries, expiry).
local function ledgerSave(lid, ttl, e)
  redis.call('HSET', key('entries'), lid, cjson.encode(e))
  if ttl then redis.call('ZADD', key('expiry'), nowMS() + ttl, lid) end
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

-- The timers (key timers) are named "warn|<id>" and "due|<id>" (the
-- contact deadline), "dwarn|<duty>|<id>" and "ddue|<duty>|<id>" (a
-- duty's), scored by when they fire (ms).

local function unschedule(id)
  redis.call('ZREM', key('timers'), 'warn|' .. id, 'due|' .. id)
end

-- contactClocks sets the case's contact clocks: at three quarters of
-- its time, and at its deadline.
local function contactClocks(id, warn, due)
  redis.call('ZADD', key('timers'), warn, 'warn|' .. id, due, 'due|' .. id)
end

-- schedule sets the case's contact clocks and its place in the queue
-- (key open).
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
-- the case does not have yet (key duties), and starts their clocks. The
-- ledger counts each duty triggered. Returns how many were added.
local function addDuties(c, id, list)
  local added = 0
  for _, d in ipairs(cjson.decode(list)) do
    if redis.call('HSETNX', key('duties'), d.id, cjson.encode(d)) == 1 then
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
  for _, raw in ipairs(redis.call('HVALS', key('duties'))) do
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
  for _, d in ipairs(redis.call('HKEYS', key('duties'))) do stopDutyClocks(d, id) end
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

