/**
 * RemoteRuntimeClient's REST calls against real runtime processes: every method, keep-alive
 * reuse, the lean path (bytes passed on as sent) and the redaction of the client itself.
 * Error mapping is `remote_errors_test.ts`, event streams `remote_stream_test.ts`.
 */
import assert from "node:assert/strict";
import { ApiError, newWorkerId } from "../../shared/mod.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";
import { RemoteEndpoint, Secret } from "../settings/secret.ts";
import { CAPABILITY_MAX_LIFE_SEC } from "../../shared/capability.ts";
import { CapabilityMinter, loadOrCreateBackendKey } from "./capability.ts";
import { RemoteRuntimeClient } from "./remote_client.ts";
import {
  assertNoLeak,
  CANARY,
  clientFor,
  expectApiError,
  fakeDetail,
  fakeServer,
  SLOW_CONFIG,
  waitIdle,
} from "../../tests/support/remote_fakes.ts";

Deno.test("Secret and RemoteEndpoint redact themselves and build URLs", () => {
  const s = new Secret(CANARY);
  assert.equal(s.reveal(), CANARY);
  assert.equal(String(s), "[redacted]");
  assert.equal(`${s}`, "[redacted]");
  assert.equal(JSON.stringify({ s }), '{"s":"[redacted]"}');
  assert.equal(Deno.inspect(s), "Secret([redacted])");
  assert.ok(!Deno.inspect({ nested: s }).includes(CANARY));

  const e = new RemoteEndpoint("https://runtime.example:8443/base/");
  assert.equal(String(e), "[redacted]");
  assert.equal(JSON.stringify(e), '"[redacted]"');
  assert.equal(Deno.inspect(e), "RemoteEndpoint([redacted])");
  assert.equal(e.url("/v1/runtime").href, "https://runtime.example:8443/base/v1/runtime");
  assert.equal(
    e.wsUrl("/v1/workers/a/events?after=3").href,
    "wss://runtime.example:8443/base/v1/workers/a/events?after=3",
  );
  assert.equal(
    new RemoteEndpoint("http://127.0.0.1:1234").wsUrl("/x").href,
    "ws://127.0.0.1:1234/x",
  );
  assert.throws(() => e.url("//evil.example/x"), TypeError);
  for (const bad of ["ftp://h/", "not a url", "http://u:p@h/", "http://h/?q=1", "http://h/#f"]) {
    assert.throws(() => new RemoteEndpoint(bad), (err: unknown) => {
      assert.ok(err instanceof ApiError && err.code === "invalid_endpoint");
      assert.ok(!err.message.includes(bad));
      return true;
    });
  }
});

Deno.test("every method works against a real runtime, and nothing leaks", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-ok", token: CANARY, config: SLOW_CONFIG });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-ok" });
  assertNoLeak(c, rt.url);
  assert.equal(String(c), "RemoteRuntimeClient(rc-ok, endpoint [redacted])");
  assert.deepEqual(JSON.parse(JSON.stringify(c)), { runtime_id: "rc-ok", endpoint: "[redacted]" });

  const summary = await c.runtime();
  assert.equal(summary.runtime_id, "rc-ok");
  assert.deepEqual(summary.protocol, { name: "yoi-worker-runtime", version: 1 });
  assert.ok(summary.profiles.includes("slow"));
  const raw = await c.probeRuntime() as { runtime: { runtime_id: string } };
  assert.equal(raw.runtime.runtime_id, "rc-ok");

  const w = await c.createWorker({ profile: "echo", display_name: "one", request_id: "req-1" });
  assert.equal(w.status, "idle");
  const again = await c.createWorker({ profile: "echo", request_id: "req-1" });
  assert.equal(again.worker_id, w.worker_id);
  assert.equal((await c.getWorker(w.worker_id)).display_name, "one");
  const list = await c.listWorkers();
  assert.deepEqual(list.workers.map((x) => x.worker_id), [w.worker_id]);
  assert.deepEqual(list.diagnostics, []);

  const ack = await c.input(w.worker_id, "hello");
  assert.equal(ack.worker_id, w.worker_id);
  const idle = await waitIdle(c, w.worker_id);
  assert.equal(idle.last_turn_outcome, "completed");
  const page = await c.transcript(w.worker_id, 0, 100);
  assert.ok(page.entries.some((e) => e.type === "turn.completed"));
  assert.equal(page.next_after, page.entries.at(-1)!.seq);
  const tail = await c.transcript(w.worker_id, 2, 1);
  assert.deepEqual(tail.entries.map((e) => e.seq), [3]);
  assert.equal((await c.cancel(w.worker_id)).status, "idle");

  // Remote typed errors keep their code; messages name the runtime id only.
  const slow = await c.createWorker({ profile: "slow" });
  await c.input(slow.worker_id, "a fairly long input for a slow echo");
  const busy = await expectApiError(c.input(slow.worker_id, "again"), "worker_busy");
  assert.match(busy.message, /^Runtime "rc-ok": /);
  assertNoLeak(busy, rt.url);
  assert.equal((await c.cancel(slow.worker_id)).status, "idle");
  assert.equal((await c.stop(slow.worker_id)).status, "stopped");
  assertNoLeak(await expectApiError(c.input(slow.worker_id, "x"), "worker_stopped"), rt.url);
  assertNoLeak(
    await expectApiError(c.createWorker({ profile: "nope" }), "unknown_profile"),
    rt.url,
  );
  const missing = newWorkerId();
  // One call at a time: promises made up front could reject before anything awaits them.
  for (
    const call of [
      () => c.getWorker(missing),
      () => c.input(missing, "x"),
      () => c.cancel(missing),
      () => c.stop(missing),
      () => c.transcript(missing, 0, 10),
    ]
  ) {
    assertNoLeak(await expectApiError(call(), "worker_not_found"), rt.url);
  }
  // Ids that are not worker ids are refused locally, never put into a path.
  await expectApiError(c.getWorker("../runtime"), "invalid_id");
  await expectApiError(c.transcript(w.worker_id, -1, 10), "invalid_request");
  assertNoLeak(c, rt.url);
});

Deno.test("calls reuse one kept-alive connection; a closed client keeps none", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-keep", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-keep" });
  const w = await c.createWorker({});
  for (let i = 0; i < 20; i++) await c.getWorker(w.worker_id);
  await Promise.all([c.listWorkers(), c.runtime(), c.transcript(w.worker_id, 0, 10)]);
  assert.ok(c.connectionsOpened <= 3, `${c.connectionsOpened} connections`);
  const before = c.connectionsOpened;
  for (let i = 0; i < 10; i++) await c.getWorker(w.worker_id);
  assert.equal(c.connectionsOpened, before, "sequential calls open nothing new");
  c.close();
  assert.equal((await c.getWorker(w.worker_id)).worker_id, w.worker_id, "still answers");
});

Deno.test("lean path: a worker detail and a transcript page are the runtime's own bytes", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-lean", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-lean" });
  const w = await c.createWorker({ display_name: "lean" });
  await c.input(w.worker_id, "hello");
  await waitIdle(c, w.worker_id);
  const direct = async (path: string) =>
    await (await fetch(`${rt.url}${path}`, { headers: { authorization: `Bearer ${CANARY}` } }))
      .text();
  const dec = new TextDecoder();
  const body = await c.getWorkerBody(w.worker_id);
  assert.equal(dec.decode(body.bytes), await direct(`/v1/workers/${w.worker_id}`));
  assert.equal(JSON.parse(dec.decode(body.bytes)).worker.runtime_id, "rc-lean");
  const page = await c.transcriptBody(w.worker_id, 1, 3);
  assert.equal(
    dec.decode(page.bytes),
    await direct(`/v1/workers/${w.worker_id}/transcript?after=1&limit=3`),
  );
  const res = body.response(200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal(await res.text(), dec.decode(body.bytes));
  assertNoLeak(await expectApiError(c.getWorkerBody(newWorkerId()), "worker_not_found"), rt.url);
  await expectApiError(c.getWorkerBody("../runtime"), "invalid_id");
});

Deno.test("lean path: the protocol check still refuses what the Backend would pass on", async () => {
  const wid = newWorkerId();
  const detail = { worker: { ...fakeDetail(wid), runtime_id: "test" } };
  // FAKE: a runtime answering each path with one kind of wrong answer.
  const { server, url } = fakeServer((req) => {
    const path = new URL(req.url).pathname;
    const kind = path.split("/")[1];
    if (kind === "text") return new Response(JSON.stringify(detail)); // text/plain
    if (kind === "array") return Response.json([detail]);
    if (kind === "badid") {
      return Response.json({ workers: [{ ...detail.worker, worker_id: "../x" }], diagnostics: [] });
    }
    if (kind === "noseq") return Response.json({ ack: { worker_id: wid, status: "busy" } });
    return Response.json(detail);
  });
  const at = (p: string) => clientFor(`${url}/${p}`, { token: CANARY });
  try {
    assert.equal(
      JSON.parse(new TextDecoder().decode((await at("ok").getWorkerBody(wid)).bytes)).worker
        .worker_id,
      wid,
    );
    for (const p of ["text", "array"]) {
      assertNoLeak(
        await expectApiError(at(p).getWorkerBody(wid), "remote_runtime_malformed_response"),
        url,
      );
    }
    await expectApiError(at("badid").listWorkers(), "remote_runtime_malformed_response");
    await expectApiError(at("noseq").input(wid, "x"), "remote_runtime_malformed_response");
    // FAKE: the same answer from another runtime behind the endpoint.
    const other = fakeServer(() => Response.json(detail), "someone-else");
    try {
      const e = await expectApiError(
        clientFor(other.url, { token: CANARY }).getWorkerBody(wid),
        "runtime_id_mismatch",
      );
      assertNoLeak(e, other.url);
    } finally {
      await other.server.shutdown();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("reads reuse their pre-built header lines until the read token is renewed", async () => {
  // FAKE: a server that records the Authorization of each read (a runtime would only say 401).
  const seen: string[] = [];
  const wid = newWorkerId();
  const { server, url } = fakeServer((req) => {
    seen.push(req.headers.get("authorization") ?? "");
    return Response.json({ worker: { ...fakeDetail(wid), runtime_id: "test" } });
  });
  const dir = await Deno.makeTempDir();
  try {
    let now = 1_000_000;
    const caps = new CapabilityMinter(await loadOrCreateBackendKey(dir), { now: () => now });
    const c = new RemoteRuntimeClient({
      runtimeId: "test",
      endpoint: new RemoteEndpoint(url),
      capabilities: caps,
    });
    for (let i = 0; i < 3; i++) await c.getWorkerBody(wid);
    now += CAPABILITY_MAX_LIFE_SEC - 10; // within the renewal window: a new read token
    for (let i = 0; i < 2; i++) await c.getWorkerBody(wid);
    assert.equal(seen.length, 5);
    assert.ok(seen.every((a) => a.startsWith("Bearer ey")), "capability tokens sent");
    assert.equal(new Set(seen.slice(0, 3)).size, 1, "one read token reused");
    assert.equal(new Set(seen.slice(3)).size, 1);
    assert.notEqual(seen[3], seen[0], "the renewed token is sent, not the old lines");
    c.close();
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
