--[[
  Counts a finished chunk once: a chunk run again (its worker died after finishing it, or
  BullMQ handed it out twice after a stall) finds its index in the set and changes nothing.
  Raises `done` by the chunk's combinations and progress to done / combinations, so progress
  only rises; a queued sweep becomes running. Renews both TTLs and publishes the event.

  Input:
    KEYS[1]  sweep hash              sweep:{id}
    KEYS[2]  done-chunks set         sweep:{id}:chunks

    ARGV[1]  events channel          {queue}:sweep-events
    ARGV[2]  TTL, s                  TASK_TTL_S
    ARGV[3]  chunk index
    ARGV[4]  combinations in the chunk
    ARGV[5]  now, ISO-8601           started_at when the sweep starts here

  Output:
    {1, done}    counted now
    {0, done}    already counted, or the sweep is not queued or running (nothing changed)
]]
local state = redis.call('HMGET', KEYS[1], 'status', 'combinations', 'done')
if state[1] ~= 'queued' and state[1] ~= 'running' then return {0, tonumber(state[3] or '0')} end
if redis.call('SADD', KEYS[2], ARGV[3]) == 0 then return {0, tonumber(state[3])} end
local done = redis.call('HINCRBY', KEYS[1], 'done', tonumber(ARGV[4]))
local progress = done / tonumber(state[2])
if progress > 1 then progress = 1 end
redis.call('HSET', KEYS[1], 'progress', tostring(progress))
if state[1] == 'queued' then
  redis.call('HSET', KEYS[1], 'status', 'running', 'started_at', ARGV[5])
end
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
local info = redis.call('HMGET', KEYS[1], 'sweep_id', 'error')
redis.call('PUBLISH', ARGV[1], cjson.encode({
  sweep_id = info[1], status = 'running', progress = progress, done = done, error = info[2]
}))
return {1, done}
