-- wrk script for tests/bench/serve_load.sh: sends the bearer token from LCRULES_TOKEN and
-- rotates GET /v1/eval through the contexts in LCRULES_CONTEXTS (space-separated), each
-- connection starting at a different one. Requests are built once; no response callback,
-- so wrk keeps its fast path (it counts non-2xx answers and socket errors itself).
local token = os.getenv("LCRULES_TOKEN")
local contexts = os.getenv("LCRULES_CONTEXTS") or "kind-dev"
local requests = {}
local next_index = 1

local thread_count = 0
function setup(thread)
  thread_count = thread_count + 1
  thread:set("start", thread_count)
end

function init(args)
  wrk.headers["Authorization"] = "Bearer " .. token
  for name in string.gmatch(contexts, "%S+") do
    requests[#requests + 1] = wrk.format("GET", "/v1/eval?context=" .. name)
  end
  next_index = ((start or 1) - 1) % #requests + 1
end

function request()
  local r = requests[next_index]
  next_index = next_index % #requests + 1
  return r
end
