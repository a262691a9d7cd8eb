-- wrk script of scripts/bench-rekor: POSTs a different pre-signed body per request.
--
--   wrk -tT -cC -dD --latency -s scripts/wrk-rekor.lua URL -- BODIES PATH T
--
-- BODIES has one JSON request body per line; PATH is the endpoint (/api/v1/log/entries or
-- /api/v2/log/entries); T must equal wrk's -t. Thread i sends lines i, i+T, i+2T, ... in order,
-- so threads never send the same body; a thread that runs out starts over (its repeats are
-- duplicates, reported as "wrapped"). done() prints one line "WRK_JSON {...}" with the rate of
-- 2xx answers, latency percentiles and every status code seen.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local file, path, nthreads = args[1], args[2], tonumber(args[3])
  if not (file and path and nthreads) then
    error("usage: wrk ... -s wrk-rekor.lua URL -- BODIES PATH THREADS")
  end
  bodies = {}
  local i = 0
  for line in io.lines(file) do
    if line ~= "" then
      if i % nthreads == id then
        bodies[#bodies + 1] = line
      end
      i = i + 1
    end
  end
  if #bodies == 0 then
    error("no bodies for thread " .. id .. " in " .. file)
  end
  req_path = path
  req_headers = { ["Content-Type"] = "application/json" }
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
