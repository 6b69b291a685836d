-- wrk: each request asks for the next path of the file that URIS names,
-- from the first line again after the last. wrk thread k (of at most 8)
-- starts k eighths of the way down the list, so that threads do not ask
-- for the same codes.
local threads = 0
function setup(thread)
	thread:set("thread_index", threads)
	threads = threads + 1
end

local paths = {}
for line in io.lines(os.getenv("URIS") or error("URIS: the list of paths")) do paths[#paths + 1] = line end
local i = nil
request = function()
	if i == nil then
		i = ((thread_index or 0) * math.floor(#paths / 8)) % #paths
	end
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
