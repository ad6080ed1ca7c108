-- done: a job is finished. A posted card's place is recorded with the
-- case and in the card index; a card, and a line of the tenant's words,
-- is listed (as channel|ts, no words) so that DELETE can redact it, for
-- as long as Slack may keep it (the ledger's time).
--
-- KEYS[1]  jobs     the jobs, in order
-- KEYS[2]  job      the jobs' fields
-- KEYS[3]  case     c:<id>, the job's case
-- KEYS[4]  refs     tl:<id>, the Slack messages that held their words
-- KEYS[5]  card     card:<ts>, the case a posted card belongs to (ts is
--                   the posted message's; '' when nothing was posted)
--
-- ARGV[1]  the job's number
-- ARGV[2]  the case's id
-- ARGV[3]  the posted message's channel, or ''
-- ARGV[4]  the posted message's timestamp, or '' when nothing was posted
-- ARGV[5]  how long to keep the card index (ms)
-- ARGV[6]  the job's kind
-- ARGV[7]  how long to keep the list of messages (ms)
-- ARGV[8]  '1' when the post held the tenant's words, as the worker took
--          it: a job dropped meanwhile (DELETE) was posted all the same,
--          and its message must be found to be redacted
--
-- Returns 1.
bind('jobs', 'job', 'case', 'refs', 'card')

redis.call('ZREM', key('jobs'), ARGV[1])
redis.call('HDEL', key('job'), ARGV[1])
if ARGV[4] ~= '' then
  local c = key('case')
  if ARGV[6] == 'card' then
    if redis.call('EXISTS', c) == 1 then
      redis.call('HSET', c, 'cc', ARGV[3], 'cts', ARGV[4])
    end
    redis.call('SET', key('card'), ARGV[2], 'PX', tonumber(ARGV[5]))
  end
  if ARGV[6] == 'card' or ARGV[8] == '1' then
    redis.call('RPUSH', key('refs'), ARGV[3] .. '|' .. ARGV[4])
    redis.call('PEXPIRE', key('refs'), tonumber(ARGV[7]))
  end
end
return 1
