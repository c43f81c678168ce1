/**
 * The console's stream without a browser: Deno's own WebSocket and the real BrowserClient
 * against a small server on 127.0.0.1 that stands in for the Backend's two routes the stream
 * uses (the worker's events socket and `GET` of the worker), so the test can drop the socket
 * and send control frames at will. The real processes are driven by
 * tests/browser/console_runtime_down_test.ts and console_edit_handover_test.ts.
 * @module
 */
import assert from "node:assert/strict";
import { BrowserClient } from "../../../../shared/browser_client.ts";
import type { WorkerEvent } from "../../../../shared/runtime_dto.ts";
import { waitUntil } from "../../../../tests/support/wait.ts";
import type { Conn, Down } from "./conn.ts";
import {
  BACKOFF_MS,
  backoffMs,
  followWorkerStream,
  terminalClose,
  UPSTREAM_ATTEMPT,
} from "./worker_stream.ts";

Deno.test("backoff: one step per attempt, the last step repeats", () => {
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50].map(backoffMs),
    [250, 500, 1000, 2000, 4000, 8000, 8000, 8000],
  );
  assert.equal(backoffMs(UPSTREAM_ATTEMPT), 2000, "after stream.reconnecting ours waits 2 s");
  assert.equal(BACKOFF_MS.length, 6);
});

Deno.test("terminalClose: only a removed runtime and the final codes end the stream", () => {
  assert.deepEqual(
    terminalClose({ type: "stream.ended", reason: "runtime_removed" } as never, "b"),
    {
      state: "closed",
      message: "runtime b was removed from this Backend.",
      code: "runtime_not_found",
    },
  );
  for (const code of ["worker_not_found", "invalid_id", "runtime_not_found"]) {
    assert.deepEqual(terminalClose({ type: "stream.closed", code, message: "why" }, "b"), {
      state: "closed",
      message: "why",
      code,
    });
  }
  assert.deepEqual(terminalClose({ type: "stream.closed", code: "invalid_id" }, "b"), {
    state: "closed",
    message: "the Backend ended it.",
    code: "invalid_id",
  });
  for (
    const msg of [
      { type: "stream.closed", code: "remote_runtime_unavailable" },
      { type: "stream.closed" },
      { type: "stream.ended", reason: "upstream_closed" },
      { type: "stream.reconnecting" },
      { type: "stream.resumed", after: 3 },
    ]
  ) {
    assert.equal(terminalClose(msg, "b"), null, JSON.stringify(msg));
  }
});

/** The stand-in Backend: every events socket it accepted, with its `after`. */
class StandIn {
  sockets: { socket: WebSocket; after: number; closed: Promise<void> }[] = [];
  /** Upgrade requests refused (502) while set: the socket closes without opening. */
  refuse = false;
  /** The answer to `GET /api/runtimes/:r/workers/:w` (asked after a drop). */
  worker = () =>
    Response.json({
      error: { code: "remote_runtime_unavailable", message: "gone" },
      diagnostics: [],
    }, { status: 502 });
  #server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    if (req.headers.get("upgrade") !== "websocket" || this.refuse) return this.worker();
    const { socket, response } = Deno.upgradeWebSocket(req);
    const closed = new Promise<void>((r) => socket.addEventListener("close", () => r()));
    const after = Number(new URL(req.url).searchParams.get("after"));
    socket.addEventListener("open", () => this.sockets.push({ socket, after, closed }));
    return response;
  });
  readonly client = new BrowserClient(`http://127.0.0.1:${this.#server.addr.port}`);

  /** The `n`-th socket (0-based), once open. */
  socket(n: number) {
    return waitUntil(`events socket ${n}`, () => this.sockets[n]);
  }
  async [Symbol.asyncDispose]() {
    for (const s of this.sockets) s.socket.close();
    await this.#server.shutdown();
  }
}

/** Records what the stream reports, like the island's state would. */
function recorder(lastSeq: number, down?: string) {
  const r = {
    conns: [] as Conn[],
    down: null as Down | null,
    events: [] as WorkerEvent[],
    backs: 0,
    lastSeq: () => Math.max(lastSeq, ...r.events.map((e) => e.seq)),
    sink: {} as Parameters<typeof followWorkerStream>[3],
  };
  r.sink = {
    lastSeq: r.lastSeq,
    onEvent: (ev) => void r.events.push(ev),
    setConn: (c) => void r.conns.push(c),
    setDown: (next) => void (r.down = typeof next === "function" ? next(r.down) : next),
    down,
    onBack: () => void r.backs++,
  };
  return r;
}

const event = (seq: number, text: string) =>
  JSON.stringify({ seq, type: "output.delta", data: { text }, at: "2026-01-01T00:00:00Z" });
const last = <T>(a: T[]) => a[a.length - 1];

Deno.test({
  name:
    "worker stream: opens after the last seq shown; after a drop says why and resumes after the last seq seen",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using be = new StandIn();
    const r = recorder(5);
    const stream = followWorkerStream(() => be.client, "r1", "w1", r.sink);
    try {
      const first = await be.socket(0);
      assert.equal(first.after, 5, "opened after the last seq shown");
      await waitUntil("live", () => last(r.conns)?.state === "live");
      first.socket.send("not json");
      first.socket.send(JSON.stringify({ type: "stream.hello" }));
      first.socket.send(event(6, "a"));
      first.socket.send(event(7, "b"));
      await waitUntil("two events", () => r.events.length === 2);
      assert.deepEqual(r.events.map((e) => e.seq), [6, 7]);

      first.socket.close();
      await waitUntil("reconnecting", () => last(r.conns)?.state === "reconnecting");
      assert.deepEqual(last(r.conns), { state: "reconnecting", attempt: 1 });
      // The Backend answered for the runtime: its sentence and message, not "the Backend".
      await waitUntil("the reason", () => r.down?.reason);
      assert.equal(r.down?.reason, "Runtime r1 is unreachable. gone");
      assert.equal(r.down?.backend, false);

      const second = await be.socket(1);
      assert.equal(second.after, 7, "reopened after the last seq seen");
      await waitUntil("resumed", () => last(r.conns)?.state === "resumed");
      assert.deepEqual(last(r.conns), { state: "resumed", after: 7 });
      assert.equal(r.down, null);
    } finally {
      stream.close();
    }
  },
});

Deno.test({
  name: "worker stream: the Backend unreachable is named as such",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const be = new StandIn();
    const r = recorder(0);
    const stream = followWorkerStream(() => be.client, "r1", "w1", r.sink);
    try {
      await be.socket(0);
      await waitUntil("live", () => last(r.conns)?.state === "live");
      await be[Symbol.asyncDispose](); // the Backend goes away: socket dropped, GET refused
      await waitUntil("the reason", () => r.down?.backend);
      assert.equal(r.down?.backend, true);
      assert.ok(r.down?.reason, "the client's message");
    } finally {
      stream.close();
    }
  },
});

Deno.test({
  name:
    "worker stream: once the Backend answers again, the banner names the runtime, not the Backend",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using be = new StandIn();
    // The events socket goes to the stand-in; the question "why" to a port nothing listens on
    // (a stopped server's), until the Backend is back.
    const gone = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response(),
    );
    await gone.shutdown();
    let backendUp = false;
    const dead = new BrowserClient(`http://127.0.0.1:${gone.addr.port}`);
    const client = () => {
      const asked = backendUp ? be.client : dead;
      return {
        eventsUrl: be.client.eventsUrl.bind(be.client),
        call: asked.call.bind(asked),
      };
    };
    const r = recorder(0);
    const stream = followWorkerStream(client, "r1", "w1", r.sink);
    try {
      const first = await be.socket(0);
      await waitUntil("live", () => last(r.conns)?.state === "live");
      be.refuse = true; // the runtime is down: no socket opens until it is back
      first.socket.close();
      await waitUntil("the Backend named", () => r.down?.backend);
      backendUp = true; // the Backend answers again (for a runtime that is still down)
      await waitUntil("the runtime named", () => r.down?.reason.startsWith("Runtime r1"));
      assert.equal(r.down?.reason, "Runtime r1 is unreachable. gone");
      assert.ok(!r.down?.backend, "the banner no longer says the Backend is unreachable");
    } finally {
      stream.close();
    }
  },
});

Deno.test({
  name:
    "worker stream: upstream reconnecting backs off to 2 s, resumed clears it, Retry now reconnects at once",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using be = new StandIn();
    const r = recorder(3);
    const stream = followWorkerStream(() => be.client, "r1", "w1", r.sink);
    try {
      const first = await be.socket(0);
      await waitUntil("live", () => last(r.conns)?.state === "live");
      const t0 = Date.now();
      first.socket.send(JSON.stringify({ type: "stream.reconnecting" }));
      await waitUntil("upstream", () => last(r.conns)?.state === "upstream-reconnecting");
      const at = r.down!.at;
      assert.ok(at >= t0 + 2000 && at <= Date.now() + 2000, `next try at +${at - t0} ms`);
      first.socket.send(JSON.stringify({ type: "stream.resumed", after: 9 }));
      await waitUntil("resumed", () => last(r.conns)?.state === "resumed");
      assert.deepEqual(last(r.conns), { state: "resumed", after: 9 });
      assert.equal(r.down, null);

      // Without a drop nothing reconnects; Retry now does, at once, closing the old socket.
      stream.retryNow();
      const second = await be.socket(1);
      assert.equal(second.after, 3);
      await first.closed;
    } finally {
      stream.close();
    }
  },
});

Deno.test({
  name: "worker stream: a final close code ends it; other closes reconnect",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using be = new StandIn();
    const r = recorder(0);
    const stream = followWorkerStream(() => be.client, "r1", "w1", r.sink);
    try {
      // Not final: the socket closing after it still reconnects.
      const s0 = await be.socket(0);
      s0.socket.send(JSON.stringify({ type: "stream.closed", code: "remote_runtime_unavailable" }));
      s0.socket.close();
      const s1 = await be.socket(1);
      // Final: the stream is over, and the socket closing after it does not reconnect.
      s1.socket.send(
        JSON.stringify({
          type: "stream.closed",
          code: "worker_not_found",
          message: "no such worker",
        }),
      );
      await waitUntil("closed", () => last(r.conns)?.state === "closed");
      assert.deepEqual(last(r.conns), {
        state: "closed",
        message: "no such worker",
        code: "worker_not_found",
      });
      const conns = r.conns.length;
      s1.socket.close();
      await s1.closed;
      // A reconnect would come 250 ms after the drop; give it four times that.
      await new Promise((ok) => setTimeout(ok, 4 * BACKOFF_MS[0]));
      assert.equal(be.sockets.length, 2, "no reconnect after a final close");
      assert.equal(r.conns.length, conns, "the closed state stays");
    } finally {
      stream.close();
    }
  },
});

Deno.test({
  name:
    "worker stream: a page rendered while down waits one backoff, then reloads once the runtime answers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using be = new StandIn();
    const r = recorder(0, "Runtime r1 is unreachable.");
    const t0 = Date.now();
    const stream = followWorkerStream(() => be.client, "r1", "w1", r.sink);
    try {
      assert.equal(r.down?.reason, "Runtime r1 is unreachable.");
      assert.ok(r.down!.at >= t0 + 250, "the first try is one backoff step away");
      await be.socket(0);
      await waitUntil("reload", () => r.backs === 1);
      assert.deepEqual(r.conns, [], "the page reloads instead of going live");
    } finally {
      stream.close();
    }
  },
});
