-- ARGV: prefix, id, node, tenant ('' for none)
local p, id, node, tenant = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
if tenant ~= '' then redis.call('HSET', p..'c:'..id, 'n', node, 't', tenant)
else
  redis.call('HSET', p..'c:'..id, 'n', node)
  redis.call('HDEL', p..'c:'..id, 't')
end
redis.call('SADD', p..'nc:'..node, id)
return 1
