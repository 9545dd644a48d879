// Lua source of the lease/usage sync script (see redis_scripts.h for its contract).
//
// Why cumulative usage instead of deltas: a replica reports the total it has recorded for a
// counter, and the script applies total - previously applied total. A retry after a lost reply,
// or a re-report after Redis lost its data, therefore never counts twice, and needs no set of
// seen batch ids. The (field, seq) pair is the batch id: a sync older than the last applied one
// (a reordered retry from an abandoned connection) changes nothing.
//
// Numbers: units are integers below 2^53 (Lua numbers are doubles), written back with %d so
// large values never turn into exponent notation.
#include "runtime/src/redis_scripts.h"

namespace tollgate::redis {

const char* const kSyncScript = R"lua(
-- Redis 3.2-4 need effects replication to write after TIME; 5+ always do it.
if redis.replicate_commands then redis.replicate_commands() end
local field = ARGV[1]
local seq = tonumber(ARGV[2])
local cum = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local limit = tonumber(ARGV[5])
local ttl = tonumber(ARGV[6])
local min_grant = tonumber(ARGV[8])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local last = tonumber(redis.call('HGET', KEYS[1], 'q:' .. field) or '-1')
if seq <= last then
  return {tonumber(redis.call('HGET', KEYS[1], 'spent') or '0'), -1, 0, 0, 1}
end
local prev = tonumber(redis.call('HGET', KEYS[1], 'c:' .. field) or '0')
local delta = cum - prev
if delta ~= 0 then
  redis.call('HINCRBY', KEYS[1], 'spent', string.format('%d', delta))
  redis.call('HSET', KEYS[1], 'c:' .. field, ARGV[3])
end
redis.call('HSET', KEYS[1], 'q:' .. field, ARGV[2])
local spent = tonumber(redis.call('HGET', KEYS[1], 'spent') or '0')

-- Live leases: drop expired ones (their replica died or lost Redis), sum the others.
local held, others, holders = 0, 0, 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, ':', 1, true)
  local amount = tonumber(string.sub(v, 1, sep - 1))
  local expiry = tonumber(string.sub(v, sep + 1))
  if expiry <= now then
    redis.call('HDEL', KEYS[2], all[i])
  elseif all[i] == field then
    held = amount
  else
    others = others + amount
    holders = holders + 1
  end
end
-- Usage is paid out of the lease it was reserved against.
if delta > 0 then held = held - delta end
if held < 0 then held = 0 end

local new = held
if limit < 0 or want <= held then
  if want < held then new = want end
  if limit < 0 then new = 0 end
else
  -- Never lease past the limit: spent + all live leases <= limit. Near the limit, a grant is at
  -- most an equal share of what is left among the holders, so slices shrink instead of being
  -- stranded on one replica.
  local room = limit - spent - others - held
  if room > 0 then
    local extra = want - held
    local share = math.floor(room / (holders + 1))
    if share < min_grant then share = min_grant end
    if extra > share then extra = share end
    if extra > room then extra = room end
    new = held + extra
  end
end
if new > 0 then
  redis.call('HSET', KEYS[2], field, string.format('%d:%d', new, now + ttl))
else
  redis.call('HDEL', KEYS[2], field)
end
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], ARGV[7]) end
local room_after = 0
if limit >= 0 then room_after = limit - spent - others - new end
return {spent, new, room_after, delta, 0}
)lua";

}  // namespace tollgate::redis
