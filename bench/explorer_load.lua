-- wrk script for bench/explorer.py: rotate through the URL mix in FECFLOW_WRK_URLS (one path per
-- line), count every answer that is not 200, and print the summary as one JSON line.
local urls = {}
for line in io.lines(os.getenv("FECFLOW_WRK_URLS")) do
  urls[#urls + 1] = line
end
local i = 0
not_ok = 0 -- global: done() reads it from each thread
local threads = {}

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  i = math.random(#urls)
end

function request()
  i = i % #urls + 1
  return wrk.format("GET", urls[i])
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("not_ok")
  end
  local e = summary.errors
  io.write(string.format(
    'FECFLOW_WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "not_ok": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, bad, e.connect, e.read, e.write, e.timeout))
end
