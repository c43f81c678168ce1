/**
 * RemoteRuntimeClient against real runtime processes, plus tiny fake servers
 * (Deno.serve / Deno.listen on 127.0.0.1:0) for misbehaving remotes that a
 * real Runtime cannot be made to imitate: those are marked "FAKE" below.
 */
import assert from "node:assert/strict";
import {
  ApiError,
  type ControlFrame,
  type ErrorCode,
  newWorkerId,
  type WorkerDetail,
  type WorkerEvent,
} from "../../shared/mod.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";
import { RemoteRuntimeClient, type StreamFrame } from "./remote_client.ts";
import { RemoteEndpoint, Secret } from "../settings/secret.ts";

const CANARY = "canary-token-XYZ";
const SLOW_CONFIG = `[profiles.slow]\nengine = "echo"\nchunk_chars = 1\ndelay_ms = 20\n`;

function clientFor(
  url: string,
  opts: { token?: string; timeoutMs?: number; maxResponseBytes?: number; id?: string } = {},
): RemoteRuntimeClient {
  return new RemoteRuntimeClient({
    runtimeId: opts.id ?? "test",
    endpoint: new RemoteEndpoint(url),
    token: opts.token === undefined ? undefined : new Secret(opts.token),
    timeoutMs: opts.timeoutMs,
    maxResponseBytes: opts.maxResponseBytes,
  });
}

/** Fails when a URL, host, port or token shows up anywhere an error or client is printed. */
function assertNoLeak(subject: unknown, url: string, extra: string[] = []) {
  const u = new URL(url);
  const needles = [url, u.host, `:${u.port}`, u.port, u.hostname, CANARY, ...extra]
    .filter((n) => n !== "");
  const views: string[] = [String(subject), Deno.inspect(subject), JSON.stringify(subject)];
  if (subject instanceof ApiError) {
    views.push(subject.message, JSON.stringify(subject.toBody()));
  }
  for (const view of views) {
    for (const n of needles) {
      assert.ok(!view.includes(n), `leaked ${JSON.stringify(n)} in: ${view}`);
    }
  }
}

async function expectApiError(p: Promise<unknown>, code: ErrorCode): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, `expected ApiError, got ${e}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ApiError ${code}, but the call succeeded`);
}

async function waitFor(cond: () => boolean | Promise<boolean>, ms = 10_000, what = "condition") {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function waitIdle(c: RemoteRuntimeClient, id: string): Promise<WorkerDetail> {
  let d!: WorkerDetail;
  await waitFor(async () => (d = await c.getWorker(id)).status === "idle", 10_000, "idle");
  return d;
}

/**
 * A FAKE remote: a Deno.serve on 127.0.0.1:0 with the given handler. Its answers name
 * runtime `id` in `Yoi-Runtime-Id` (null: no header, like a server that is no runtime).
 */
function fakeServer(
  handler: Deno.ServeHandler<Deno.NetAddr>,
  id: string | null = "test",
) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req, info) => {
      const res = await handler(req, info);
      if (id !== null && res.status !== 101) res.headers.set("yoi-runtime-id", id);
      return res;
    },
  );
  return { server, url: `http://127.0.0.1:${server.addr.port}` };
}

/** The frame a runtime's event stream opens with. */
function openedFrame(runtimeId: string, workerId: string, after: number): string {
  return JSON.stringify({
    type: "stream.opened",
    runtime_id: runtimeId,
    worker_id: workerId,
    after,
  });
}

function fakeDetail(workerId: string): WorkerDetail {
  const now = new Date().toISOString();
  return {
    runtime_id: "fake",
    worker_id: workerId,
    display_name: "fake worker",
    profile: "echo",
    status: "idle",
    created_at: now,
    updated_at: now,
    last_seq: 0,
    turn_count: 0,
    last_turn_outcome: null,
  };
}

function fakeEvent(workerId: string, seq: number): WorkerEvent {
  return {
    seq,
    worker_id: workerId,
    at: new Date().toISOString(),
    type: "output.delta",
    data: { text: String(seq) },
  };
}

// ---------------------------------------------------------------------------

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

Deno.test("a wrong or missing token is remote_runtime_auth_failed", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-auth", token: CANARY });
  const wrong = clientFor(rt.url, { token: "wrong-token-ABC", id: "rc-auth" });
  const e1 = await expectApiError(wrong.runtime(), "remote_runtime_auth_failed");
  assert.equal(e1.status, 401);
  assertNoLeak(e1, rt.url, ["wrong-token-ABC"]);
  assertNoLeak(wrong, rt.url, ["wrong-token-ABC"]);
  assertNoLeak(
    await expectApiError(wrong.probeRuntime(), "remote_runtime_auth_failed"),
    rt.url,
  );
  const none = clientFor(rt.url, { id: "rc-auth" });
  const e2 = await expectApiError(none.listWorkers(), "remote_runtime_auth_failed");
  assert.match(e2.message, /none is configured/);
  assertNoLeak(e2, rt.url);
});

Deno.test("a server that never answers is remote_runtime_timeout within the deadline", async () => {
  // FAKE: accepts TCP connections and never writes a byte.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${listener.addr.port}`;
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* listener closed */ }
  })();
  try {
    const c = clientFor(url, { timeoutMs: 300, token: CANARY });
    const t0 = performance.now();
    const err = await expectApiError(c.runtime(), "remote_runtime_timeout");
    const took = performance.now() - t0;
    assert.ok(took >= 250 && took < 1800, `took ${took} ms`);
    assert.equal(err.status, 504);
    assertNoLeak(err, url);
    // A caller's own deadline is honoured too.
    const t1 = performance.now();
    await expectApiError(
      clientFor(url, { timeoutMs: 10_000 }).listWorkers(AbortSignal.timeout(200)),
      "remote_runtime_timeout",
    );
    assert.ok(performance.now() - t1 < 1800);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }
});

Deno.test("a killed runtime or closed port is remote_runtime_unavailable", async () => {
  const rt = await RuntimeProcess.start({ id: "rc-dead", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-dead" });
  await c.runtime();
  await rt.kill("SIGKILL");
  const err = await expectApiError(c.runtime(), "remote_runtime_unavailable");
  assert.equal(err.status, 502);
  assert.match(err.message, /^Runtime "rc-dead" /);
  assertNoLeak(err, rt.url);
  assertNoLeak(
    await expectApiError(c.getWorker(newWorkerId()), "remote_runtime_unavailable"),
    rt.url,
  );
});

Deno.test("malformed answers are remote_runtime_malformed_response", async (t) => {
  const FIVE_MB = 5 * 1024 * 1024;
  let served = 0;
  // FAKE: a server that answers with garbage of several kinds.
  const { server, url } = fakeServer((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/text/v1/runtime") return new Response("<html>hello</html>");
    if (path === "/shape/v1/runtime") return Response.json({ runtime: { runtime_id: "x" } });
    if (path === "/huge/v1/runtime") {
      const chunk = new Uint8Array(64 * 1024).fill(0x20);
      return new Response(
        new ReadableStream<Uint8Array>({
          pull(ctrl) {
            if (served >= FIVE_MB) return ctrl.close();
            served += chunk.byteLength;
            ctrl.enqueue(chunk);
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    if (path === "/declared/v1/runtime") {
      return new Response("x".repeat(FIVE_MB), { headers: { "content-type": "application/json" } });
    }
    return new Response("?", { status: 418 });
  });
  try {
    for (const name of ["text", "shape", "huge", "declared"]) {
      await t.step(name, async () => {
        const c = clientFor(`${url}/${name}`, { token: CANARY });
        const err = await expectApiError(c.runtime(), "remote_runtime_malformed_response");
        assert.equal(err.status, 502);
        assertNoLeak(err, url);
      });
    }
    // The raw probe does no schema check but still refuses non-JSON and huge bodies.
    const shape = await clientFor(`${url}/shape`).probeRuntime();
    assert.deepEqual(shape, { runtime: { runtime_id: "x" } });
    await expectApiError(
      clientFor(`${url}/text`).probeRuntime(),
      "remote_runtime_malformed_response",
    );
    await expectApiError(
      clientFor(`${url}/huge`).probeRuntime(),
      "remote_runtime_malformed_response",
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("a redirect is remote_runtime_unavailable and its target is never contacted", async () => {
  let targetHits = 0;
  // FAKE: the redirect target counts every request it gets.
  const target = fakeServer(() => {
    targetHits++;
    return Response.json({ runtime: {} });
  });
  // FAKE: a server that redirects everything to the target.
  const redirector = fakeServer((req) =>
    new Response(null, {
      status: 307,
      headers: { location: `${target.url}${new URL(req.url).pathname}` },
    })
  );
  try {
    const c = clientFor(redirector.url, { token: CANARY });
    for (const call of [() => c.runtime(), () => c.probeRuntime(), () => c.createWorker({})]) {
      const err = await expectApiError(call(), "remote_runtime_unavailable");
      assert.match(err.message, /redirect/);
      assertNoLeak(err, redirector.url);
      assertNoLeak(err, target.url);
    }
    assert.equal(targetHits, 0);
  } finally {
    await redirector.server.shutdown();
    await target.server.shutdown();
  }
});

Deno.test("remote error statuses map to typed codes", async () => {
  // FAKE: answers each path with a chosen status and body.
  const { server, url } = fakeServer((req) => {
    const path = new URL(req.url).pathname;
    const body = (code: string) => ({
      error: { code, message: `remote says ${code}` },
      diagnostics: [],
    });
    switch (path.split("/")[1]) {
      case "e500":
        return Response.json(body("internal_error"), { status: 500 });
      case "plain500":
        return new Response("oops", { status: 500 });
      case "e501":
        return new Response("nope", { status: 501 });
      case "route404":
        return Response.json(body("not_found"), { status: 404 });
      case "bare404":
        return new Response("Not Found", { status: 404 });
      case "unsupported":
        return Response.json(body("unsupported_operation"), { status: 400 });
      case "stopping":
        return Response.json(body("runtime_stopping"), { status: 503 });
      case "forbidden":
        return new Response("no", { status: 403 });
      case "leaky":
        return Response.json({
          error: { code: "invalid_request", message: `bad \u0007 token ${CANARY} at ${req.url}` },
          diagnostics: [],
        }, { status: 400 });
    }
    return new Response("?", { status: 418 });
  }, "fake");
  const at = (p: string) => clientFor(`${url}/${p}`, { token: CANARY, id: "fake" });
  try {
    const e500 = await expectApiError(at("e500").runtime(), "remote_runtime_unavailable");
    assert.deepEqual(e500.diagnostics, [{
      code: "remote_runtime_error",
      severity: "error",
      message: "runtime fake answered 500 internal_error",
    }]);
    const plain = await expectApiError(at("plain500").listWorkers(), "remote_runtime_unavailable");
    assert.equal(plain.diagnostics[0].message, "runtime fake answered 500");
    await expectApiError(at("e501").listWorkers(), "remote_runtime_unsupported");
    await expectApiError(at("route404").listWorkers(), "remote_runtime_unsupported");
    await expectApiError(at("bare404").runtime(), "remote_runtime_unsupported");
    await expectApiError(at("unsupported").createWorker({}), "remote_runtime_unsupported");
    const stopping = await expectApiError(at("stopping").listWorkers(), "runtime_stopping");
    assert.equal(stopping.message, 'Runtime "fake": remote says runtime_stopping');
    await expectApiError(at("forbidden").runtime(), "remote_runtime_auth_failed");
    const leaky = await expectApiError(at("leaky").runtime(), "invalid_request");
    assert.ok(!leaky.message.includes("\u0007"));
    assertNoLeak(leaky, url);
    for (const e of [e500, plain, stopping]) assertNoLeak(e, url);
  } finally {
    await server.shutdown();
  }
});

// ---- events ---------------------------------------------------------------

/** Consumes a stream into `frames` until it ends; rethrows what it throws. */
function collect(gen: AsyncIterable<StreamFrame>, frames: StreamFrame[]): Promise<void> {
  return (async () => {
    for await (const f of gen) frames.push(f);
  })();
}

const eventsOf = (frames: StreamFrame[]) =>
  frames.filter((f): f is WorkerEvent => "seq" in f && typeof f.seq === "number");
const controlsOf = (frames: StreamFrame[]) =>
  frames.filter((f): f is ControlFrame => !("seq" in f)).map((f) => f.type);

Deno.test("events: replays and follows a turn, then stops on abort", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-ev", token: CANARY, config: SLOW_CONFIG });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-ev" });
  const w = await c.createWorker({ profile: "slow" });
  const ac = new AbortController();
  const frames: StreamFrame[] = [];
  const done = collect(await c.openEvents(w.worker_id, 0, { signal: ac.signal }), frames);
  await c.input(w.worker_id, "stream me");
  await waitFor(() => eventsOf(frames).some((e) => e.type === "turn.completed"), 10_000, "turn");
  await waitFor(() => eventsOf(frames).at(-1)?.type === "worker.status", 5_000, "idle status");
  ac.abort();
  await done;
  const page = await c.transcript(w.worker_id, 0, 1000);
  assert.deepEqual(eventsOf(frames), page.entries);
  assert.deepEqual(controlsOf(frames), []);
  assert.equal(
    eventsOf(frames).filter((e) => e.type === "output.delta").map((e) => e.data.text).join(""),
    "stream me",
  );

  // Resuming from a seq replays only what follows it.
  const ac2 = new AbortController();
  const later: StreamFrame[] = [];
  const done2 = collect(c.events(w.worker_id, 5, { signal: ac2.signal }), later);
  await waitFor(() => eventsOf(later).length === page.entries.length - 5, 5_000, "replay");
  ac2.abort();
  await done2;
  assert.deepEqual(eventsOf(later), page.entries.slice(5));
});

Deno.test("events: unknown worker throws, bad token yields stream.closed", async () => {
  await using rt = await RuntimeProcess.start({ id: "rc-ev2", token: CANARY });
  const c = clientFor(rt.url, { token: CANARY, id: "rc-ev2" });
  const ac = new AbortController();
  const frames: StreamFrame[] = [];
  const err = await expectApiError(
    collect(c.events(newWorkerId(), 0, { signal: ac.signal }), frames),
    "worker_not_found",
  );
  assert.deepEqual(frames, []);
  assertNoLeak(err, rt.url);
  await expectApiError(c.openEvents(newWorkerId(), 0, { signal: ac.signal }), "worker_not_found");

  const w = await c.createWorker({});
  const bad = clientFor(rt.url, { token: "wrong-token-ABC", id: "rc-ev2" });
  const got: StreamFrame[] = [];
  await collect(bad.events(w.worker_id, 0, { signal: ac.signal }), got);
  assert.equal(got.length, 1);
  const closed = got[0] as ControlFrame;
  assert.equal(closed.type, "stream.closed");
  assert.equal(closed.code, "remote_runtime_auth_failed");
  assertNoLeak(closed, rt.url, ["wrong-token-ABC"]);
  ac.abort();
});

Deno.test("events: duplicates are dropped, lagging resumes silently, drops resume loudly", async () => {
  const wid = newWorkerId();
  const afters: number[] = [];
  // FAKE: a runtime whose WS misbehaves in a scripted way on each connection.
  const { server, url } = fakeServer((req) => {
    const u = new URL(req.url);
    if (u.pathname === `/v1/workers/${wid}`) return Response.json({ worker: fakeDetail(wid) });
    if (u.pathname !== `/v1/workers/${wid}/events`) return new Response("?", { status: 404 });
    if (req.headers.get("authorization") !== `Bearer ${CANARY}`) {
      return new Response("no", { status: 401 });
    }
    const after = Number(u.searchParams.get("after"));
    const n = afters.push(after);
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => {
      const send = (x: unknown) => socket.send(typeof x === "string" ? x : JSON.stringify(x));
      send(openedFrame("fake", wid, after));
      if (n === 1) {
        // 1 2 3, a duplicate, then junk: the junk is a stream.error and a reconnect from 3.
        for (const s of [1, 2, 3]) send(fakeEvent(wid, s));
        send(fakeEvent(wid, 2));
        send("not json");
        send(fakeEvent(wid, 4)); // never read: the follower reconnected after the junk
      } else if (n === 2) {
        // Replays already-seen seqs, then says the consumer lagged.
        for (const s of [2, 3, 4]) send(fakeEvent(wid, s));
        send({ type: "stream.closed", code: "stream_lagging", message: "lag", after: 4 });
        socket.close(4000, "stream_lagging");
      } else {
        // An event type this Backend does not know yet is forwarded, not dropped.
        send({ ...fakeEvent(wid, 5), type: "future.kind", data: { x: 1 } });
        send(fakeEvent(wid, 6));
      }
    };
    return response;
  }, "fake");
  try {
    const c = clientFor(url, { token: CANARY, id: "fake" });
    const ac = new AbortController();
    const frames: StreamFrame[] = [];
    const done = collect(c.events(wid, 0, { signal: ac.signal, backoffMs: [20] }), frames);
    await waitFor(() => eventsOf(frames).some((e) => e.seq === 6), 5_000, "seq 6");
    ac.abort();
    await done;
    assert.deepEqual(afters, [0, 3, 4]);
    assert.deepEqual(
      frames.map((f) =>
        "seq" in f ? f.seq : `${f.type}${f.after !== undefined ? `@${f.after}` : ""}`
      ),
      [1, 2, 3, "stream.error@3", "stream.reconnecting", "stream.resumed@3", 4, 5, 6],
    );
    assert.deepEqual(
      eventsOf(frames).find((e) => e.seq === 5),
      { ...fakeEvent(wid, 5), type: "future.kind", data: { x: 1 }, at: eventsOf(frames)[4].at },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("events: a refused upgrade (401) ends the stream; maxAttempts gives up", async () => {
  const wid = newWorkerId();
  let upgrades = 0;
  // FAKE: the worker exists over HTTP, but the events route answers 401.
  const { server, url } = fakeServer((req) => {
    const u = new URL(req.url);
    if (u.pathname === `/v1/workers/${wid}`) return Response.json({ worker: fakeDetail(wid) });
    upgrades++;
    return new Response("no", { status: 401 });
  });
  try {
    const ac = new AbortController();
    const frames: StreamFrame[] = [];
    await collect(clientFor(url, { token: CANARY }).events(wid, 0, { signal: ac.signal }), frames);
    assert.equal(frames.length, 1);
    assert.equal((frames[0] as ControlFrame).code, "remote_runtime_auth_failed");
    assert.equal(upgrades, 1);
    assertNoLeak(frames[0], url);
  } finally {
    await server.shutdown();
  }
  // A runtime that is gone for good: reconnecting, then stream.closed after maxAttempts.
  const rt = await RuntimeProcess.start({ id: "rc-gone" });
  const c = clientFor(rt.url, { id: "rc-gone" });
  const w = await c.createWorker({});
  const ac = new AbortController();
  const frames: StreamFrame[] = [];
  const done = collect(
    c.events(w.worker_id, 0, { signal: ac.signal, backoffMs: [10], maxAttempts: 3 }),
    frames,
  );
  await waitFor(() => eventsOf(frames).length >= 2, 5_000, "first events");
  await rt.kill("SIGKILL");
  await done;
  assert.deepEqual(controlsOf(frames), ["stream.reconnecting", "stream.closed"]);
  const last = frames.at(-1) as ControlFrame;
  assert.equal(last.code, "remote_runtime_unavailable");
  assertNoLeak(last, rt.url);
});

for (const signal of ["SIGKILL", "SIGTERM"] as const) {
  Deno.test(`events: survive ${signal} and restart on the same port and data dir`, async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "yoi-rc-" });
    const opts = {
      id: "rc-kill",
      token: CANARY,
      config: SLOW_CONFIG,
      store: "fs" as const,
      dataDir,
    };
    let rt = await RuntimeProcess.start(opts);
    const port = rt.port;
    const ac = new AbortController();
    try {
      const c = clientFor(rt.url, { token: CANARY, id: "rc-kill" });
      const w = await c.createWorker({ profile: "slow" });
      const frames: StreamFrame[] = [];
      const done = collect(
        c.events(w.worker_id, 0, { signal: ac.signal, backoffMs: [50, 100, 200] }),
        frames,
      );
      await c.input(w.worker_id, "x".repeat(200)); // ~4 s at 20 ms per character
      const deltas = () => eventsOf(frames).filter((e) => e.type === "output.delta").length;
      await waitFor(() => deltas() >= 15, 10_000, "deltas before the kill");
      await rt.kill(signal);
      rt = await RuntimeProcess.start({ ...opts, port });

      await waitFor(() => controlsOf(frames).includes("stream.resumed"), 15_000, "resume");
      // SIGKILL: the interrupted turn is marked failed on restart; SIGTERM: it was
      // cancelled on shutdown. Then one more turn runs live.
      const ended = signal === "SIGKILL" ? "turn.failed" : "turn.cancelled";
      await waitFor(() => eventsOf(frames).some((e) => e.type === ended), 5_000, ended);
      await waitIdle(c, w.worker_id);
      await c.input(w.worker_id, "after restart");
      await waitFor(
        () => eventsOf(frames).some((e) => e.type === "turn.completed"),
        10_000,
        "turn",
      );
      await waitFor(() => eventsOf(frames).at(-1)?.type === "worker.status", 5_000, "idle status");
      ac.abort();
      await done;

      const got = eventsOf(frames);
      const page = await c.transcript(w.worker_id, 0, 5000);
      assert.deepEqual(got.map((e) => e.seq), page.entries.map((e) => e.seq));
      assert.deepEqual(got.map((e) => e.seq), got.map((_, i) => i + 1)); // 1..n, once, in order
      assert.deepEqual(got, page.entries);
      assert.deepEqual(controlsOf(frames), ["stream.reconnecting", "stream.resumed"]);
      const iRe = frames.findIndex((f) => f.type === "stream.reconnecting");
      const iRes = frames.findIndex((f) => f.type === "stream.resumed");
      assert.ok(iRe < iRes);
      const resumed = frames[iRes] as ControlFrame;
      assert.equal(resumed.after, (frames[iRe - 1] as WorkerEvent).seq);
      assertNoLeak(c, rt.url);
    } finally {
      ac.abort();
      await rt.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  });
}
