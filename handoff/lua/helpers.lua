-- The officer queue's shared helpers, prepended to every script of the
-- queue when it is loaded (handoff/script.go). A script names its KEYS in
-- order with bind(), and the helpers reach a key by that name with key():
-- no key is built here, and a helper whose key the script did not declare
-- fails rather than reach for it.
--
-- Key names (their Redis keys are listed in handoff/keys.go): case,
-- duties, refs, pos, card (one conversation's or card's); open, timers,
-- jobs, job, dead, seq, lease (the queue's); ledger, entries, expiry (the
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

-- nowMS is Redis's clock, in ms: ledger entries expire by it, as keys
-- with a TTL do.
local function nowMS()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The jobs' classes, in the order the worker does them: on-call and
-- other alerts (1); urgent cases' cards and card updates (2); other
-- cards and updates, redactions, repairs requests and exports (3);
-- urgent cases' thread lines (4); other thread lines (5). A job's score
-- in jobs is its class times classSpan plus its number, so that the jobs
-- of one class keep the order they were queued in; a score below
-- classSpan is a job queued before there were classes, which the worker
-- gives its class (rescore.lua). A case's thread lines keep their order:
-- when it becomes urgent, those waiting move up with it (promote), and
-- when it opens again at a lower priority, those waiting stay ahead.
-- classSpan, urgent, mergeAfter, maxLinePosts and maxPostText come from
-- the queue (handoff/script.go), put before these helpers.

-- jobClass is the class of a job of the kind; for a card, an update or
-- a thread line it reads the case's priority (key case) when the script
-- binds it.
local function jobClass(kind)
  if kind == 'alert' then return 1 end
  local c = K['case']
  local isUrgent = c and redis.call('HGET', c, 'pr') == urgent
  if kind == 'thread' then
    if isUrgent then return 4 end
    return 5
  end
  if (kind == 'card' or kind == 'update') and isUrgent then return 2 end
  return 3
end

local function jobScore(class, n) return class * classSpan + tonumber(n) end

-- waitingJob returns a job that is still waiting (in jobs), decoded, or
-- nil.
local function waitingJob(n)
  if not n or not redis.call('ZSCORE', key('jobs'), n) then return nil end
  local raw = redis.call('HGET', key('job'), n)
  if not raw then return nil end
  return cjson.decode(raw)
end

-- promote moves the case's waiting card, card update and thread lines
-- (c: the case's key) to the urgent cases' classes: none of them goes
-- behind other cases' work, and none before its card.
local function promote(c)
  local card, update, lines = unpack(redis.call('HMGET', c, 'cj', 'uj', 'tq'))
  for _, n in ipairs({card or '', update or ''}) do
    if n ~= '' then redis.call('ZADD', key('jobs'), 'XX', jobScore(2, n), n) end
  end
  for n in string.gmatch(lines or '', '%d+') do
    redis.call('ZADD', key('jobs'), 'XX', jobScore(4, n), n)
  end
end

-- linePosts returns the numbers of the case's posts of thread lines
-- still waiting (c: the case's key; its field tq), oldest first.
local function linePosts(c)
  local waiting = {}
  for n in string.gmatch(redis.call('HGET', c, 'tq') or '', '%d+') do
    if redis.call('ZSCORE', key('jobs'), n) then waiting[#waiting + 1] = n end
  end
  return waiting
end

-- A coalesced thread line's post holds several lines, each sealed on its
-- own (the first in t, the rest in s), with one flag a line in sw ('1'
-- the tenant's words, '0' a note); w is '1' when any line is the
-- tenant's. m lines were left out after the first mi.

-- lines returns a job's sealed lines and their flags.
local function lines(j)
  local ls = {j.t}
  for _, l in ipairs(j.s or {}) do ls[#ls + 1] = l end
  local flags = j.sw
  if not flags or #flags ~= #ls then
    local f = '0'
    if j.w == '1' then f = '1' end
    flags = string.rep(f, #ls)
  end
  return ls, flags
end

-- setLines stores the lines and their flags in the job.
local function setLines(j, ls, flags)
  j.t = ls[1] or ''
  local rest = {}
  for i = 2, #ls do rest[#rest + 1] = ls[i] end
  if #rest > 0 then j.s = rest else j.s = nil end
  if #ls > 1 then j.sw = flags else j.sw = nil end
  if string.find(flags, '1', 1, true) then j.w = '1' else j.w = '' end
end

-- size is the bytes of the first upto lines (all when nil).
local function size(ls, upto)
  local n = 0
  for i = 1, upto or #ls do n = n + #ls[i] end
  return n
end

-- leaveOut drops the line at i, counting it among those left out.
local function leaveOut(j, ls, flags, i)
  table.remove(ls, i)
  j.m = tostring((tonumber(j.m) or 0) + 1)
  return string.sub(flags, 1, i - 1) .. string.sub(flags, i + 1)
end

-- coalesce adds a thread line that names no officer (n: the new job,
-- decoded) to the case's last waiting post, when the case already has
-- mergeAfter posts of thread lines waiting (field tq of the case c: their
-- numbers, oldest first). The last post takes it while it has room
-- (maxPostText bytes of sealed lines); a full one leaves room for a new
-- post, up to maxLinePosts; past that the last post keeps its first
-- lines (up to half its room) and its newest, and counts those it
-- leaves out between. A post tried once is never added to: an answer
-- Slack lost may have posted it as it was. Returns true when the line
-- was added, else false and the waiting posts' numbers.
local function coalesce(c, n)
  local waiting = linePosts(c)
  if #waiting < mergeAfter then return false, waiting end
  local last = waitingJob(waiting[#waiting])
  if not last or last.k ~= 'thread' or last.f or (last.o or '') ~= '' or (last.o2 or '') ~= '' then
    return false, waiting
  end
  local ls, flags = lines(last)
  local flag = '0'
  if n.w == '1' then flag = '1' end
  local fits = (tonumber(last.m) or 0) == 0 and size(ls) + #n.t <= maxPostText
  if not fits and #waiting < maxLinePosts then return false, waiting end
  ls[#ls + 1] = n.t
  flags = flags .. flag
  if not fits then
    if not last.mi then
      -- Left out from here on: the post keeps its first lines, up to
      -- half its room (and its first line whatever its size).
      local head = #ls - 1
      while head > 1 and size(ls, head) > maxPostText / 2 do
        flags = leaveOut(last, ls, flags, head)
        head = head - 1
      end
      last.mi = tostring(head)
    end
    local head = tonumber(last.mi)
    while size(ls) > maxPostText and #ls > head + 1 do
      flags = leaveOut(last, ls, flags, head + 1)
    end
    if size(ls) > maxPostText and #ls > 1 then
      -- No room even for the newest line alone.
      flags = leaveOut(last, ls, flags, #ls)
    end
  end
  setLines(last, ls, flags)
  redis.call('HSET', key('job'), waiting[#waiting], cjson.encode(last))
  return true
end

-- enqueue adds a job for the board (keys seq, job, jobs): the next
-- number from seq, its fields in job (a hash, number -> JSON), its place
-- in jobs (a sorted set, by class then number). A thread line's text is
-- sealed; who and who2 are the officers it names ({officer} and
-- {officer2} in the text), tenant is '1' when the text is the tenant's
-- own words, extra the duty an alert is about or an export's event and
-- version. With the case's key bound (case), a card update is queued
-- only when none waits untried (it draws the case as it is when posted),
-- and a thread line naming no officer may join the last waiting post
-- (coalesce). The case keeps the numbers of its card (cj), its update
-- (uj) and its posts of thread lines (tq).
local function enqueue(kind, id, text, alert, who, tenant, who2, extra)
  local j = {
    k = kind, c = id, t = text or '', a = alert or '', o = who or '',
    w = tenant or '', o2 = who2 or '', x = extra or ''}
  local class = jobClass(kind)
  local c = K['case']
  local waiting
  if c then
    if class == 2 then promote(c) end
    if kind == 'update' then
      local u = redis.call('HGET', c, 'uj')
      local pending = waitingJob(u)
      if pending and not pending.f then
        redis.call('ZADD', key('jobs'), 'XX', jobScore(class, u), u)
        return
      end
    elseif kind == 'thread' and j.o == '' and j.o2 == '' then
      local added
      added, waiting = coalesce(c, j)
      if added then return end
    end
  end
  local n = redis.call('INCR', key('seq'))
  j.q = tostring(nowMS())
  redis.call('HSET', key('job'), n, cjson.encode(j))
  redis.call('ZADD', key('jobs'), jobScore(class, n), n)
  if not c then return end
  if kind == 'card' then
    redis.call('HSET', c, 'cj', n)
  elseif kind == 'update' then
    redis.call('HSET', c, 'uj', n)
  elseif kind == 'thread' then
    waiting = waiting or linePosts(c)
    waiting[#waiting + 1] = tostring(n)
    redis.call('HSET', c, 'tq', table.concat(waiting, ','))
  end
end

-- export queues the case's record for the housing system, when that is
-- configured; each delivery has the next version.
local function export(c, id, event)
  if redis.call('HGET', c, 'xp') ~= '1' then return end
  local v = redis.call('HINCRBY', c, 'xv', 1)
  enqueue('export', id, '', '', '', '', '', event .. '|' .. v)
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

