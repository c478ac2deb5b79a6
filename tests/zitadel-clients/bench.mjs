// The added cost per call of each RPC transport against the REST gateway, as a client sees it: the same call
// (ListIDPLinks of the token's own user) over REST (fetch) and over each transport of transports.mjs, one call at
// a time, the transports taken in a rotating order so that the machine's drift falls on all of them alike.
//   node bench.mjs --main http://127.0.0.1:5000 --grpc http://127.0.0.1:5001 --token eyJ… [--calls 300] [--user user-1]
// Prints a table and, last, one line "BENCH_JSON {…}".
import { parseArgs } from "node:util";
import { clientFor, transports } from "./transports.mjs";

const { values } = parseArgs({
  options: {
    main: { type: "string" }, grpc: { type: "string" }, token: { type: "string" },
    calls: { type: "string", default: "300" }, user: { type: "string", default: "user-1" },
  },
});
if (!values.main || !values.grpc || !values.token) {
  console.error("usage: node bench.mjs --main URL --grpc URL --token TOKEN [--calls N] [--user ID]");
  process.exit(2);
}
const calls = Number(values.calls);
const names = ["rest", ...Object.keys(transports)];

const callers = {
  rest: async () => {
    const answer = await fetch(`${values.main}/v2/users/${values.user}/links/_search`, {
      method: "POST", headers: { authorization: `Bearer ${values.token}`, "content-type": "application/json" }, body: "{}",
    });
    if (answer.status !== 200) throw new Error(`REST answered ${answer.status}`);
    await answer.arrayBuffer();
  },
};
for (const name of Object.keys(transports)) {
  const client = clientFor(name, name === "grpc" ? values.grpc : values.main, values.token);
  callers[name] = () => client.listIDPLinks({ userId: values.user });
}

const timings = Object.fromEntries(names.map((name) => [name, []]));
async function round(index, record) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(index + i) % names.length];
    const started = performance.now();
    await callers[name]();
    if (record) timings[name].push(performance.now() - started);
  }
}

for (let i = 0; i < 50; i++) await round(i, false);   // JIT, connections, token cache
for (let i = 0; i < calls; i++) {
  await round(i, true);
  if ((i + 1) % 100 === 0) console.error(`[bench] ${i + 1}/${calls} rounds`);
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];
const rows = names.map((name) => {
  const sorted = [...timings[name]].sort((a, b) => a - b);
  return { transport: name, calls: sorted.length, p50_ms: quantile(sorted, 0.5), p90_ms: quantile(sorted, 0.9) };
});
const rest = rows[0].p50_ms;
console.log(`ListIDPLinks, ${calls} calls per transport, one at a time, medians as the client sees them:`);
console.log("transport        p50 ms   p90 ms   added vs REST (p50)");
for (const row of rows) {
  row.added_ms = row.p50_ms - rest;
  console.log(`${row.transport.padEnd(15)} ${row.p50_ms.toFixed(3).padStart(7)}  ${row.p90_ms.toFixed(3).padStart(7)}   ${row.transport === "rest" ? "—" : `${row.added_ms >= 0 ? "+" : ""}${row.added_ms.toFixed(3)} ms (${(row.p50_ms / rest).toFixed(2)}×)`}`);
}
console.log("BENCH_JSON " + JSON.stringify({ calls, rows }));
