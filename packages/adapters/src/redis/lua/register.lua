-- ARGV: prefix, id, node
local p, id, node = ARGV[1], ARGV[2], ARGV[3]
redis.call('HSET', p..'c:'..id, 'n', node)
redis.call('SADD', p..'nc:'..node, id)
return 1
