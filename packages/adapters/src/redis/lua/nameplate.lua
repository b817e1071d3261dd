-- Nameplate numbers for pairing by code, cluster-wide: np:<n> names the node that holds n.
-- ARGV: prefix, op ('take' | 'release'), node, then for take: max, ttl ms; for release: number.
-- take: the smallest n in 1..max no node holds, now this node's for ttl ms (nil when all are held).
-- release: n is free again, if this node holds it.
local p, op, node = ARGV[1], ARGV[2], ARGV[3]
if op == 'take' then
  local max, ttl = tonumber(ARGV[4]), tonumber(ARGV[5])
  for n = 1, max do
    if redis.call('SET', p..'np:'..n, node, 'NX', 'PX', ttl) then return tostring(n) end
  end
  return false
end
if op == 'release' then
  local key = p..'np:'..ARGV[4]
  if redis.call('GET', key) == node then redis.call('DEL', key) end
  return 0
end
return redis.error_reply('nameplate: unknown op')
