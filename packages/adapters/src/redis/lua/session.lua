-- ARGV: prefix, session key, node, id ('' to forget the key)
local p, key, node, id = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if id == '' then
  if redis.call('GET', p..'s:'..key) == node then redis.call('DEL', p..'s:'..key) end
  return 0
end
redis.call('SET', p..'s:'..key, node)
redis.call('HSET', p..'c:'..id, 'k', key)
return 1
