/**
 * Shared upstream event streams through a real Backend (issue 15): browsers on
 * one remote worker share one upstream WebSocket (counted at a TCP forwarder
 * in front of the runtime), which closes after the last browser leaves; a late
 * joiner gets `after+1..` with no gap or duplicate; a SIGKILL + restart of the
 * runtime reaches every browser as one `stream.reconnecting` / `stream.resumed`
 * pair; a browser that stops reading its socket is dropped with
 * `stream_lagging` while the others get every frame, and resumes by seq.
 * @module
 */
import assert from "node:assert/strict";
import type { WorkspaceClient } from "../shared/client.ts";
import type { WorkerEvent } from "../shared/mod.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { EventSocket } from "./support/event_socket.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { StalledSocket } from "./support/stalled_socket.ts";
import { TcpForward } from "./support/tcp_forward.ts";
import { waitUntil } from "./support/wait.ts";

const SLOW_PROFILE = `
[profiles.slow]
engine = "echo"
chunk_chars = 1
delay_ms = 10
`;

async function fullTranscript(
  c: WorkspaceClient,
  rid: string,
  wid: string,
  after = 0,
): Promise<WorkerEvent[]> {
  const out: WorkerEvent[] = [];
  for (let i = 0; i < 10_000; i++) {
    const page = await c.transcript(rid, wid, after, 1000);
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries.at(-1)!.seq;
  }
  throw new Error("transcript paging did not end");
}

async function waitIdle(c: WorkspaceClient, rid: string, wid: string, turns: number) {
  await waitUntil(`worker idle after ${turns} turns`, async () => {
    try {
      const w = (await c.getWorker(rid, wid)).worker;
      return w.status === "idle" && w.turn_count >= turns;
    } catch {
      return false; // the runtime is restarting
    }
  }, 30_000);
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

Deno.test("events fan-out: browsers on one remote worker share one upstream socket; a late joiner gets after+1.. exactly; a runtime restart reaches every browser; the last to leave closes the upstream", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "yoi-fanout-" });
  const opts = { id: "rt", store: "fs" as const, dataDir, config: SLOW_PROFILE };
  let rt = await RuntimeProcess.start(opts);
  const port = rt.port;
  const tap = new TcpForward(port);
  const sockets: EventSocket[] = [];
  try {
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "rt"\nendpoint = "${tap.url}"\n`,
      extraArgs: ["--reconnect-backoff-ms", "50,100,200"],
    });
    const c = be.client;
    const wid = (await c.createWorker("rt", { profile: "slow" })).worker.worker_id;

    for (let i = 0; i < 5; i++) sockets.push(new EventSocket(c.eventsUrl("rt", wid, 0)));
    for (const s of sockets) {
      assert.equal(await s.opened, true);
      await s.waitFor("worker.created", (x) => x.events().length >= 1);
    }
    await c.input("rt", wid, "a".repeat(60));
    await sockets[0].waitFor("output", (s) => s.events().length >= 20);
    // A late joiner behind the live stream, mid-turn.
    const k = 3;
    const late = new EventSocket(c.eventsUrl("rt", wid, k));
    sockets.push(late);
    assert.equal(await late.opened, true);
    await waitIdle(c, "rt", wid, 1);
    let all = await fullTranscript(c, "rt", wid);
    await waitUntil(
      "everyone has turn 1",
      () => sockets.every((s) => s.events().at(-1)?.seq === all.at(-1)!.seq),
    );
    assert.equal(tap.upgrades, 1, "six browsers, one upstream WebSocket");
    assert.equal(tap.openUpgrades, 1);

    // SIGKILL mid-turn and restart on the same port: every browser hears it once.
    await c.input("rt", wid, "b".repeat(200));
    await sockets[0].waitFor("turn 2 output", (s) => s.events().length >= all.length + 20);
    await rt.kill("SIGKILL");
    for (const s of sockets) {
      await s.waitFor("stream.reconnecting", (x) => x.controls().includes("stream.reconnecting"));
    }
    rt = await RuntimeProcess.restartOnPort({ ...opts, port });
    for (const s of sockets) {
      await s.waitFor("stream.resumed", (x) => x.controls().includes("stream.resumed"));
    }
    await waitIdle(c, "rt", wid, 2);
    await c.input("rt", wid, "c".repeat(20));
    await waitIdle(c, "rt", wid, 3);
    all = await fullTranscript(c, "rt", wid);
    const last = all.at(-1)!.seq;
    await waitUntil(
      "everyone has the last seq",
      () => sockets.every((s) => s.events().at(-1)?.seq === last),
    );

    assert.deepEqual(all.map((e) => e.seq), range(1, last));
    for (const [i, s] of sockets.entries()) {
      const from = s === late ? k : 0;
      assert.deepEqual(s.events(), all.slice(from), `browser ${i}: after+1..last, once each`);
      assert.deepEqual(s.controls(), ["stream.reconnecting", "stream.resumed"], `browser ${i}`);
    }
    assert.equal(tap.upgrades, 2, "one upstream reconnect for all six browsers");

    // The last browser to leave closes the upstream (after a short linger).
    for (const s of sockets.slice(0, -1)) await s.close();
    assert.equal(tap.openUpgrades, 1, "kept while one browser stays");
    await sockets.at(-1)!.close();
    await waitUntil("the upstream socket closed", () => tap.openUpgrades === 0, 15_000);
  } finally {
    for (const s of sockets) await s.close();
    await tap.close();
    await rt.kill("SIGKILL");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

const BIG_PROFILE = `
[profiles.big]
engine = "echo"
chunk_chars = 8192
`;

Deno.test("events fan-out: a browser that stops reading is dropped with stream_lagging; the others get every frame in order; it resumes by seq", async () => {
  await using be = await BackendProcess.start({ embeddedConfig: BIG_PROFILE });
  const c = be.client;
  const wid = (await c.createWorker("embedded", { profile: "big" })).worker.worker_id;
  const head = (await c.getWorker("embedded", wid)).worker.last_seq;
  const url = c.eventsUrl("embedded", wid, head);
  await using a = new EventSocket(url);
  await using b = new EventSocket(url);
  const stalled = await StalledSocket.open(url);
  try {
    for (const s of [a, b]) assert.equal(await s.opened, true);
    // ~0.5 MB per turn; the socket buffers of the kernel take a few MB before the Backend's
    // own buffer for the stalled browser passes its high-water mark.
    const text = "x".repeat(250_000);
    let turns = 0;
    while (!be.output.includes("events.subscriber_lagging")) {
      assert.ok(turns < 60, "the stalled browser was never dropped");
      await c.input("embedded", wid, text);
      await waitIdle(c, "embedded", wid, ++turns);
    }
    await c.input("embedded", wid, "one more turn after the drop");
    await waitIdle(c, "embedded", wid, ++turns);
    const all = await fullTranscript(c, "embedded", wid, head);
    const last = all.at(-1)!.seq;
    for (const s of [a, b]) {
      await s.waitFor("the last seq", (x) => x.events().at(-1)?.seq === last);
      assert.deepEqual(s.events(), all, "every frame, in order, once");
      assert.deepEqual(s.controls(), []);
    }

    const got = await stalled.readAll();
    const events = got.frames.filter((f) => "seq" in f);
    const closed = got.frames.at(-1)!;
    assert.equal(closed.type, "stream.closed");
    assert.equal(closed.code, "stream_lagging");
    const upTo = closed.after as number;
    assert.deepEqual(events.map((e) => e.seq), range(head + 1, upTo), "no gap before the drop");
    assert.ok(upTo < last, "dropped before the end");
    assert.equal(got.closeCode, 4000);

    // It resumes by seq: upTo+1..last exactly.
    await using again = new EventSocket(c.eventsUrl("embedded", wid, upTo));
    assert.equal(await again.opened, true);
    await again.waitFor("the rest", (x) => x.events().at(-1)?.seq === last);
    assert.deepEqual(again.events(), all.slice(upTo - head));
  } finally {
    stalled.close();
  }
});
