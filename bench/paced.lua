-- wrk: the walk of uris.lua (each request asks for the next path of the file
-- that URIS names), sent at RATE requests a second in all: each of THREADS
-- wrk threads sends RATE / THREADS a second, spaced evenly. delay() hands
-- each request the next free slot of the schedule, whichever connection
-- asks, so the offered rate does not follow the server's answers (wrk's
-- own timer is in milliseconds: the requests of one millisecond leave
-- together). A thread starts its walk at a random line, so that threads do
-- not ask for the same codes.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } paced_timespec;
int clock_gettime(int clk, paced_timespec *ts);
]]
local ts = ffi.new("paced_timespec")
local function now_ms()
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local paths = {}
for line in io.lines(os.getenv("URIS") or error("URIS: the list of paths")) do paths[#paths + 1] = line end
local rate = tonumber(os.getenv("RATE") or error("RATE: requests a second")) / tonumber(os.getenv("THREADS") or "1")
local step = 1000 / rate
local i, due = nil, nil

request = function()
	if i == nil then
		math.randomseed(tonumber(tostring({}):match("0x(%x+)"), 16) % 2147483647)
		i = math.random(#paths) - 1
	end
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end

delay = function()
	local now = now_ms()
	-- More than a second behind (the server stalled): start again from
	-- now rather than send the backlog at once.
	if due == nil or due < now - 1000 then due = now end
	due = due + step
	if due <= now then return 0 end
	return math.ceil(due - now)
end
