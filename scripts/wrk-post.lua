-- wrk script of scripts/bench-rekor and scripts/bench-ca: POSTs a different pre-built body per
-- request.
--
--   wrk -tT -cC -dD --latency -s scripts/wrk-post.lua URL -- BODIES PATH T CONTENT_TYPE [BEARER]
--
-- BODIES has one request body per line, hex-encoded (so DER bodies survive the line format);
-- PATH is the endpoint; T must equal wrk's -t; CONTENT_TYPE is sent as Content-Type; BEARER, if
-- given, names a file whose first line is sent as `Authorization: Bearer ...`. Thread i sends
-- lines i, i+T, i+2T, ... in order and starts over when it runs out (counted as "wrapped").
-- done() prints one line "WRK_JSON {...}" with the rate of 2xx answers, latency percentiles and
-- every status code seen.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local function unhex(s)
  return (s:gsub("%x%x", function(pair) return string.char(tonumber(pair, 16)) end))
end

function init(args)
  local file, path, nthreads, content_type, bearer_file =
    args[1], args[2], tonumber(args[3]), args[4], args[5]
  if not (file and path and nthreads and content_type) then
    error("usage: wrk ... -s wrk-post.lua URL -- BODIES PATH THREADS CONTENT_TYPE [BEARER_FILE]")
  end
  bodies = {}
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % nthreads == id then
        bodies[#bodies + 1] = unhex(line)
      end
      i = i + 1
    end
  end
  if #bodies == 0 then
    error("no bodies for thread " .. id .. " in " .. file)
  end
  req_path = path
  req_headers = { ["Content-Type"] = content_type }
  if bearer_file then
    local f = assert(io.open(bearer_file, "r"))
    local token = f:read("*l")
    f:close()
    req_headers["Authorization"] = "Bearer " .. token
  end
  cursor = 1
  wrapped = 0
  codes = {}
end

function request()
  if cursor > #bodies then
    cursor = 1
    wrapped = wrapped + 1
  end
  local body = bodies[cursor]
  cursor = cursor + 1
  return wrk.format("POST", req_path, req_headers, body)
end

function response(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

function done(summary, latency, requests)
  local status, wrapped_total, ok, non_ok = {}, 0, 0, 0
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("codes")) do
      status[code] = (status[code] or 0) + count
    end
    wrapped_total = wrapped_total + thread:get("wrapped")
  end
  local parts = {}
  for code, count in pairs(status) do
    parts[#parts + 1] = string.format('"%d":%d', code, count)
    if code >= 200 and code < 300 then
      ok = ok + count
    else
      non_ok = non_ok + count
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_s":%.3f,"requests_per_s":%.1f,"entries_per_s":%.1f,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
      .. '"status":{%s},"non_2xx":%d,"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"wrapped":%d}\n',
    summary.requests, seconds, summary.requests / seconds, ok / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    table.concat(parts, ","), non_ok, e.connect, e.read, e.write, e.timeout,
    wrapped_total))
end
