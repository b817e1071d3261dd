-- ARGV: prefix, id, node → the client's record moves to this node (its pairing is kept)
local p, id, node = ARGV[1], ARGV[2], ARGV[3]
local key = p..'c:'..id
local old = redis.call('HGET', key, 'n')
if old then redis.call('SREM', p..'nc:'..old, id) end
redis.call('HSET', key, 'n', node)
redis.call('SADD', p..'nc:'..node, id)
return 1
