--[[
  Releases a lock only while it still holds the caller's token: a holder whose lock expired
  never frees the next holder's.

  Input:
    KEYS[1]  lock key                e.g. {queue}:lock:cleanup

    ARGV[1]  the caller's token

  Output:
    1  released
    0  the key holds another token, or none
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
