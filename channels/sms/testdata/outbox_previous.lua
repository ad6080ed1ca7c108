-- The outbox's script before its keys shared one hash tag (kept to test
-- that texts it left waiting are moved: outbox_legacy_test.go).
--
-- The outbox's atomic steps. Keys are passed by the caller; all live under
-- one prefix. A conversation's messages go out one at a time, in the order
-- they were queued: the "ready" sorted set holds each conversation with
-- queued messages, scored by when its first message may next be tried.
--
-- Message hash fields: c (conversation id), p (sealed payload),
-- s (state: queued, sending, sent, failed, cancelled, uncertain),
-- n (attempts), sid (Twilio's message SID), st (delivery status).

local op = ARGV[1]

if op == 'enqueue' then
  -- KEYS: msg, conv list, ready. ARGV: op, conv id, payload, now ms, ttl ms, msg id
  if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
  redis.call('HSET', KEYS[1], 'c', ARGV[2], 'p', ARGV[3], 's', 'queued', 'n', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  redis.call('RPUSH', KEYS[2], ARGV[6])
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[2])
  return 1
end

if op == 'claim' then
  -- KEYS: ready. ARGV: op, now ms, lease ms, prefix
  -- Returns {conv, msg id, state, payload, attempts} of the first message
  -- of the first due conversation, leased to the caller, or false.
  local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2], 'LIMIT', 0, 1)
  if #due == 0 then return false end
  local conv = due[1]
  local list = ARGV[4] .. 'conv:{' .. conv .. '}'
  local id = redis.call('LINDEX', list, 0)
  if not id then
    redis.call('ZREM', KEYS[1], conv)
    return false
  end
  local msg = ARGV[4] .. 'msg:' .. id
  local f = redis.call('HMGET', msg, 's', 'p', 'n')
  if not f[1] then
    -- Expired: drop it and look again next time.
    redis.call('LPOP', list)
    return false
  end
  redis.call('ZADD', KEYS[1], tonumber(ARGV[2]) + tonumber(ARGV[3]), conv)
  local state = f[1]
  if state == 'queued' then
    redis.call('HSET', msg, 's', 'sending')
  end
  redis.call('HINCRBY', msg, 'n', 1)
  return {conv, id, state, f[2], tonumber(f[3]) + 1}
end

if op == 'finish' then
  -- KEYS: msg, conv list, ready. ARGV: op, conv id, msg id, state, sid, now ms
  -- The message leaves the queue with its final state; the next one of
  -- the conversation becomes due at once.
  redis.call('HSET', KEYS[1], 's', ARGV[4])
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'sid', ARGV[5]) end
  if redis.call('LINDEX', KEYS[2], 0) == ARGV[3] then redis.call('LPOP', KEYS[2]) end
  if redis.call('LLEN', KEYS[2]) > 0 then
    redis.call('ZADD', KEYS[3], ARGV[6], ARGV[2])
  else
    redis.call('ZREM', KEYS[3], ARGV[2])
  end
  return 1
end

if op == 'retry' then
  -- KEYS: msg, ready. ARGV: op, conv id, at ms, state (queued, or sending
  -- when the attempt's outcome is unknown)
  redis.call('HSET', KEYS[1], 's', ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
  return 1
end

if op == 'cancel' then
  -- KEYS: conv list, ready. ARGV: op, conv id, prefix
  local ids = redis.call('LRANGE', KEYS[1], 0, -1)
  for _, id in ipairs(ids) do
    redis.call('HSET', ARGV[3] .. 'msg:' .. id, 's', 'cancelled', 'p', '')
  end
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
  return #ids
end

return redis.error_reply('outbox: unknown operation ' .. op)
