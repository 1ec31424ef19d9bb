--[[
  Creates a task's hash unless it exists, indexes it as active and publishes its first event.

  Input:
    KEYS[1]  task hash               task:{id}
    KEYS[2]  active-task index       {queue}:active-tasks (zset)

    ARGV[1]  events channel          {queue}:task-events
    ARGV[2]  TTL of the hash, s      TASK_TTL_S
    ARGV[3]  now, epoch ms           the index score
    ARGV[4..] field, value, ...      every field of the hash (task_id and status among them)

  Output:
    1  created
    0  the hash existed: nothing written
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {}
for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
local state = redis.call('HMGET', KEYS[1], 'task_id', 'status', 'progress', 'error')
redis.call('ZADD', KEYS[2], ARGV[3], state[1])
redis.call('PUBLISH', ARGV[1], cjson.encode({
  task_id = state[1], status = state[2], progress = tonumber(state[3]), error = state[4]
}))
return 1
