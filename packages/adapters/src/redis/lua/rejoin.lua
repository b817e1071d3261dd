-- ARGV: prefix, node, ttl, then (id, local peer or '', its pairing's epoch or '', session key or '', tenant or '') per client.
-- Takes the lease, forgets this node's records that are not listed, ends every pairing that is
-- not a listed local one (publishing peer_left to a partner's node elsewhere), registers the listed.
local p, node, ttl = ARGV[1], ARGV[2], ARGV[3]
redis.call('SET', p..'lease:'..node, '1', 'PX', ttl)
redis.call('SADD', p..'nodes', node)
-- end `id`'s pairing unless it is the one with `keep`
local function release(id, keep)
  local rec = redis.call('HMGET', p..'c:'..id, 'n', 'p', 'e')
  if rec[2] and rec[2] ~= keep then
    local partner_node = release_partner(p, id, rec[2], rec[3])
    if partner_node and partner_node ~= node then publish_peer_left(p, partner_node, rec[2], id, rec[3]) end
  end
end
local live = {}
for i = 4, #ARGV, 5 do live[ARGV[i]] = true end
for _, id in ipairs(redis.call('SMEMBERS', p..'nc:'..node)) do
  if not live[id] then
    if redis.call('HGET', p..'c:'..id, 'n') == node then
      release(id, false)
      redis.call('DEL', p..'c:'..id)
    end
    redis.call('SREM', p..'nc:'..node, id)
  end
end
for i = 4, #ARGV, 5 do
  local id, peer, epoch, skey, tenant = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  release(id, peer ~= '' and peer or false)
  local key = p..'c:'..id
  redis.call('HSET', key, 'n', node)
  if tenant ~= '' then redis.call('HSET', key, 't', tenant) else redis.call('HDEL', key, 't') end
  if peer ~= '' then redis.call('HSET', key, 'p', peer, 'e', epoch) else redis.call('HDEL', key, 'p', 'e') end
  redis.call('SADD', p..'nc:'..node, id)
  if skey ~= '' then
    redis.call('SET', p..'s:'..skey, node)
    redis.call('HSET', key, 'k', skey)
  end
end
return (#ARGV - 3) / 5
