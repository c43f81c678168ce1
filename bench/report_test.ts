/**
 * The bench's own helpers: the `latest.json` writer (every row with id, value,
 * unit, target, met, baseline, samples; unmeasured values as null), the goal
 * table, `/proc/<pid>/stat` parsing, the nginx anchor's config, and the load
 * client against a real local server (counts answers, flags unexpected
 * statuses). No timing is asserted.
 * @module
 */
import assert from "node:assert/strict";
import { LoadClient, target } from "./load.ts";
import { nginxConfig } from "./nginx.ts";
import { parseStatCpuMs } from "./proc_stat.ts";
import { meets, renderGoals, resultDocument, row } from "./report.ts";

const sample = (value: number) =>
  row({
    id: "proxy.c32.backend_vs_nginx",
    scenario: "1 proxy",
    metric: "m",
    value,
    unit: "×",
    target: { op: ">=", value: 0.6 },
    baseline: { name: "nginx", value: 22_900.4, unit: "req/s" },
    samples: [value, NaN],
    show: { baseline: "b", measured: "m", compare: "c" },
  });

Deno.test("report: met follows the target; no value or no target → null", () => {
  assert.equal(sample(0.61).met, true);
  assert.equal(sample(0.59).met, false);
  assert.equal(sample(NaN).met, null);
  assert.equal(meets(3, null), null);
  assert.equal(meets(3, { op: "<=", value: 3 }), true);
});

Deno.test("report: latest.json rows carry the fields the issue names, as JSON values", () => {
  const doc = resultDocument([sample(0.28), sample(NaN)], { cores: 2 }, { mode: "quick" });
  const text = JSON.stringify(doc);
  const back = JSON.parse(text);
  assert.deepEqual(back.machine, { cores: 2 });
  assert.equal(back.mode, "quick");
  const [a, b] = back.rows;
  for (const k of ["id", "value", "unit", "target", "met", "baseline", "samples"]) {
    assert.ok(k in a, `row has ${k}`);
  }
  assert.equal(a.id, "proxy.c32.backend_vs_nginx");
  assert.equal(a.value, 0.28);
  assert.equal(a.met, false);
  assert.deepEqual(a.target, { op: ">=", value: 0.6 });
  assert.deepEqual(a.baseline, { name: "nginx", value: 22_900.4, unit: "req/s" });
  assert.deepEqual(a.samples, [0.28, null]);
  assert.equal(b.value, null);
  assert.equal(b.met, null);
});

Deno.test("report: the goal table lists every goal, a missing row as not run", () => {
  const t = renderGoals([{ id: "proxy.c32.backend_vs_nginx", goal: "≥ 0.6×" }, {
    id: "fanout.n32_vs_n1",
    goal: "≤ 3×",
  }], [sample(0.7)]);
  const lines = t.split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[2], /proxy\.c32\.backend_vs_nginx .*0\.70× .*nginx 22,900 req\/s .*yes/);
  assert.match(lines[3], /fanout\.n32_vs_n1 .*not run/);
});

Deno.test("proc stat: utime + stime are read after the command name, even one with spaces", () => {
  const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
  fields[11] = "250"; // utime (field 14), ticks
  fields[12] = "50"; // stime (field 15)
  const text = `1234 (deno (x) y) ${fields.join(" ")}`;
  assert.equal(parseStatCpuMs(text), 3000);
});

Deno.test("nginx anchor config: 1 worker, keepalive 64, HTTP/1.1 upstream, no access log, temp dir only", () => {
  const c = nginxConfig("/tmp/x", 8081, 9090);
  assert.match(c, /^worker_processes 1;$/m);
  assert.match(c, /^daemon off;$/m);
  assert.match(c, /access_log off;/);
  assert.match(c, /server 127\.0\.0\.1:9090;\s+keepalive 64;/);
  assert.match(c, /proxy_http_version 1\.1;/);
  assert.match(c, /proxy_set_header Connection "";/);
  assert.match(c, /listen 127\.0\.0\.1:8081;/);
  for (const m of c.matchAll(/(?:pid|error_log|_temp_path) (\S+)/g)) {
    assert.ok(m[1].startsWith("/tmp/x/"), `${m[0]} stays in the temp dir`);
  }
});

Deno.test("load client: counts answers over keep-alive and flags unexpected statuses", async () => {
  let served = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    served++;
    const u = new URL(req.url);
    if (req.headers.get("host") !== `127.0.0.1:${server.addr.port}`) {
      return new Response("bad host", { status: 403 });
    }
    return u.pathname === "/fail"
      ? new Response("no", { status: 500 })
      : Response.json({ ok: true, path: u.pathname });
  });
  const load = await LoadClient.start();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const ok = await load.throughput({
      target: target("ok", base, ["/a", "/b"]),
      concurrency: 4,
      warmupMs: 50,
      durationMs: 200,
      watch: { me: [Deno.pid] },
    });
    assert.ok(ok.requests > 0, "requests completed in the window");
    assert.equal(ok.bad, 0);
    assert.equal(ok.reconnects, 0);
    assert.ok(served >= ok.requests);
    assert.ok(Number.isFinite(ok.client_cpu_us));
    assert.ok("me" in ok.watched_cpu_us);

    const bad = await load.throughput({
      target: target("fail", base, ["/fail"]),
      concurrency: 2,
      warmupMs: 0,
      durationMs: 100,
    });
    assert.equal(bad.bad, bad.requests);
    assert.match(bad.bad_sample ?? "", /^HTTP\/1\.1 500/);

    const lat = await load.latency({
      targets: [target("a", base, ["/a"]), target("b", base, ["/b"])],
      warmupMs: 0,
      durationMs: 100,
    });
    assert.equal(lat.bad, 0);
    assert.ok(lat.latency.a.n > 0 && lat.latency.b.n > 0);
    assert.ok(Math.abs(lat.latency.a.n - lat.latency.b.n) <= 1, "targets interleaved");
  } finally {
    await load.close();
    await server.shutdown();
  }
});
