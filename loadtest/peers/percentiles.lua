done = function(summary, latency, requests)
  for _, p in pairs({50, 90, 95, 97, 98, 99, 99.5, 99.9}) do
    io.write(string.format("p%s=%.1fms ", p, latency:percentile(p)/1000))
  end
  io.write(string.format("max=%.1fms timeouts=%d connect_err=%d\n", latency.max/1000, summary.errors.timeout, summary.errors.connect))
end
