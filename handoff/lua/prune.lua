-- prune: removes ledger entries whose time to live has run out (on
-- Redis's clock), from the entries, the index and the expiry, a batch at
-- a time.
--
-- KEYS[1]  ledger   the ledger's index
-- KEYS[2]  entries  the ledger's entries
-- KEYS[3]  expiry   the ledger's expiry
--
-- ARGV[1]  the most to remove
--
-- Returns how many were removed.
bind('ledger', 'entries', 'expiry')

local gone = redis.call('ZRANGEBYSCORE', key('expiry'), '-inf', nowMS(), 'LIMIT', 0, tonumber(ARGV[1]))
for _, lid in ipairs(gone) do
  redis.call('HDEL', key('entries'), lid)
  redis.call('ZREM', key('ledger'), lid)
  redis.call('ZREM', key('expiry'), lid)
end
return #gone
