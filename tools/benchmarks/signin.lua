-- Sign in as BENCH_SIGNIN_USER with the right password, every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username": "' .. os.getenv("BENCH_SIGNIN_USER") .. '", "password": "'
  .. os.getenv("BENCH_SIGNIN_PASSWORD") .. '"}'
