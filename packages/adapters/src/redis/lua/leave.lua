-- ARGV: prefix, node: leave the cluster cleanly (the engine already unregistered its clients)
local p, node = ARGV[1], ARGV[2]
redis.call('DEL', p..'lease:'..node)
redis.call('SREM', p..'nodes', node)
return 1
