-- Shared by every script (prepended by scripts.ts): the one way a pairing's other half is let go
-- of, and the one way a client's record is forgotten. Keys: c:<id> (hash n node, p partner,
-- e epoch, k session key), nc:<node> (set of ids), s:<session key> (node), ch:<node> (channel).

-- The partner `peer` lets go of `id` if it still holds their pairing of `epoch`; returns the
-- partner's node, or false when the partner holds another pairing (or none).
local function release_partner(p, id, peer, epoch)
  local pkey = p..'c:'..peer
  local partner = redis.call('HMGET', pkey, 'n', 'p', 'e')
  if partner[1] and partner[2] == id and partner[3] == epoch then
    redis.call('HDEL', pkey, 'p', 'e')
    return partner[1]
  end
  return false
end

-- Tell `to`'s node that its partner `peer` left the pairing of `epoch`.
local function publish_peer_left(p, node, to, peer, epoch)
  redis.call('PUBLISH', p..'ch:'..node, cjson.encode({t = 'm', m = {type = 'peer_left', to = to, peer = peer, epoch = epoch}}))
end

-- Forget `id`'s record on `node`, and its session key if `node` still owns it.
local function forget_client(p, id, node, skey)
  redis.call('DEL', p..'c:'..id)
  redis.call('SREM', p..'nc:'..node, id)
  if skey and redis.call('GET', p..'s:'..skey) == node then redis.call('DEL', p..'s:'..skey) end
end
