-- wrk script for the scheme-server benchmark: every request asks for the latest version of a
-- scheme picked at random from BENCH_TARGETS (lines "<path> <etag>", see server_seed.py),
-- with the reader token from BENCH_TOKEN. BENCH_MODE=304 sends If-None-Match with the
-- current ETag (a revalidation, answered 304); BENCH_MODE=full sends none (the whole
-- document, 200). At the end it prints one line "RESULT {json}" for server_bench.sh.
local paths, etags = {}, {}
local mode = os.getenv("BENCH_MODE") or "304"
local token = os.getenv("BENCH_TOKEN")

init = function(args)
  for line in io.lines(os.getenv("BENCH_TARGETS")) do
    local p, e = line:match("^(%S+)%s+(%S+)$")
    if p then
      paths[#paths + 1] = p
      etags[#etags + 1] = e
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  local i = math.random(#paths)
  local headers = { ["Authorization"] = "Bearer " .. token }
  if mode == "304" then
    headers["If-None-Match"] = '"' .. etags[i] .. '"'
  end
  return wrk.format("GET", paths[i], headers)
end

done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout
  io.write(string.format(
    'RESULT {"requests": %d, "seconds": %.2f, "rps": %.1f, "bytes": %d, ' ..
    '"p50_ms": %.2f, "p90_ms": %.2f, "p99_ms": %.2f, "max_ms": %.2f, ' ..
    '"socket_errors": %d, "bad_status": %d}\n',
    summary.requests, seconds, summary.requests / seconds, summary.bytes,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, errors, summary.errors.status))
end
