-- PATCH a different name every request, spread over the bench sites (BENCH_PATCH_PATHS,
-- comma-separated), so every request changes a row and few wait on each other's lock.
local counter = 0
local thread_id = tostring(math.random(1, 1000000))
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATCH_PATHS") or "", "[^,]+") do
  table.insert(paths, path)
end
wrk.headers["Content-Type"] = "application/json"

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  local body = '{"name": "Bench plant ' .. thread_id .. '-' .. counter .. '"}'
  return wrk.format("PATCH", path, nil, body)
end
