-- wrk script for loadtest/bench.sh's upload scenario: every request is a POST of a 64 KiB body
wrk.method = "POST"
wrk.body = string.rep("u", 65536)
wrk.headers["Content-Type"] = "application/octet-stream"
