/**
 * The remote client's event streams (`remote_stream.ts` + the follower in
 * `remote_events.ts`) against real runtimes and FAKE WebSocket remotes: replay then live,
 * resume from a seq, refused upgrades, duplicates, lagging and restarts.
 */
import assert from "node:assert/strict";
import { type ControlFrame, newWorkerId, type WorkerEvent } from "../../shared/mod.ts";
import { RuntimeProcess } from "../../tests/support/runtime_process.ts";
import type { StreamFrame } from "./remote_client.ts";
import {
  assertNoLeak,
  CANARY,
  clientFor,
  expectApiError,
  fakeDetail,
  fakeEvent,
  fakeServer,
  openedFrame,
  SLOW_CONFIG,
  waitFor,
  waitIdle,
} from "../../tests/support/remote_fakes.ts";

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

Deno.test("workerPath: the route table's path, the same with or without the split template", async () => {
  const { workerPath } = await import("./remote_stream.ts");
  const { fillPath, RUNTIME_ROUTES } = await import("../../shared/routes/mod.ts");
  const id = newWorkerId();
  for (const op of ["worker.get", "worker.input", "worker.stop", "worker.rename"] as const) {
    for (let i = 0; i < 2; i++) {
      assert.equal(workerPath(op, id), fillPath(RUNTIME_ROUTES[op].path, { worker_id: id }));
    }
  }
  assert.equal(
    workerPath("worker.transcript", id, { after: 3, limit: 10 }),
    fillPath(RUNTIME_ROUTES["worker.transcript"].path, { worker_id: id }, { after: 3, limit: 10 }),
  );
  assert.throws(() => workerPath("worker.get", "../x"), /UUIDv7/);
});
