/**
 * The Backend's browser-facing event WebSocket (DESIGN §4, §6), end to end
 * with real processes: a remote runtime is SIGKILLed mid-stream and restarted
 * on the same port and data dir while a browser-side client keeps one socket
 * open; the embedded runtime replays from `after` and then goes live; unknown
 * workers are refused before any upgrade.
 * @module
 */
import { sleep, waitUntil } from "./support/wait.ts";
import assert from "node:assert/strict";
import type { WorkspaceClient } from "../shared/client.ts";
import { ErrorBodySchema, type WorkerEvent } from "../shared/mod.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { EventSocket } from "./support/event_socket.ts";

const DEADLINE_MS = 30_000;

const SLOW_PROFILE = `
[profiles.slow]
engine = "echo"
chunk_chars = 1
delay_ms = 15
`;

/** A worker id that is well-formed but belongs to no worker. */
const UNKNOWN_WORKER = "0190a000-0000-7000-8000-000000000000";

/** The whole transcript through the Backend, page by page. */
async function fullTranscript(
  client: WorkspaceClient,
  rid: string,
  wid: string,
  after = 0,
): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  for (;;) {
    const page = await client.transcript(rid, wid, after, 50);
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries[page.entries.length - 1].seq;
  }
}

async function waitIdle(client: WorkspaceClient, rid: string, wid: string): Promise<void> {
  await waitUntil(`worker ${wid} idle`, async () => {
    try {
      return (await client.getWorker(rid, wid)).worker.status === "idle";
    } catch {
      return false; // e.g. the remote is still restarting
    }
  }, DEADLINE_MS);
}

function seqs(events: WorkerEvent[]): number[] {
  return events.map((e) => e.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

Deno.test({
  name: "events proxy: remote runtime SIGKILLed and restarted mid-stream → every seq once, " +
    "one reconnecting + one resumed",
  async fn() {
    const dataDir = await Deno.makeTempDir({ prefix: "yoi-events-rt-" });
    let rt = await RuntimeProcess.start({
      id: "rt",
      store: "fs",
      dataDir,
      config: SLOW_PROFILE,
    });
    const port = rt.port;
    try {
      await using be = await BackendProcess.start({
        config: `[[runtimes.remote]]\nid = "rt"\nendpoint = "${rt.url}"\n`,
        extraArgs: ["--reconnect-backoff-ms", "50,100,200"],
      });
      const c = be.client;
      const { worker } = await c.createWorker("rt", { profile: "slow" });
      const wid = worker.worker_id;

      await using sock = new EventSocket(c.eventsUrl("rt", wid, 0));
      assert.equal(await sock.opened, true, "the browser socket opens");
      await sock.waitFor("worker.created", (s) => s.events().length >= 1);

      const first = "x".repeat(200); // 200 chunks × 15 ms ≈ 3 s of streaming
      await c.input("rt", wid, first);
      await sock.waitFor(
        "output mid-stream",
        (s) => s.events().filter((e) => e.type === "output.delta").length >= 10,
      );

      await rt.kill("SIGKILL");
      await sock.waitFor(
        "stream.reconnecting",
        (s) => s.controls().includes("stream.reconnecting"),
      );
      rt = await RuntimeProcess.restartOnPort({
        id: "rt",
        store: "fs",
        dataDir,
        config: SLOW_PROFILE,
        port,
      });
      await sock.waitFor("stream.resumed", (s) => s.controls().includes("stream.resumed"));

      await waitIdle(c, "rt", wid);
      await c.input("rt", wid, "second turn");
      await sock.waitFor(
        "the second turn to complete",
        (s) =>
          s.events().some((e) => e.type === "input.accepted" && e.data?.text === "second turn") &&
          s.events().at(-1)?.type !== "input.accepted" &&
          s.events().filter((e) => e.type === "turn.completed").length >= 1,
      );
      await waitIdle(c, "rt", wid);

      const transcript = await fullTranscript(c, "rt", wid);
      const last = transcript.at(-1)!.seq;
      await sock.waitFor("the last transcript seq", (s) => s.events().some((e) => e.seq === last));
      await sleep(200); // anything duplicated would arrive in this window too

      const got = sock.events();
      assert.deepEqual(seqs(transcript), range(1, last), "the transcript is 1..N");
      assert.deepEqual(seqs(got), seqs(transcript), "every seq exactly once, in order");
      assert.deepEqual(got, transcript, "frames equal the persisted events");

      const controls = sock.frames.filter((f) => !("seq" in f));
      assert.deepEqual(
        controls.map((f) => f.type),
        ["stream.reconnecting", "stream.resumed"],
        "exactly one reconnecting, then one resumed",
      );
      const reconnectAt = sock.frames.findIndex((f) => f.type === "stream.reconnecting");
      const resumedAt = sock.frames.findIndex((f) => f.type === "stream.resumed");
      assert.ok(reconnectAt > 0 && resumedAt > reconnectAt);
      const before = sock.frames.slice(0, reconnectAt).filter((f) => "seq" in f);
      assert.equal(
        (sock.frames[resumedAt] as { after?: number }).after,
        (before.at(-1) as { seq: number }).seq,
        "resumed from the last forwarded seq",
      );
      // The interrupted first turn ended as failed by the restart, and the second completed.
      assert.ok(transcript.some((e) => e.type === "turn.failed"), "interrupted turn recorded");
      assert.equal(transcript.filter((e) => e.type === "turn.completed").length, 1);
      assert.equal(sock.ws.readyState, WebSocket.OPEN, "one socket the whole time");

      // An unknown worker on the remote: the remote's 404 becomes the Backend's typed 404.
      const unknownUrl = c.eventsUrl("rt", UNKNOWN_WORKER, 0);
      const res = await fetch(unknownUrl.replace(/^ws:/, "http:"));
      assert.equal(res.status, 404);
      assert.equal(ErrorBodySchema.parse(await res.json()).error.code, "worker_not_found");
      await using refused = new EventSocket(unknownUrl);
      assert.equal(await refused.opened, false, "the upgrade is refused");
    } finally {
      await rt.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("events proxy: embedded runtime replays from after=N, then live; no duplicates", async () => {
  await using be = await BackendProcess.start({ embeddedConfig: SLOW_PROFILE });
  const c = be.client;
  const { worker } = await c.createWorker("embedded", { profile: "slow" });
  const wid = worker.worker_id;
  await c.input("embedded", wid, "hello");
  await waitIdle(c, "embedded", wid);
  const before = await fullTranscript(c, "embedded", wid);
  assert.ok(before.length > 5, "a finished turn has several events");
  const from = 3;

  {
    // Replay from after=3, then live events of a new turn on the same socket.
    await using sock = new EventSocket(c.eventsUrl("embedded", wid, from));
    assert.equal(await sock.opened, true);
    await sock.waitFor("the replay", (s) => s.events().length >= before.length - from);
    assert.deepEqual(sock.events(), before.slice(from), "replay is exactly seq > after");

    await c.input("embedded", wid, "live!");
    await sock.waitFor(
      "the live turn",
      (s) => s.events().filter((e) => e.type === "turn.completed").length === 2,
    );
    await waitIdle(c, "embedded", wid);
    const all = await fullTranscript(c, "embedded", wid);
    await sock.waitFor("every live event", (s) => s.events().at(-1)?.seq === all.at(-1)!.seq);
    await sleep(100);
    assert.deepEqual(sock.events(), all.slice(from), "replay + live = transcript after N");
    assert.deepEqual(sock.controls(), [], "no control frames from the embedded runtime");
  }

  {
    // Resuming with after = last seq sends nothing old, then only new events.
    const all = await fullTranscript(c, "embedded", wid);
    const lastSeq = all.at(-1)!.seq;
    await using sock = new EventSocket(c.eventsUrl("embedded", wid, lastSeq));
    assert.equal(await sock.opened, true);
    await sleep(300);
    assert.deepEqual(sock.frames, [], "nothing is replayed after the last seq");
    await c.input("embedded", wid, "more");
    await sock.waitFor(
      "the next turn",
      (s) => s.events().some((e) => e.type === "turn.completed"),
    );
    await waitIdle(c, "embedded", wid);
    const after = await fullTranscript(c, "embedded", wid, lastSeq);
    await sock.waitFor("every new event", (s) => s.events().at(-1)?.seq === after.at(-1)!.seq);
    assert.equal(sock.events()[0].seq, lastSeq + 1, "first frame is the next seq");
    assert.deepEqual(sock.events(), after);
  }
});

Deno.test("events proxy: unknown worker or runtime → typed 404, the upgrade fails", async () => {
  await using be = await BackendProcess.start({});
  const c = be.client;
  const cases: [string, string, string][] = [
    ["embedded", UNKNOWN_WORKER, "worker_not_found"],
    ["nope", UNKNOWN_WORKER, "runtime_not_found"],
  ];
  for (const [rid, wid, code] of cases) {
    const wsUrl = c.eventsUrl(rid, wid, 0);
    const res = await fetch(wsUrl.replace(/^ws:/, "http:"));
    const body = ErrorBodySchema.parse(await res.json());
    assert.equal(res.status, 404, `${rid}: plain GET`);
    assert.equal(body.error.code, code);

    await using sock = new EventSocket(wsUrl);
    assert.equal(await sock.opened, false, `${rid}: the upgrade is refused`);
    assert.deepEqual(sock.frames, []);
  }
  // A malformed worker id is a typed 400, never a 500.
  const res = await fetch(c.eventsUrl("embedded", "not-a-worker", 0).replace(/^ws:/, "http:"));
  assert.equal(res.status, 400);
  assert.equal(ErrorBodySchema.parse(await res.json()).error.code, "invalid_id");
});

Deno.test("Backend SIGTERM: embedded and remote browser streams end with stream.ended shutdown (close 1001), exit 0 within 5 s", async () => {
  await using rt = await RuntimeProcess.start({ id: "far" });
  const bp = await BackendProcess.start({
    config: `[[runtimes.remote]]\nid = "far"\nendpoint = "${rt.url}"\n`,
  });
  const near = (await bp.client.createWorker("embedded", {})).worker;
  const far = (await bp.client.createWorker("far", {})).worker;
  const socks = [
    new EventSocket(bp.client.eventsUrl("embedded", near.worker_id, 0)),
    new EventSocket(bp.client.eventsUrl("far", far.worker_id, 0)),
  ];
  for (const s of socks) {
    assert.equal(await s.opened, true);
    await s.waitFor("worker.created", (x) => x.events().length >= 1);
  }
  const t0 = Date.now();
  const status = await bp.kill("SIGTERM");
  const took = Date.now() - t0;
  assert.equal(status.code, 0, bp.output);
  assert.ok(took < 5_000, `stopped after ${took} ms`);
  for (const s of socks) {
    const close = await s.closed;
    const last = s.frames.at(-1)!;
    assert.deepEqual(
      [last.type, last.reason],
      ["stream.ended", "shutdown"],
      JSON.stringify(s.frames),
    );
    assert.equal(close.code, 1001);
  }
});

Deno.test("an event type the Backend does not know reaches the browser, seq contiguous (DESIGN §11)", async () => {
  const wid = "0190a000-0000-7000-8000-0000000000aa";
  const now = new Date().toISOString();
  const header = { "yoi-runtime-id": "future" };
  // FAKE: a runtime from the future that emits an event type this Backend does not know.
  // A real runtime of this version cannot emit one, so its few answers are scripted here.
  const fake = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/v1/runtime") {
      return Response.json({
        runtime: {
          runtime_id: "future",
          display_name: "Future",
          status: "running",
          protocol: { name: "yoi-worker-runtime", version: 1 },
          capabilities: {
            list_workers: true,
            worker_detail: true,
            create_worker: true,
            input: true,
            stop: true,
            cancel: true,
            transcript: true,
            events_ws: true,
          },
          profiles: ["echo"],
          worker_count: 1,
          os: "linux",
          arch: "x86_64",
          started_at: now,
        },
        diagnostics: [],
      }, { headers: header });
    }
    if (path === `/v1/workers/${wid}`) {
      return Response.json({
        worker: {
          runtime_id: "future",
          worker_id: wid,
          display_name: "w",
          profile: "echo",
          status: "idle",
          created_at: now,
          updated_at: now,
          last_seq: 3,
          turn_count: 0,
          last_turn_outcome: null,
        },
      }, { headers: header });
    }
    if (path === `/v1/workers/${wid}/events`) {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => {
        const ev = (seq: number, type: string) =>
          socket.send(JSON.stringify({ seq, worker_id: wid, at: now, type, data: { n: seq } }));
        socket.send(
          JSON.stringify({ type: "stream.opened", runtime_id: "future", worker_id: wid, after: 0 }),
        );
        ev(1, "worker.created");
        ev(2, "future.kind");
        ev(3, "worker.status");
      };
      return response;
    }
    return Response.json({ error: { code: "not_found", message: "no" }, diagnostics: [] }, {
      status: 404,
      headers: header,
    });
  });
  try {
    await using bp = await BackendProcess.start({
      config:
        `[[runtimes.remote]]\nid = "future"\nendpoint = "http://127.0.0.1:${fake.addr.port}"\n`,
    });
    await using sock = new EventSocket(bp.client.eventsUrl("future", wid, 0));
    assert.equal(await sock.opened, true);
    await sock.waitFor("three events", (s) => s.frames.filter((f) => "seq" in f).length >= 3);
    const events = sock.frames.filter((f) => "seq" in f);
    assert.deepEqual(events.map((f) => [f.seq, f.type]), [
      [1, "worker.created"],
      [2, "future.kind"],
      [3, "worker.status"],
    ]);
    assert.deepEqual(events[1].data, { n: 2 }, "forwarded as sent");
    assert.ok(!sock.frames.some((f) => f.type === "stream.error"));
  } finally {
    await fake.shutdown();
  }
});
