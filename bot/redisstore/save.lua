-- Applies one turn of a conversation if nobody else has since it was read.
--
-- KEYS[1]  the conversation's state hash: v (version), d (sealed state)
-- KEYS[2]  the conversation's transcript list of sealed lines
-- KEYS[3]  the event log stream (used only when ARGV[7] > 0)
-- ARGV[1]  the version the turn was computed from (0: absent)
-- ARGV[2]  the new sealed state
-- ARGV[3]  time to live in milliseconds, for both keys
-- ARGV[4]  "1" when the state is a tombstone: the transcript is deleted
-- ARGV[5]  how many transcript lines to keep at most
-- ARGV[6]  the caller's deadline in Unix milliseconds, or 0 for none
-- ARGV[7]  how many sealed events follow, n
-- ARGV[8]  how many entries the event log keeps at most (approximately)
-- ARGV[9…] n sealed events for the log, then the sealed transcript lines
--          to append, oldest first
--
-- Returns the new version, 0 when the version no longer matches, or -1
-- when the caller's deadline has passed: a turn whose caller gave up (and
-- told the tenant so) must not be applied late.

local deadline = tonumber(ARGV[6])
if deadline > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > deadline then
    return -1
  end
end

local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
local version = current + 1
redis.call('HSET', KEYS[1], 'v', version, 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])

local events = tonumber(ARGV[7])
for i = 9, 8 + events do
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[8], '*', 'e', ARGV[i])
end
local first = 9 + events

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
