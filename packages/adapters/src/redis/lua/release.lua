-- ARGV: prefix, id, node, delete (1: unregister | 0: unpair), epoch of the pairing to end (for unpair)
-- → {partner id, partner node, epoch} when a partner was let go of, else false
local p, id, node, delete, expected = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local key = p..'c:'..id
local rec = redis.call('HMGET', key, 'n', 'p', 'k', 'e')
if not rec[1] or rec[1] ~= node then return false end
if delete ~= '1' and (not rec[2] or rec[4] ~= expected) then return false end
if delete == '1' then forget_client(p, id, node, rec[3]) else redis.call('HDEL', key, 'p', 'e') end
if not rec[2] then return false end
local partner_node = release_partner(p, id, rec[2], rec[4])
if partner_node then return {rec[2], partner_node, rec[4]} end
return false
