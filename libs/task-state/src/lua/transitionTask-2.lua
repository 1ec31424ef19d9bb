--[[
  Moves a task to a new status if its current status allows it, atomically: writes the
  fields, renews the TTL, keeps the active-task index (a final status leaves it) and publishes
  the event. Two processes racing (a cancel and a completion, two workers after a stall) can
  never both win.

  Input:
    KEYS[1]  task hash               task:{id}
    KEYS[2]  active-task index       {queue}:active-tasks (zset)

    ARGV[1]  events channel          {queue}:task-events
    ARGV[2]  TTL of the hash, s      TASK_TTL_S
    ARGV[3]  now, epoch ms           the index score
    ARGV[4]  new status
    ARGV[5]  allowed current statuses, space-separated, e.g. "queued running"
    ARGV[6]  failure code for the event ('' for none; not stored in the hash)
    ARGV[7..] field, value, ...      fields to write besides status

  Output:
    {'ok', previous status}
    {'missing', ''}                  no such hash (expired or never created)
    {'conflict', current status}     the current status does not allow the move
]]
local current = redis.call('HGET', KEYS[1], 'status')
if not current then return {'missing', ''} end
local allowed = false
for status in string.gmatch(ARGV[5], '%S+') do
  if status == current then allowed = true end
end
if not allowed then return {'conflict', current} end
local fields = {'status', ARGV[4]}
for i = 7, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'task_id', 'progress', 'error')
if ARGV[4] == 'completed' or ARGV[4] == 'failed' or ARGV[4] == 'cancelled' then
  redis.call('ZREM', KEYS[2], state[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], state[1])
end
redis.call('PUBLISH', ARGV[1], cjson.encode({
  task_id = state[1], status = ARGV[4], progress = tonumber(state[2]), error = state[3],
  error_code = ARGV[6]
}))
return {'ok', current}
