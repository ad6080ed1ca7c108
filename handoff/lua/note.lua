-- note: a line in the case's thread, if there is a case: a text that
-- did not reach the tenant.
--
-- KEYS[1]  case     c:<id>, the case
-- KEYS[2]  jobs     the jobs, in order
-- KEYS[3]  job      the jobs' fields
-- KEYS[4]  seq      the last job number
--
-- ARGV[1]  the case's id
-- ARGV[2]  the sealed thread line
-- ARGV[3]  the officer it names, or ''
--
-- Returns 1, or 0 when there is no case.
bind('case', 'jobs', 'job', 'seq')

if redis.call('EXISTS', key('case')) == 0 then return 0 end
enqueue('thread', ARGV[1], ARGV[2], '', ARGV[3])
return 1
