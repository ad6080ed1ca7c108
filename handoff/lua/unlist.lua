-- unlist: a case that expired while open leaves the open cases. The
-- worker finds it missing, then calls unlist, which checks again: a case
-- opened since stays listed.
--
-- KEYS[1]  open     the open cases
-- KEYS[2]  case     c:<id>, the case
--
-- ARGV[1]  the case's id
--
-- Returns 1 when it was taken off, else 0.
bind('open', 'case')

if redis.call('EXISTS', key('case')) == 1 then return 0 end
return redis.call('ZREM', key('open'), ARGV[1])
