-- The officer queue's state changes, each atomic. ARGV[1] names the
-- operation, ARGV[2] is the key prefix; the rest depend on the operation.
--
-- Keys under the prefix:
--   c:<id>      hash, one case (fields below)
--   open        zset of open (queued or claimed) case ids, by priority then age
--   timers      zset of "warn|<id>" and "due|<id>", by when they fire (ms)
--   jobs        zset of job numbers, in order
--   job:<n>     hash, one job: k kind, c case id, t sealed text, a alert
--   seq         the last job number
--   card:<ts>   the case id of the card posted at Slack timestamp ts
--   lease       the owner of the lease to run the clocks and jobs (expires)
--   evpos       the id of the last event taken from the store's event log
--
-- Case fields: st state, pr priority (0-2), ar area, ch channel, lg language,
-- rs reason, op opened (ms), dl deadline (ms), sec sealed summary and
-- address, by claimer, cat claimed at, cby closed by, out outcome, clt closed
-- at, ex 1 once the tenant ended the chat, ro 1 once reopened, oc 1 once
-- on-call was alerted, oat when on-call was last alerted (ms), cc/cts the
-- card's channel and timestamp, shown the officers who were shown the
-- contact.

local op, prefix = ARGV[1], ARGV[2]

local function key(s) return prefix .. s end

-- The operations that apply a tenant's event take the event's id in the
-- store's event log as their last argument ('' when it came directly).
-- An event at or before the position reached is not applied again, and
-- the position moves with the change itself: each event counts once.
local function streamID(s)
  local ms, seq = string.match(s, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end

if op == 'open' or op == 'tenant' or op == 'exited' or op == 'raise' or op == 'summary' or op == 'skip' then
  local evid = ARGV[#ARGV]
  if evid ~= '' then
    local ms, seq = streamID(evid)
    if not ms then return redis.error_reply('queue: bad event id ' .. evid) end
    local pos = redis.call('GET', key('evpos'))
    if pos then
      local pms, pseq = streamID(pos)
      if ms < pms or (ms == pms and seq <= pseq) then return 'seen' end
    end
    redis.call('SET', key('evpos'), evid)
  end
  -- skip: an event that cannot be read is passed over, once.
  if op == 'skip' then return 1 end
end

-- enqueue adds a job. A thread line's text is sealed; who is the officer
-- it names ({officer} in the text), tenant is '1' when the text is the
-- tenant's own words.
local function enqueue(kind, id, text, alert, who, tenant)
  local n = redis.call('INCR', key('seq'))
  redis.call('HSET', key('job:' .. n), 'k', kind, 'c', id, 't', text or '', 'a', alert or '',
    'o', who or '', 'w', tenant or '')
  redis.call('ZADD', key('jobs'), n, n)
end

local function unschedule(id)
  redis.call('ZREM', key('timers'), 'warn|' .. id, 'due|' .. id)
end

-- schedule sets the case's escalation timers and its place in the queue.
local function schedule(id, score, warn, due)
  redis.call('ZADD', key('open'), score, id)
  redis.call('ZADD', key('timers'), warn, 'warn|' .. id, due, 'due|' .. id)
end

if op == 'open' then
  -- A handoff. ARGV: id, ttl-ms, priority, score, warn-ms, due-ms, oncall
  -- (0/1), sealed, area, channel, lang, reason, opened-ms, deadline-ms,
  -- sealed text for the thread when the case is open already, now-ms.
  local id, ttl = ARGV[3], tonumber(ARGV[4])
  local pr, score, warn, due, oncall = tonumber(ARGV[5]), ARGV[6], ARGV[7], ARGV[8], ARGV[9]
  local c = key('c:' .. id)
  local st = redis.call('HGET', c, 'st')
  if st == 'queued' or st == 'claimed' then
    -- The tenant went through the questions again while the case is open:
    -- they came back after any quick exit, too.
    redis.call('HSET', c, 'sec', ARGV[10], 'rs', ARGV[14])
    if ARGV[11] ~= '' then redis.call('HSET', c, 'ar', ARGV[11]) end
    redis.call('HDEL', c, 'ex')
    local old = tonumber(redis.call('HGET', c, 'pr'))
    if pr > old then
      redis.call('HSET', c, 'pr', pr)
      if st == 'queued' then redis.call('ZADD', key('open'), score, id) end
    end
    if oncall == '1' and redis.call('HGET', c, 'oc') ~= '1' then
      redis.call('HSET', c, 'oc', 1, 'oat', ARGV[18])
      enqueue('alert', id, '', 'oncall')
    end
    enqueue('thread', id, ARGV[17], '', '', '1')
    enqueue('update', id)
    redis.call('PEXPIRE', c, ttl)
    return 'update'
  end
  local result = 'new'
  if st then result = 'reopen' end
  -- Who saw the tenant's contact is kept across a reopening.
  local shown = redis.call('HGET', c, 'shown')
  redis.call('DEL', c)
  if shown then redis.call('HSET', c, 'shown', shown) end
  redis.call('HSET', c, 'st', 'queued', 'pr', pr, 'sec', ARGV[10], 'ar', ARGV[11], 'ch', ARGV[12],
    'lg', ARGV[13], 'rs', ARGV[14], 'op', ARGV[15], 'dl', ARGV[16], 'oc', oncall)
  if oncall == '1' then redis.call('HSET', c, 'oat', ARGV[18]) end
  if st then redis.call('HSET', c, 'ro', 1) end
  redis.call('PEXPIRE', c, ttl)
  schedule(id, score, warn, due)
  enqueue('card', id)
  if oncall == '1' then enqueue('alert', id, '', 'oncall') end
  return result
end

if op == 'claim' then
  -- ARGV: id, user, now-ms. Returns {1} to the winner, {0, state, claimer}
  -- to anyone else.
  local id, user = ARGV[3], ARGV[4]
  local c = key('c:' .. id)
  local st = redis.call('HGET', c, 'st')
  if st ~= 'queued' then
    return {0, st or 'missing', redis.call('HGET', c, 'by') or ''}
  end
  redis.call('HSET', c, 'st', 'claimed', 'by', user, 'cat', ARGV[5])
  unschedule(id)
  enqueue('update', id)
  return {1}
end

if op == 'close' then
  -- ARGV: id, user, outcome, now-ms, ttl-ms. Only the claimer closes.
  local id, user = ARGV[3], ARGV[4]
  local c = key('c:' .. id)
  local st, by = unpack(redis.call('HMGET', c, 'st', 'by'))
  if st ~= 'claimed' or by ~= user then
    return {0, st or 'missing', by or ''}
  end
  redis.call('HSET', c, 'st', 'closed', 'out', ARGV[5], 'cby', user, 'clt', ARGV[6])
  redis.call('ZREM', key('open'), id)
  unschedule(id)
  redis.call('PEXPIRE', c, tonumber(ARGV[7]))
  enqueue('update', id)
  enqueue('thread', id, ARGV[8], '', user)
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
  if st == 'closed' then
    redis.call('HSET', c, 'st', 'queued', 'ro', 1, 'op', ARGV[9], 'dl', ARGV[10])
    redis.call('HDEL', c, 'by', 'cat', 'cby', 'out', 'clt')
    schedule(id, ARGV[6], ARGV[7], ARGV[8])
    enqueue('thread', id, ARGV[11], '')
    enqueue('update', id)
    if ARGV[12] == '1' then
      redis.call('HSET', c, 'oc', 1)
      enqueue('alert', id, '', 'oncall')
    end
  end
  redis.call('PEXPIRE', c, tonumber(ARGV[5]))
  enqueue('thread', id, ARGV[4], '', '', '1')
  return 1
end

if op == 'exited' then
  -- ARGV: id, sealed note.
  local id = ARGV[3]
  local c = key('c:' .. id)
  if redis.call('EXISTS', c) == 0 then return 0 end
  redis.call('HSET', c, 'ex', 1)
  enqueue('update', id)
  enqueue('thread', id, ARGV[4], '')
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
  -- sealed summary and address, area. The card is redrawn.
  local id = ARGV[3]
  local c = key('c:' .. id)
  local st = redis.call('HGET', c, 'st')
  if st ~= 'queued' and st ~= 'claimed' then return 0 end
  redis.call('HSET', c, 'sec', ARGV[4])
  if ARGV[5] ~= '' then redis.call('HSET', c, 'ar', ARGV[5]) end
  enqueue('update', id)
  return 1
end

if op == 'note' then
  -- ARGV: id, sealed text. A line in the case's thread, if there is one.
  if redis.call('EXISTS', key('c:' .. ARGV[3])) == 0 then return 0 end
  enqueue('thread', ARGV[3], ARGV[4], '')
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
  -- ARGV: now-ms. Turns due timers of unclaimed cases into alerts.
  local due = redis.call('ZRANGEBYSCORE', key('timers'), '-inf', ARGV[3], 'LIMIT', 0, 100)
  local n = 0
  for _, m in ipairs(due) do
    redis.call('ZREM', key('timers'), m)
    local kind, id = string.match(m, '^(%a+)|(.+)$')
    if redis.call('HGET', key('c:' .. id), 'st') == 'queued' then
      enqueue('alert', id, '', kind)
      n = n + 1
    end
  end
  return n
end

if op == 'done' then
  -- A job is finished. ARGV: job number, case id, card channel, card ts,
  -- ttl-ms. A posted card's place is recorded with the case.
  redis.call('ZREM', key('jobs'), ARGV[3])
  redis.call('DEL', key('job:' .. ARGV[3]))
  if ARGV[6] ~= '' then
    local c = key('c:' .. ARGV[4])
    if redis.call('EXISTS', c) == 1 then
      redis.call('HSET', c, 'cc', ARGV[5], 'cts', ARGV[6])
    end
    redis.call('SET', key('card:' .. ARGV[6]), ARGV[4], 'PX', tonumber(ARGV[7]))
  end
  return 1
end

if op == 'stats' then
  -- Returns the number of jobs waiting, then state, priority and opened-ms
  -- of each open case.
  local out = {redis.call('ZCARD', key('jobs'))}
  for _, id in ipairs(redis.call('ZRANGE', key('open'), 0, -1)) do
    local st, pr, opened = unpack(redis.call('HMGET', key('c:' .. id), 'st', 'pr', 'op'))
    if not st then
      -- The case expired while open: it leaves the queue too.
      redis.call('ZREM', key('open'), id)
    else
      table.insert(out, st)
      table.insert(out, pr)
      table.insert(out, opened)
    end
  end
  return out
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
