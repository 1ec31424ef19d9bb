--[[
  Creates a sweep's hash unless it exists, with its TTL, in one step: a separate HSETNX then
  HSET+EXPIRE left a hash of just sweep_id, and without a TTL, when the second call failed
  (or the process died between them), and such a hash never expired.

  Input:
    KEYS[1]  sweep hash              sweep:{id}

    ARGV[1]  TTL of the hash, s      TASK_TTL_S
    ARGV[2..] field, value, ...      every field of the hash (sweep_id and status among them)

  Output:
    1  created
    0  the hash existed: nothing written (an id is never reused)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {}
for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
return 1
