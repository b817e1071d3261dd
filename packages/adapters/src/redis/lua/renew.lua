-- ARGV: prefix, node, ttl → 1 renewed, 0 lapsed (reaped, or Redis lost its data)
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
if redis.call('SET', p..'lease:'..node, '1', 'PX', ttl, 'XX') then return 1 end
return 0
