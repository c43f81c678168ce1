/**
 * Bad input never gets a 500, an untyped body, a stack trace or a local path:
 * a bounded sweep of odd paths, methods and bodies against a real Backend and
 * a real runtime process.
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const BODIES = [
  undefined,
  "",
  "null",
  "[]",
  "{}",
  '{"text":""}',
  '{"text":5}',
  '{"text":"x","extra":1}',
  '{"id":1}',
  '{"id":"a","endpoint":"http://x"}',
  '{"profile":"../x"}',
  '{"request_id":""}',
  `{"display_name":"${"x".repeat(200)}"}`,
  "\u0000\u0001",
  "{".repeat(5000),
];
const METHODS = ["GET", "POST", "DELETE", "PUT", "PATCH"];
const WID = "0190a000-0000-7000-8000-000000000000";

async function sweep(base: string, paths: string[], headers: Record<string, string>) {
  const problems: string[] = [];
  let n = 0;
  for (const p of paths) {
    for (const m of METHODS) {
      for (const b of m === "GET" ? [undefined] : BODIES) {
        const h: Record<string, string> = { ...headers };
        if (b !== undefined) h["content-type"] = "application/json";
        const r = await fetch(base + p, { method: m, headers: h, body: b });
        const t = await r.text();
        n++;
        const what = `${m} ${p} ${JSON.stringify(b?.slice(0, 20))} → ${r.status}`;
        // 501/502/504 are the typed remote-runtime mappings; nothing else may be 5xx.
        if (r.status >= 500 && ![501, 502, 504].includes(r.status)) {
          problems.push(`${what} ${t.slice(0, 120)}`);
        }
        const html = (r.headers.get("content-type") ?? "").includes("html");
        if (r.status >= 400 && !html && !t.startsWith('{"error":{"code":')) {
          problems.push(`${what} untyped: ${t.slice(0, 80)}`);
        }
        if (/at file:|\/work\/|\/tmp\/|node_modules/.test(t)) problems.push(`${what} leaks a path`);
      }
    }
  }
  return { n, problems };
}

Deno.test("backend: odd paths, methods and bodies get typed errors, never a 500 or a path", async () => {
  await using be = await BackendProcess.start({
    config: `[[runtimes.remote]]\nid = "r"\nendpoint = "http://127.0.0.1:9"\n`,
  });
  const w = `/api/runtimes/embedded/workers/${WID}`;
  const { n, problems } = await sweep(be.url, [
    "/api/runtimes",
    "/api/runtimes/embedded/workers",
    "/api/runtimes/r/workers",
    "/api/workers",
    "/api/backend",
    w,
    `${w}/input`,
    `${w}/transcript?after=-1&limit=99999999`,
    "/api/settings/runtime-connections",
    "/api/settings/runtime-connections/r",
    "/api/settings/runtime-connections/r/test",
    "/api/settings/runtime-connections/test",
    "/api/settings/runtime-connections/r?force=maybe",
    "/api/runtimes/%00/workers",
    `/api/runtimes/${"a".repeat(5000)}`,
    "/runtimes/embedded/workers/zzz",
    "/api/settings/runtime-connections/%2e%2e",
  ], { "x-yoi-request": "1" });
  assert.ok(n > 800, `swept ${n} requests`);
  assert.deepEqual(problems, []);
});

Deno.test("runtime: odd paths, methods and bodies get typed errors, never a 500", async () => {
  await using rt = await RuntimeProcess.start({});
  const res = await fetch(`${rt.url}/v1/workers`, { method: "POST" });
  const w = (await res.json()).worker.worker_id;
  const { n, problems } = await sweep(rt.url, [
    "/v1/runtime",
    "/v1/workers",
    `/v1/workers/${w}`,
    `/v1/workers/${w}/input`,
    `/v1/workers/${w}/cancel`,
    `/v1/workers/${w}/transcript?after=abc`,
    `/v1/workers/${w}/events?after=-5`,
    "/v1/workers/%ZZ",
    "/v1/workers/../../etc/passwd",
    "/",
  ], {});
  assert.ok(n > 500, `swept ${n} requests`);
  assert.deepEqual(problems, []);
});
