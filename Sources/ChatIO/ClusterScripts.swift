/// The Lua scripts the cluster runs in Redis, each atomic there: a name claim cannot interleave
/// with another node's claim, and a lapsed node's names are freed in the same step that
/// declares it gone. They name their keys themselves (not through KEYS), so they assume one
/// Redis, not a Redis Cluster (README, "Running a cluster").
enum ClusterScripts {
    /// Key layout (README, "Redis layout"): `chatd:nodes` (sorted set node → lease deadline in
    /// Redis's own milliseconds), `chatd:names` (hash folded name → node), `chatd:node-names:N`
    /// (set of the names node N holds), `chatd:clients:N` (hash address → client record);
    /// room rules: `chatd:rules:R` (hash, `RoomRules`' fields), `chatd:ruled-rooms` (set of the
    /// rooms with rules), `chatd:room-nodes:R` (set of the nodes with members in R) and
    /// `chatd:node-rooms:N` (set of the rooms N has members in).

    /// Lua shared by the scripts that take a node out of rooms. `drop_room`: a room left on no
    /// node loses its rules, with the announcement (a `.rule` from `*` clearing them), and its
    /// history stream too if it had a key or a ban (history never outlives the rules that
    /// guarded it, `RoomHistory`). `forget_rooms`: a lapsed or leaving node leaves every room it
    /// was in, and rooms owned by a guest of it lose their owner.
    private static let roomFunctions = """
        local function drop_room(room, announce)
            local rules = 'chatd:rules:' .. room
            local protected = redis.call('HEXISTS', rules, 'key') == 1
            for _, field in ipairs(redis.call('HKEYS', rules)) do
                if string.sub(field, 1, 4) == 'ban:' then protected = true end
            end
            if protected then redis.call('DEL', 'chatd:history:' .. room, 'chatd:history-lines:' .. room) end
            redis.call('DEL', rules, 'chatd:room-nodes:' .. room)
            if redis.call('SREM', 'chatd:ruled-rooms', room) == 1 then redis.call('PUBLISH', 'chatd:events', announce) end
        end
        local function forget_rooms(gone)
            for _, room in ipairs(redis.call('SMEMBERS', 'chatd:node-rooms:' .. gone)) do
                redis.call('SREM', 'chatd:room-nodes:' .. room, gone)
                local rules = 'chatd:rules:' .. room
                if redis.call('SCARD', 'chatd:room-nodes:' .. room) == 0 then
                    drop_room(room, 'R\t*\t' .. room .. '\t*\t*\t')
                else
                    local owner = redis.call('HGET', rules, 'owner')
                    if owner and string.sub(owner, 1, 3 + #gone) == 'c:' .. gone .. ' ' then redis.call('HDEL', rules, 'owner') end
                end
            end
            redis.call('DEL', 'chatd:node-rooms:' .. gone)
        end
        """

    /// ARGV: node, lease ms. Renews this node's lease by Redis's clock (no clock skew between
    /// nodes matters), removes every node whose lease lapsed together with its names and
    /// records, and returns `{rejoined, live nodes...}`: rejoined is 1 when this node's own
    /// lease had lapsed or was missing (it must claim its names again).
    static let heartbeat = """
        \(roomFunctions)
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local node = ARGV[1]
        local known = redis.call('ZSCORE', 'chatd:nodes', node)
        local rejoined = 0
        if (not known) or tonumber(known) < now then rejoined = 1 end
        redis.call('ZADD', 'chatd:nodes', now + tonumber(ARGV[2]), node)
        local dead = redis.call('ZRANGEBYSCORE', 'chatd:nodes', '-inf', '(' .. now)
        for _, gone in ipairs(dead) do
            for _, name in ipairs(redis.call('SMEMBERS', 'chatd:node-names:' .. gone)) do
                if redis.call('HGET', 'chatd:names', name) == gone then redis.call('HDEL', 'chatd:names', name) end
            end
            redis.call('DEL', 'chatd:node-names:' .. gone, 'chatd:clients:' .. gone)
            forget_rooms(gone)
            redis.call('ZREM', 'chatd:nodes', gone)
        end
        local live = redis.call('ZRANGE', 'chatd:nodes', 0, -1)
        table.insert(live, 1, tostring(rejoined))
        return live
        """

    /// ARGV: folded name, node. 1: the name is this node's (newly, or already); 0: another
    /// node holds it.
    static let claim = """
        local holder = redis.call('HGET', 'chatd:names', ARGV[1])
        if holder and holder ~= ARGV[2] then return 0 end
        redis.call('HSET', 'chatd:names', ARGV[1], ARGV[2])
        redis.call('SADD', 'chatd:node-names:' .. ARGV[2], ARGV[1])
        return 1
        """

    /// ARGV: folded name, node. Frees the name only if this node holds it.
    static let release = """
        if redis.call('HGET', 'chatd:names', ARGV[1]) == ARGV[2] then redis.call('HDEL', 'chatd:names', ARGV[1]) end
        redis.call('SREM', 'chatd:node-names:' .. ARGV[2], ARGV[1])
        return 1
        """

    /// ARGV: node. A node leaving on purpose: its lease, names and records go at once.
    static let leave = """
        \(roomFunctions)
        for _, name in ipairs(redis.call('SMEMBERS', 'chatd:node-names:' .. ARGV[1])) do
            if redis.call('HGET', 'chatd:names', name) == ARGV[1] then redis.call('HDEL', 'chatd:names', name) end
        end
        redis.call('DEL', 'chatd:node-names:' .. ARGV[1], 'chatd:clients:' .. ARGV[1])
        forget_rooms(ARGV[1])
        redis.call('ZREM', 'chatd:nodes', ARGV[1])
        return 1
        """

    /// ARGV: stream, line counter key, the most lines to keep (0: no bound), lines in this
    /// entry, then the entry's field-value pairs (`RoomLines.streamFields`). Appends one
    /// entry of several lines and keeps the stream to about the most lines. `XADD MAXLEN`
    /// counts entries, not lines, so the entry's ID says the lines instead: it is the room's
    /// running line count (`<count>-0`, the counter key), so an entry's ID is the number of its
    /// last line and `XTRIM MINID ~ count-most+1` drops every entry all of whose lines are
    /// older than the newest `most`, in whole macro nodes (Redis's cheap approximate trim).
    /// The stream then holds at least `most` lines and at most a macro node's worth more. A
    /// counter lost while its stream stayed (the XADD refuses a smaller ID) continues from the
    /// stream's last ID.
    static let appendHistory = """
        local stream, counter, most, added = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
        local total = redis.call('INCRBY', counter, added)
        local appended = redis.pcall('XADD', stream, tostring(total) .. '-0', unpack(ARGV, 5))
        if type(appended) == 'table' and appended.err then
            local last = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', 1)
            if #last == 0 then return appended end
            local dash = string.find(last[1][1], '-', 1, true)
            total = tonumber(string.sub(last[1][1], 1, dash - 1)) + added
            redis.call('SET', counter, total)
            redis.call('XADD', stream, tostring(total) .. '-0', unpack(ARGV, 5))
        end
        if most > 0 and total > most then redis.call('XTRIM', stream, 'MINID', '~', tostring(total - most + 1)) end
        return total
        """

    /// ARGV: folded room, node. The node has members in the room.
    static let roomOpened = """
        redis.call('SADD', 'chatd:room-nodes:' .. ARGV[1], ARGV[2])
        redis.call('SADD', 'chatd:node-rooms:' .. ARGV[2], ARGV[1])
        return 1
        """

    /// ARGV: folded room, node, announcement. The node's last member left the room: when no
    /// node has members any more, the room goes (`drop_room`) in the same step, so no node
    /// keeps its rules.
    static let roomClosed = """
        \(roomFunctions)
        redis.call('SREM', 'chatd:room-nodes:' .. ARGV[1], ARGV[2])
        redis.call('SREM', 'chatd:node-rooms:' .. ARGV[2], ARGV[1])
        if redis.call('SCARD', 'chatd:room-nodes:' .. ARGV[1]) > 0 then return 0 end
        drop_room(ARGV[1], ARGV[3])
        return 1
        """

    /// ARGV: folded room, only-if-new (`1`/`0`), then field, value (empty: remove),
    /// announcement for each field. Sets the fields and publishes their announcements in the
    /// same step, so every node applies the changes in the order Redis made them. Only-if-new
    /// (a node creating the room) and the room has rules already: nothing changes and the
    /// rules Redis has are returned.
    static let setRules = """
        local key = 'chatd:rules:' .. ARGV[1]
        if ARGV[2] == '1' and redis.call('SISMEMBER', 'chatd:ruled-rooms', ARGV[1]) == 1 then
            return redis.call('HGETALL', key)
        end
        for i = 3, #ARGV - 2, 3 do
            if ARGV[i + 1] == '' then redis.call('HDEL', key, ARGV[i]) else redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
        end
        redis.call('SADD', 'chatd:ruled-rooms', ARGV[1])
        for i = 3, #ARGV - 2, 3 do redis.call('PUBLISH', 'chatd:events', ARGV[i + 2]) end
        return 1
        """

    /// ARGV: stream, line counter key, lines wanted. The entries holding the newest lines
    /// wanted, newest first (`XREVRANGE`): an entry's ID is its last line's number
    /// (`appendHistory`), so the entries from line `count - wanted + 1` on hold them, plus at
    /// most one entry's worth more. Without a counter (a stream of the first version, one line
    /// per entry), the newest `wanted` entries.
    static let readHistory = """
        local count = tonumber(redis.call('GET', ARGV[2]) or '')
        local wanted = tonumber(ARGV[3])
        if count == nil then return redis.call('XREVRANGE', ARGV[1], '+', '-', 'COUNT', wanted) end
        return redis.call('XREVRANGE', ARGV[1], '+', tostring(math.max(0, count - wanted + 1)), 'COUNT', wanted)
        """

    /// Every room's rules: `{room, {field, value, ...}, room, ...}`.
    static let fetchRules = """
        local out = {}
        for _, room in ipairs(redis.call('SMEMBERS', 'chatd:ruled-rooms')) do
            table.insert(out, room)
            table.insert(out, redis.call('HGETALL', 'chatd:rules:' .. room))
        end
        return out
        """
}
