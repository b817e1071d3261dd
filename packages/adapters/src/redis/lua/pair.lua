-- ARGV: prefix, requester, target, node → {verdict[, target's node, epoch]}
local p, a, b, node = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local ka = p..'c:'..a
local ra = redis.call('HMGET', ka, 'n', 'p')
if not ra[1] then
  redis.call('HSET', ka, 'n', node)
  redis.call('SADD', p..'nc:'..node, a)
elseif ra[2] then
  return {'requester_busy'}
end
if a == b then return {'unknown'} end
local kb = p..'c:'..b
local rb = redis.call('HMGET', kb, 'n', 'p')
if not rb[1] or redis.call('EXISTS', p..'lease:'..rb[1]) == 0 then return {'unknown'} end
if rb[2] then return {'busy'} end
local e = tostring(redis.call('INCR', p..'epoch'))
redis.call('HSET', ka, 'p', b, 'e', e)
redis.call('HSET', kb, 'p', a, 'e', e)
return {'paired', rb[1], e}
