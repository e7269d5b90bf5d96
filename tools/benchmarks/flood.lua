-- A sign-in flood: a wrong password for a new random username every request, as a
-- credential-stuffing client sends them (random names never reach the per-username
-- lockout). Counts the answers by status and prints them at the end.
local counter = 0
local thread_id = tostring(math.random(1, 1000000))
local threads = {}
wrk.headers["Content-Type"] = "application/json"

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  refused, unauthorized, other = 0, 0, 0
end

request = function()
  counter = counter + 1
  local body = '{"username": "flood-' .. thread_id .. '-' .. counter .. '-'
    .. math.random(1, 1000000000) .. '", "password": "wrong-password-' .. counter .. '"}'
  return wrk.format("POST", "/api/auth/token/", nil, body)
end

function response(status, headers, body)
  if status == 429 then
    refused = refused + 1
  elseif status == 401 then
    unauthorized = unauthorized + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local r, u, o = 0, 0, 0
  for _, thread in ipairs(threads) do
    r = r + thread:get("refused")
    u = u + thread:get("unauthorized")
    o = o + thread:get("other")
  end
  io.write(string.format("flood statuses: 429=%d 401=%d other=%d\n", r, u, o))
end
