-- ARGV: prefix → {dead nodes, clients forgotten}; partners elsewhere are told by publish
local p = ARGV[1]
local nodes, clients = 0, 0
for _, n in ipairs(redis.call('SMEMBERS', p..'nodes')) do
  if redis.call('EXISTS', p..'lease:'..n) == 0 then
    nodes = nodes + 1
    for _, id in ipairs(redis.call('SMEMBERS', p..'nc:'..n)) do
      local rec = redis.call('HMGET', p..'c:'..id, 'n', 'p', 'k', 'e')
      if rec[1] == n then
        clients = clients + 1
        forget_client(p, id, n, rec[3])
        if rec[2] then
          local partner_node = release_partner(p, id, rec[2], rec[4])
          if partner_node then publish_peer_left(p, partner_node, rec[2], id, rec[4]) end
        end
      end
    end
    redis.call('DEL', p..'nc:'..n)
    redis.call('SREM', p..'nodes', n)
  end
end
return {nodes, clients}
