-- Moves a conversation's waiting texts from the outbox's previous key
-- layout (before its keys shared one hash tag) to the current one, on the
-- single Redis that layout ran on. A process of the previous version may
-- still be running during a rolling upgrade: a conversation one of its
-- workers holds (scored in the future) is left to it, and one whose list
-- changed since the caller read it is left for the next pass.
--
-- KEYS[1]  the previous schedule, <prefix>ready
-- KEYS[2]  the previous list, <prefix>conv:{<conversation id>}
-- KEYS[3]  the schedule (ready)
-- KEYS[4]  the conversation's list of waiting message ids
-- KEYS[5…] for each id in ARGV[4…], in turn: its previous message hash,
--          <prefix>msg:<id>, then its current one
-- ARGV[1]  the conversation id
-- ARGV[2]  now, Unix ms
-- ARGV[3]  how long the list is kept, ms
-- ARGV[4…] the ids the caller read from the previous list
--
-- Each waiting text keeps its id, sealed payload, state and attempts (a
-- text 'sending' is looked up before it is sent again) and its TTL, and
-- goes after any text of the conversation queued since in the current
-- layout. Its previous hash stays until it expires, with state 'moved'
-- and its payload erased, so that the previous version does not queue it
-- again. Returns how many moved, or -1 when the conversation was left.

local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if due and tonumber(due) > tonumber(ARGV[2]) then return -1 end
local ids = redis.call('LRANGE', KEYS[2], 0, -1)
if #ids ~= #ARGV - 3 then return -1 end
for i, id in ipairs(ids) do
  if id ~= ARGV[i + 3] then return -1 end
end

local moved = 0
for i, id in ipairs(ids) do
  local old, new = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local f = redis.call('HMGET', old, 'c', 'p', 's', 'n', 'late')
  local waiting = f[3] == 'queued' or f[3] == 'sending'
  if waiting and f[1] == ARGV[1] and redis.call('EXISTS', new) == 0 then
    local unsure = 0
    if f[3] == 'sending' then unsure = 1 end
    redis.call('HSET', new, 'c', f[1], 'p', f[2], 's', f[3], 'n', f[4] or 0, 'u', unsure)
    if f[5] then redis.call('HSET', new, 'late', f[5]) end
    local ttl = redis.call('PTTL', old)
    if ttl <= 0 then ttl = tonumber(ARGV[3]) end
    redis.call('PEXPIRE', new, ttl)
    redis.call('RPUSH', KEYS[4], id)
    moved = moved + 1
  end
  if f[1] then redis.call('HSET', old, 's', 'moved', 'p', '') end
end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
if moved > 0 then
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
  redis.call('ZADD', KEYS[3], 'NX', ARGV[2], ARGV[1])
end
return moved
