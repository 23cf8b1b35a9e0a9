-- wrk calls done() once at the end: one machine-readable line for bench/load.py.
-- Errors: socket errors (connect, read, write, timeout) and HTTP statuses of 400 and above.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.connect + e.read + e.write + e.status + e.timeout))
end
