-- bench/batch.lua — wrk script for cairn's Tracking API (and its ceilings).
--
--   wrk -t2 -c64 -d10s -s bench/batch.lua URL -- MODE SIZE USERS WRITEKEY [DELAY_MS] [MAX_REQ]
--
--   MODE      batch  -> POST /v1/batch with SIZE track events per request
--             track  -> POST /v1/track with one event per request
--   USERS     userIds are drawn uniformly from u0000000 .. u(USERS-1)
--   WRITEKEY  sent as the HTTP Basic user name, empty password
--   DELAY_MS  mean think time per connection between requests (0 = closed
--             loop); drawn so that fractional means work (2.4 -> 2 or 3)
--   MAX_REQ   stop each thread after this many responses (0 = no limit;
--             wrk's -d still bounds the run)
--
-- Every event carries a fresh random UUID v4 messageId, so nothing is a
-- duplicate. Bodies are ~500-byte realistic events, assembled from pre-built
-- fragments so the generator stays cheap next to the server on 2 cores.
-- done() prints one line "BENCHJSON {...}" that bench/run.mjs parses.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

local mode, size, users, delay_ms, max_req
local fragments, nfrag
local auth
local sent, got = 0, 0
local hex = {}
for i = 0, 255 do hex[i] = string.format("%02x", i) end
local random = math.random
local concat = table.concat

local function b64(s)
  local t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  return ((s:gsub(".", function(x)
    local r, b = "", x:byte()
    for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
    return r
  end) .. "0000"):gsub("%d%d?%d?%d?%d?%d?", function(x)
    if #x < 6 then return "" end
    local c = 0
    for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
    return t:sub(c + 1, c + 1)
  end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local function uuid()
  local a, b, c, d = random(0, 65535), random(0, 65535), random(0, 65535), random(0, 65535)
  local e, f, g, h = random(0, 65535), random(0, 65535), random(0, 4095), random(0, 16383)
  return string.format("%04x%04x-%04x-4%03x-%04x-%04x%04x%04x", a, b, c, g, 32768 + h, d, e, f)
end

local products = { "Trail Running Shoe", "Merino Wool Sweater", "Espresso Grinder", "Noise Cancelling Headphones",
  "Cast Iron Skillet", "Yoga Mat Pro", "Leather Weekender Bag", "Ceramic Pour-Over Set" }
local categories = { "Footwear", "Apparel", "Kitchen", "Electronics", "Home", "Fitness", "Travel" }
local events = { "Product Viewed", "Product Added", "Checkout Started", "Order Completed", "Product Clicked" }
local agents = {
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
}

function init(args)
  mode = args[1] or "batch"
  size = tonumber(args[2] or "100")
  users = tonumber(args[3] or "100000")
  local key = args[4] or ""
  delay_ms = tonumber(args[5] or "0")
  max_req = tonumber(args[6] or "0")
  if mode == "track" then size = 1 end
  math.randomseed(os.time() * 1000 + (tid or 0) * 7919 + math.floor(os.clock() * 1e6))
  for _ = 1, 10 do random() end
  auth = "Basic " .. b64(key .. ":")
  local ts = os.date("!%Y-%m-%dT%H:%M:%S.000Z")
  -- each fragment is the tail of one event after messageId and userId
  fragments = {}
  for i = 1, 64 do
    local p = products[random(#products)]
    local price = random(500, 25000) / 100
    local sku = string.format("SKU-%05d", random(0, 99999))
    fragments[i] = string.format(
      '","event":"%s","timestamp":"%s","properties":{"product_id":"%s","sku":"%s","name":"%s",' ..
      '"category":"%s","price":%.2f,"currency":"USD","quantity":%d,"coupon":"SPRING%02d",' ..
      '"url":"https://shop.example.com/products/%s","position":%d},' ..
      '"context":{"ip":"203.0.113.%d","locale":"en-US","userAgent":"%s",' ..
      '"library":{"name":"analytics-node","version":"2.1.0"}}}',
      events[random(#events)], ts, sku, sku, p, categories[random(#categories)], price, random(1, 4),
      random(0, 30), sku:lower(), random(1, 48), random(1, 254), agents[random(#agents)])
  end
  nfrag = #fragments
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = auth
  if mode == "track" then wrk.path = "/v1/track" else wrk.path = "/v1/batch" end
end

local function event(prefix)
  return prefix .. uuid() .. '","userId":"u' .. string.format("%07d", random(0, users - 1)) .. fragments[random(nfrag)]
end

function request()
  sent = sent + 1
  local body
  if mode == "track" then
    body = event('{"messageId":"')
  else
    local parts = {}
    for i = 1, size do parts[i] = event('{"type":"track","messageId":"') end
    body = '{"batch":[' .. concat(parts, ",") .. "]}"
  end
  return wrk.format(nil, nil, nil, body)
end

local function pick_delay()
  local base = math.floor(delay_ms)
  if random() < delay_ms - base then return base + 1 end
  return base
end

-- delay() and response() are installed only when wanted: wrk checks for
-- them after init(), and response() costs header parsing
local function on_response(status, headers, body)
  got = got + 1
  if max_req > 0 and got >= max_req then wrk.thread:stop() end
end

local real_init = init
init = function(args)
  real_init(args)
  if delay_ms > 0 then delay = pick_delay end
  if max_req > 0 then response = on_response end
end

function done(summary, latency, requests)
  local e = summary.errors
  local ok = summary.requests - e.status
  io.write(string.format(
    'BENCHJSON {"duration_us":%d,"requests":%d,"ok":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
    summary.duration, summary.requests, ok, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency.mean, latency.max, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency:percentile(99.9)))
end
