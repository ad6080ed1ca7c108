-- Applies one turn of a conversation if nobody else has since it was read
-- and its message was not applied before. Every key is the
-- conversation's own, on one cluster slot.
--
-- KEYS[1]  the conversation's state: a string, "<version>:<sealed state>"
--          (earlier versions kept a hash, v = version, d = sealed state;
--          it is read, and replaced by the string at the next save)
-- KEYS[2]  the conversation's transcript log: a list of sealed chunks of
--          lines, oldest first (earlier versions: one sealed line each)
-- KEYS[3]  the conversation's events waiting for the officer queue: a
--          stream of sealed events, field e (used only when ARGV[7] > 0)
-- KEYS[4]  the conversation's seen message ids: a sorted set, member = id
--          digest, score = Unix seconds when seen
-- ARGV[1]  the version the turn was computed from (0: absent)
-- ARGV[2]  the start of the sealed state at that version (its version byte
--          and nonce, unique to it: seal.ID), or "" not to check it: the
--          same version of a conversation deleted and started again is
--          not the state the turn was computed from
-- ARGV[3]  the new state, "<new version>:<sealed state>"
-- ARGV[4]  time to live in milliseconds, for the state and the log
-- ARGV[5]  "1" when the state is a tombstone: the log is deleted (the seen
--          ids are kept)
-- ARGV[6]  how many of the log's newest elements to keep once the chunk
--          (if any) is appended; 0 keeps them all; -1 when the
--          conversation has no log and none is appended: it is left alone
-- ARGV[7]  the caller's deadline in Unix milliseconds, or 0 for none
-- ARGV[8]  how many sealed events follow the earlier ids, n
-- ARGV[9]  how many events the conversation's stream keeps at most
--          (approximately); it lives as long as the state
-- ARGV[10] the digest of the message id the turn applies, or "" for none
-- ARGV[11] when it is seen, Unix seconds (the caller's clock)
-- ARGV[12] the replay window in seconds: ids seen that long before
--          ARGV[11] are forgotten, and the seen ids expire that long after
--          this save; 0 records and checks nothing
-- ARGV[13] how many seen ids to keep at most (the oldest go first)
-- ARGV[14] how many earlier ids follow, m: ids applied before, recorded
--          without the check (moved from a previous version's state)
-- ARGV[15…] m earlier ids, then n sealed events for the log, then at most
--          one sealed chunk of transcript lines to append to the log
--
-- Returns 1 when the turn is applied; {0, current state or false} when
-- the version no longer matches, so the caller need not read it again
-- ({0} alone when the state is an earlier version's hash); -1 when the
-- caller's deadline has passed: a turn whose caller gave up (and told the
-- tenant so) must not be applied late; -2 when the message id was seen
-- within the window: it was applied before, by this process or another
-- racing it, and must not be applied again.

local deadline = tonumber(ARGV[7])
if deadline > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then
    return -1
  end
end

local id, at, window = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])
if window > 0 and id ~= '' then
  local seen = redis.call('ZSCORE', KEYS[4], id)
  if seen and tonumber(seen) > at - window then
    return -2
  end
end

-- The state begins with its version, a colon and the sealed state: 41
-- bytes hold the version, the colon and the sealed state's identity.
local expected = tonumber(ARGV[1])
local current = 0
local head = redis.pcall('GETRANGE', KEYS[1], 0, 40)
if type(head) == 'table' then
  -- An earlier version's hash.
  current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
  if current ~= expected then
    return {0}
  end
elseif head ~= '' then
  local colon = string.find(head, ':', 1, true)
  current = tonumber(string.sub(head, 1, colon - 1))
  if current == expected and ARGV[2] ~= '' and string.sub(head, colon + 1, colon + #ARGV[2]) ~= ARGV[2] then
    current = -1
  end
end
if current ~= expected then
  return {0, redis.call('GET', KEYS[1])}
end
redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])

local earlier = tonumber(ARGV[14])
if window > 0 then
  for i = 15, 14 + earlier do
    redis.call('ZADD', KEYS[4], 'NX', at, ARGV[i])
  end
  if id ~= '' then
    redis.call('ZADD', KEYS[4], at, id)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', at - window)
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[13])
  if over > 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
  end
  redis.call('PEXPIRE', KEYS[4], window * 1000)
end

local events = tonumber(ARGV[8])
local first = 15 + earlier
for i = first, first + events - 1 do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'e', ARGV[i])
end
if events > 0 then
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
end
first = first + events

if ARGV[5] == '1' then
  redis.call('DEL', KEYS[2])
  return 1
end
if #ARGV >= first then
  redis.call('RPUSH', KEYS[2], ARGV[first])
end
local keep = tonumber(ARGV[6])
if keep < 0 then
  return 1
end
if keep > 0 then
  redis.call('LTRIM', KEYS[2], -keep, -1)
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
