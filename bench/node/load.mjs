// Load generator of the read bench (bench/reads.py): sends each precomputed request once.
//
//   node load.mjs <url> <requests.jsonl> <connections> <amount>
//
// requests.jsonl: line 1 = the headers every request carries (e.g. Authorization),
// then one JSON object of headers per request (e.g. a fresh DPoP proof). Each
// line is used at most once (a DPoP proof may not be replayed); `amount` requests
// are sent over `connections` keep-alive connections, one in flight on each.
// Prints one JSON object: {requests, seconds, requestsPerSecond (2xx), p50, p99
// (ms, 2xx only), non2xx, errors, timeouts, statusCodes, linesUsed}.

import autocannon from "autocannon";
import { readFileSync } from "node:fs";

const [url, file, connectionsArg, amountArg] = process.argv.slice(2);
if (!url || !file || !connectionsArg || !amountArg) {
  console.error("usage: node load.mjs <url> <requests.jsonl> <connections> <amount>");
  process.exit(2);
}
const connections = Number(connectionsArg);
const amount = Number(amountArg);
const lines = readFileSync(file, "utf8").split("\n").filter((line) => line.length > 0);
const common = JSON.parse(lines[0]);
const each = lines.slice(1).map((line) => JSON.parse(line));
if (each.length < amount + connections) {
  console.error(`need at least ${amount + connections} requests, the file has ${each.length}`);
  process.exit(2);
}

let next = 0;
const result = await autocannon({
  url,
  connections,
  amount,
  pipelining: 1,
  timeout: 30,
  requests: [
    {
      method: "POST",
      setupRequest(request) {
        const own = each[next++];
        if (own === undefined) throw new Error("ran out of precomputed requests");
        request.method = "POST";
        request.headers = { ...common, ...own };
        return request;
      },
    },
  ],
});

const ok = result["2xx"];
const seconds = result.duration;
console.log(
  JSON.stringify({
    requests: ok + result.non2xx,
    seconds,
    requestsPerSecond: ok / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: result.statusCodeStats,
    linesUsed: next,
  }),
);
