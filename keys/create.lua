-- Creates the data key's hash with its first wraps, unless the hash
-- exists: two processes starting at once on a new Redis must agree on one
-- data key, so the loser reads the winner's instead of adding its own.
--
-- KEYS[1]  the data key's hash: field = a master key's fingerprint,
--          value = the data key sealed under that master's wrapping key
-- ARGV     field, value, [field, value]: the wraps to write
--
-- Returns 1 when it created the hash, 0 when the hash already existed
-- (and nothing was written).
if redis.call('EXISTS', KEYS[1]) == 1 then
	return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
