-- skip: an event that cannot be read (sealed with another key, or
-- damaged) is passed over, once: the conversation's position moves past
-- it, and nothing else changes.
--
-- KEYS[1]  pos      pos:<id>, the conversation's event position
--
-- ARGV[1]  the event's id in the store's log
-- ARGV[2]  how long to keep the event position (ms)
--
-- Returns 1; 'seen' for an event passed over already.
bind('pos')
if seen(ARGV[1], ARGV[2]) then return 'seen' end
return 1
