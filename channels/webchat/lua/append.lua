-- Adds one event to a web chat session's stream and tells every process.
--
-- KEYS[1]  the session's hash (fields conv, client)
-- KEYS[2]  the session's events: a stream of sealed events, field d
-- ARGV[1]  the sealed event
-- ARGV[2]  how many events the stream keeps, approximately (MAXLEN ~)
-- ARGV[3]  time to live of the stream in milliseconds
-- ARGV[4]  "1": only while the session is open (an officer's message);
--          "0": also to a session just ended, while its stream is kept
-- ARGV[5]  the Pub/Sub channel every process listens on
-- ARGV[6]  the session's token hash, published on ARGV[5]
-- ARGV[7]  how long an ended session's stream is kept at most, in
--          milliseconds: an event added after the end never keeps it
--          longer (a quick exit leaves nothing for an hour)
-- KEYS[3]  (optional) the event's key: names it once, so that adding it
--          again (an officer's reply sent again after an answer was
--          lost) returns the first one's id and adds nothing
--
-- Returns the event's stream id, or false when there is no such session.

local open = redis.call('EXISTS', KEYS[1]) == 1
if not open then
  if ARGV[4] == '1' or redis.call('EXISTS', KEYS[2]) == 0 then
    return false
  end
end
if KEYS[3] then
  local first = redis.call('GET', KEYS[3])
  if first then return first end
end
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', 'd', ARGV[1])
if KEYS[3] then redis.call('SET', KEYS[3], id, 'PX', ARGV[3]) end
if open then
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
else
  local left = redis.call('PTTL', KEYS[2])
  if left < 0 or left > tonumber(ARGV[7]) then redis.call('PEXPIRE', KEYS[2], ARGV[7]) end
end
redis.call('PUBLISH', ARGV[5], ARGV[6])
return id
