--[[
  Moves a sweep to a new status if its current status allows it, atomically: writes the
  fields, renews the TTL of the hash and of its done-chunks set, and publishes the event. A
  cancel racing a completion or a chunk's failure: exactly one wins.

  Input:
    KEYS[1]  sweep hash              sweep:{id}
    KEYS[2]  done-chunks set         sweep:{id}:chunks

    ARGV[1]  events channel          {queue}:sweep-events
    ARGV[2]  TTL, s                  TASK_TTL_S
    ARGV[3]  new status
    ARGV[4]  allowed current statuses, space-separated, e.g. "queued running"
    ARGV[5..] field, value, ...      fields to write besides status

  Output:
    {'ok', previous status}
    {'missing', ''}                  no such hash (expired or never created)
    {'conflict', current status}     the current status does not allow the move
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
local allowed = false
for status in string.gmatch(ARGV[4], '%S+') do
  if status == current then allowed = true end
end
if not allowed then return {'conflict', current} end
local fields = {'status', ARGV[3]}
for i = 5, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'sweep_id', 'progress', 'done', 'error')
redis.call('PUBLISH', ARGV[1], cjson.encode({
  sweep_id = state[1], status = ARGV[3], progress = tonumber(state[2]),
  done = tonumber(state[3]), error = state[4]
}))
return {'ok', current}
