-- ARGV: prefix, requester, target, node, requester's tenant ('' for none) → {verdict[, target's node, epoch]}
-- A target of another tenant is 'unknown', busy or not, so tenants cannot probe each other.
local p, a, b, node, tenant = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ka = p..'c:'..a
local ra = redis.call('HMGET', ka, 'n', 'p')
if not ra[1] then
  redis.call('HSET', ka, 'n', node)
  if tenant ~= '' then redis.call('HSET', ka, 't', tenant) end
  redis.call('SADD', p..'nc:'..node, a)
elseif ra[2] then
  return {'requester_busy'}
end
if a == b then return {'unknown'} end
local kb = p..'c:'..b
local rb = redis.call('HMGET', kb, 'n', 'p', 't')
if not rb[1] or redis.call('EXISTS', p..'lease:'..rb[1]) == 0 then return {'unknown'} end
if (rb[3] or '') ~= tenant then return {'unknown'} end
if rb[2] then return {'busy'} end
local e = tostring(redis.call('INCR', p..'epoch'))
redis.call('HSET', ka, 'p', b, 'e', e)
redis.call('HSET', kb, 'p', a, 'e', e)
return {'paired', rb[1], e}
