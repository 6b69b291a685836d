-- wrk: each request asks for the next path of the file that URIS names,
-- from the first line again after the last.
local paths = {}
for line in io.lines(os.getenv("URIS") or error("URIS: the list of paths")) do paths[#paths + 1] = line end
local i = 0
request = function()
	i = i % #paths + 1
	return wrk.format("GET", paths[i])
end
