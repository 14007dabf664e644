-- bench/inject_wrk.lua — wrk body for POST /api/v1/inject: INJECT_RCPTS (default 100)
-- recipients with their own substitutions, so each request makes that many
-- messages of about 1 KB (the size smtpblast sends by default).
local n = tonumber(os.getenv("INJECT_RCPTS") or "100")
local filler = string.rep("All work and no play makes a fast relay. ", 20)
local content = "From: Bench <bench@bench.test>\r\nSubject: Hello {{name}}\r\nTo: {{email}}\r\n\r\nHi {{name}},\r\n" .. filler .. "\r\n"
local rcpts = {}
for i = 1, n do
  rcpts[#rcpts + 1] = string.format('{"email":"r%d@bench.test","substitutions":{"name":"N%d","email":"r%d@bench.test"}}', i, i, i)
end
wrk.method = "POST"
wrk.path = "/api/v1/inject"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"envelope_sender":"bounces@bench.test","content":"' .. content:gsub("\r", "\\r"):gsub("\n", "\\n") .. '","recipients":[' .. table.concat(rcpts, ",") .. ']}'
