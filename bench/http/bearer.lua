-- bearer.lua: wrk script sending "Authorization: Bearer <token>", cycling
-- through the tokens of the file given after "--" (one per line).
--   wrk ... -s bench/http/bearer.lua URL -- TOKENFILE
-- A one-line file gives "the same token every request" at the same client
-- cost as a long file. Each wrk thread starts at its own offset (thread k of
-- n at k/n of the list), so two threads never send the same token at about
-- the same time: with more tokens than keycard's cache holds, every request
-- is a cache miss.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local tokens = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  assert(#tokens > 0, "no tokens in " .. tostring(args[1]))
  local n = tonumber(args[2] or "1")
  i = math.floor(#tokens * (tid or 0) / n)
end

function request()
  i = i % #tokens + 1
  return wrk.format(nil, nil, { ["Authorization"] = tokens[i] })
end
