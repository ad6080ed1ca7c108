-- Applies one turn of a conversation if nobody else has since it was read
-- and its message was not applied before. Every key is the
-- conversation's own, on one cluster slot.
--
-- KEYS[1]  the conversation's state hash: v (version), d (sealed state)
-- KEYS[2]  the conversation's transcript list of sealed lines
-- KEYS[3]  the conversation's events waiting for the officer queue: a
--          stream of sealed events, field e (used only when ARGV[7] > 0)
-- KEYS[4]  the conversation's seen message ids: a sorted set, member = id
--          digest, score = Unix seconds when seen
-- ARGV[1]  the version the turn was computed from (0: absent)
-- ARGV[2]  the new sealed state
-- ARGV[3]  time to live in milliseconds, for the state and the transcript
-- ARGV[4]  "1" when the state is a tombstone: the transcript is deleted
--          (the seen ids are kept)
-- ARGV[5]  how many transcript lines to keep at most
-- ARGV[6]  the caller's deadline in Unix milliseconds, or 0 for none
-- ARGV[7]  how many sealed events follow the earlier ids, n
-- ARGV[8]  how many events the conversation's stream keeps at most
--          (approximately); it lives as long as the state
-- ARGV[9]  the digest of the message id the turn applies, or "" for none
-- ARGV[10] when it is seen, Unix seconds (the caller's clock)
-- ARGV[11] the replay window in seconds: ids seen that long before
--          ARGV[10] are forgotten, and the seen ids expire that long after
--          this save; 0 records and checks nothing
-- ARGV[12] how many seen ids to keep at most (the oldest go first)
-- ARGV[13] how many earlier ids follow, m: ids applied before, recorded
--          without the check (moved from a previous version's state)
-- ARGV[14…] m earlier ids, then n sealed events for the log, then the
--          sealed transcript lines to append, oldest first
--
-- Returns the new version; 0 when the version no longer matches; -1 when
-- the caller's deadline has passed: a turn whose caller gave up (and told
-- the tenant so) must not be applied late; -2 when the message id was
-- seen within the window: it was applied before, by this process or
-- another racing it, and must not be applied again.

local deadline = tonumber(ARGV[6])
if deadline > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then
    return -1
  end
end

local id, at, window = ARGV[9], tonumber(ARGV[10]), tonumber(ARGV[11])
if window > 0 and id ~= '' then
  local seen = redis.call('ZSCORE', KEYS[4], id)
  if seen and tonumber(seen) > at - window then
    return -2
  end
end

local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
local version = current + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])

local earlier = tonumber(ARGV[13])
if window > 0 then
  for i = 14, 13 + earlier do
    redis.call('ZADD', KEYS[4], 'NX', at, ARGV[i])
  end
  if id ~= '' then
    redis.call('ZADD', KEYS[4], at, id)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', at - window)
  local over = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[12])
  if over > 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[4], 0, over - 1)
  end
  redis.call('PEXPIRE', KEYS[4], window * 1000)
end

local events = tonumber(ARGV[7])
local first = 14 + earlier
for i = first, first + events - 1 do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[i])
end
if events > 0 then
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
first = first + events

if ARGV[4] == '1' then
  redis.call('DEL', KEYS[2])
  return version
end
if #ARGV >= first then
  redis.call('RPUSH', KEYS[2], unpack(ARGV, first))
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return version
