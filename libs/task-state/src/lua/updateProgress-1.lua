--[[
  Raises a running task's progress: only upwards, only while it runs; renews the TTL and
  publishes the event. A late or repeated value changes nothing, so callers need no ordering.

  Input:
    KEYS[1]  task hash               task:{id}

    ARGV[1]  events channel          {queue}:task-events
    ARGV[2]  TTL of the hash, s      TASK_TTL_S
    ARGV[3]  progress, 0..1

  Output:
    1  raised
    0  not running, or not above the progress already recorded
]]
local state = redis.call('HMGET', KEYS[1], 'status', 'progress', 'task_id', 'error')
if state[1] ~= 'running' then return 0 end
local progress = tonumber(ARGV[3])
if progress <= tonumber(state[2]) then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('PUBLISH', ARGV[1], cjson.encode({
  task_id = state[3], status = 'running', progress = progress, error = state[4]
}))
return 1
