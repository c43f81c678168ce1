/**
 * Integration tests of the Runtime's REST and WebSocket API against real
 * runtime processes (`runtime/main.ts` started on a free 127.0.0.1 port).
 * @module
 */
import { sleep, waitUntil } from "../tests/support/wait.ts";
import { liveInGroup } from "../tests/support/procs.ts";
import { openWebSocket } from "../shared/deno_ws.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { z } from "zod";
import {
  type Ack,
  AckEnvelopeSchema,
  type ErrorBody,
  ErrorBodySchema,
  type ErrorCode,
  isControlFrame,
  LIFECYCLE_OPERATIONS,
  newWorkerId,
  OPERATIONS,
  PROTOCOL_NAME,
  PROTOCOL_VERSION,
  RuntimeEnvelopeSchema,
  type RuntimeSummary,
  TranscriptEnvelopeSchema,
  type TranscriptPage,
  type WorkerDetail,
  WorkerEnvelopeSchema,
  type WorkerEvent,
  WorkerEventSchema,
  WorkerListEnvelopeSchema,
} from "../shared/mod.ts";
import { authHeaders, RuntimeProcess } from "../tests/support/runtime_process.ts";

// --- helpers -------------------------------------------------------------------------------

const DEADLINE_MS = 20_000;

/** Polls `fn` until it returns a truthy value; fails after `timeoutMs`. */

/** Builds a runtime config TOML from profile tables (values are JSON-compatible TOML). */
function configToml(
  profiles: Record<string, Record<string, unknown>>,
  top: Record<string, unknown> = {},
): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(top)) lines.push(`${k} = ${JSON.stringify(v)}`);
  for (const [name, spec] of Object.entries(profiles)) {
    lines.push(`[profiles.${name}]`);
    for (const [k, v] of Object.entries(spec)) lines.push(`${k} = ${JSON.stringify(v)}`);
  }
  return lines.join("\n") + "\n";
}

const SLOW = { engine: "echo", chunk_chars: 1, delay_ms: 50 };

interface CallOptions {
  method?: string;
  /** JSON-encoded as the body. */
  json?: unknown;
  /** Sent as is. */
  body?: BodyInit;
  headers?: Record<string, string>;
  /** Overrides the client's token; `null` sends no authorization header. */
  token?: string | null;
}

interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

/** A small client for one runtime process; every reply is checked for the shared invariants. */
class Client {
  constructor(readonly url: string, readonly runtimeId: string, readonly token?: string) {}

  static of(rt: RuntimeProcess, token?: string): Client {
    return new Client(rt.url, rt.id, token);
  }

  get wsBase(): string {
    return this.url.replace(/^http/, "ws");
  }

  async call(path: string, opts: CallOptions = {}): Promise<Reply> {
    const token = opts.token === null ? undefined : opts.token ?? this.token;
    const headers: Record<string, string> = { ...authHeaders(token) as Record<string, string> };
    let body = opts.body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers["content-type"] = "application/json";
    }
    Object.assign(headers, opts.headers);
    const res = await fetch(this.url + path, {
      method: opts.method ?? (body !== undefined ? "POST" : "GET"),
      headers,
      body,
    });
    const text = await res.text();
    assert.notEqual(res.status, 500, `${path} answered 500: ${text}`);
    // Every answer, errors and 401s included, names the runtime (DESIGN §4).
    assert.equal(res.headers.get("yoi-runtime-id"), this.runtimeId, `${path}: Yoi-Runtime-Id`);
    let parsed: unknown = undefined;
    if (text !== "") {
      assert.match(res.headers.get("content-type") ?? "", /application\/json/, `${path}: ${text}`);
      parsed = JSON.parse(text);
    }
    if (res.status >= 400) {
      const r = ErrorBodySchema.safeParse(parsed);
      assert.ok(r.success, `${path}: error body has the wrong shape: ${text}`);
      // Strict shape: exactly {error:{code,message},diagnostics}.
      assert.deepEqual(Object.keys(parsed as object).sort(), ["diagnostics", "error"]);
      assert.deepEqual(Object.keys(r.data.error).sort(), ["code", "message"]);
      assert.ok(!text.includes("/tmp"), `${path}: error leaks a path: ${text}`);
      if (this.token) assert.ok(!text.includes(this.token), `${path}: error leaks the token`);
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  /** Calls and expects `status`, returning the body parsed with `schema`. */
  async ok<S extends z.ZodType>(
    schema: S,
    path: string,
    opts: CallOptions = {},
    status = 200,
  ): Promise<z.infer<S>> {
    const r = await this.call(path, opts);
    assert.equal(r.status, status, `${path}: ${r.text}`);
    return schema.parse(r.body);
  }

  /** Calls and expects a typed error with `status` and `code`. */
  async fails(
    path: string,
    opts: CallOptions,
    status: number,
    code: ErrorCode,
  ): Promise<ErrorBody> {
    const r = await this.call(path, opts);
    assert.equal(r.status, status, `${opts.method ?? "GET"} ${path}: ${r.text}`);
    const body = ErrorBodySchema.parse(r.body);
    assert.equal(body.error.code, code, `${path}: ${r.text}`);
    assert.ok(body.error.message.length > 0);
    assert.ok(Array.isArray(body.diagnostics));
    return body;
  }

  async summary(): Promise<RuntimeSummary> {
    return (await this.ok(RuntimeEnvelopeSchema, "/v1/runtime")).runtime;
  }

  async create(req: Record<string, unknown> = {}): Promise<WorkerDetail> {
    return (await this.ok(WorkerEnvelopeSchema, "/v1/workers", { json: req }, 201)).worker;
  }

  async detail(id: string): Promise<WorkerDetail> {
    return (await this.ok(WorkerEnvelopeSchema, `/v1/workers/${id}`)).worker;
  }

  async input(id: string, text: string): Promise<Ack> {
    return (await this.ok(AckEnvelopeSchema, `/v1/workers/${id}/input`, { json: { text } }, 202))
      .ack;
  }

  async cancel(id: string): Promise<Ack> {
    return (await this.ok(AckEnvelopeSchema, `/v1/workers/${id}/cancel`, { method: "POST" })).ack;
  }

  async stop(id: string): Promise<Ack> {
    return (await this.ok(AckEnvelopeSchema, `/v1/workers/${id}/stop`, { method: "POST" })).ack;
  }

  async page(id: string, after?: number, limit?: number): Promise<TranscriptPage> {
    const q = new URLSearchParams();
    if (after !== undefined) q.set("after", String(after));
    if (limit !== undefined) q.set("limit", String(limit));
    const qs = q.size ? `?${q}` : "";
    return await this.ok(TranscriptEnvelopeSchema, `/v1/workers/${id}/transcript${qs}`);
  }

  /** The whole transcript, paged. */
  async transcript(id: string, limit = 500): Promise<WorkerEvent[]> {
    const all: WorkerEvent[] = [];
    let after = 0;
    for (let i = 0; i < 10_000; i++) {
      const p = await this.page(id, after, limit);
      if (p.entries.length === 0) return all;
      all.push(...p.entries);
      after = p.next_after;
    }
    throw new Error("transcript paging did not end");
  }

  /** Waits until the worker is idle with at least `turns` turns done. */
  async waitIdle(id: string, turns = 1): Promise<WorkerDetail> {
    return await waitUntil(`worker ${id} idle after ${turns} turn(s)`, async () => {
      const d = await this.detail(id);
      return d.status === "idle" && d.turn_count >= turns ? d : undefined;
    });
  }

  /** Waits until the worker has recorded at least `n` output deltas. */
  async waitDeltas(id: string, n: number): Promise<WorkerEvent[]> {
    return await waitUntil(`${n} output deltas of ${id}`, async () => {
      const t = await this.transcript(id);
      return t.filter((e) => e.type === "output.delta").length >= n ? t : undefined;
    });
  }
}

function types(events: WorkerEvent[]): string[] {
  return events.map((e) => e.type);
}

function outputText(events: WorkerEvent[], stream?: string): string {
  return events.filter((e) => e.type === "output.delta" && (!stream || e.data.stream === stream))
    .map((e) => String(e.data.text)).join("");
}

function assertContiguous(seqs: number[], last: number, what: string) {
  assert.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), what);
}

/** A WebSocket whose messages are parsed and queued; reads have deadlines. */
class WsClient {
  readonly ws: WebSocket;
  readonly #msgs: unknown[] = [];
  #wake: (() => void) | null = null;
  closeEvent: CloseEvent | null = null;
  readonly closed: Promise<void>;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.onmessage = (m) => {
      this.#msgs.push(JSON.parse(m.data as string));
      this.#notify();
    };
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (e) => {
        this.closeEvent = e;
        this.#notify();
        resolve();
      });
    });
  }

  /**
   * Opens `path` (with `?after=`) on the client's runtime and reads the `stream.opened`
   * frame, which must name the runtime, the worker and `after`; rejects when the handshake
   * fails. `token` overrides the client's; `null` sends none.
   */
  static async open(c: Client, path: string, token?: string | null): Promise<WsClient> {
    const client = await WsClient.#connect(c, path, token);
    const opened = await client.next();
    const url = new URL(path, "http://x");
    assert.deepEqual(opened, {
      type: "stream.opened",
      runtime_id: c.runtimeId,
      worker_id: url.pathname.split("/")[3],
      after: Number(url.searchParams.get("after") ?? 0),
    });
    return client;
  }

  static #connect(c: Client, path: string, token?: string | null): Promise<WsClient> {
    const auth = token === null ? undefined : token ?? c.token;
    return new Promise((resolve, reject) => {
      const ws = openWebSocket(c.wsBase + path, auth ? authHeaders(auth) : undefined);
      const client = new WsClient(ws);
      let errorMessage = "";
      ws.addEventListener("error", (e) => errorMessage = (e as ErrorEvent).message ?? "error");
      ws.addEventListener("open", () => resolve(client), { once: true });
      client.closed.then(() => reject(new Error(`websocket did not open: ${errorMessage}`)));
    });
  }

  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The next message, or null once the socket closed and every message was read. */
  async next(timeoutMs = DEADLINE_MS): Promise<unknown | null> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      if (this.#msgs.length) return this.#msgs.shift();
      if (this.closeEvent) return null;
      const left = end - Date.now();
      if (left <= 0) throw new Error(`no websocket message within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#wake = r;
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }

  /** Reads events (validated) until one with `seq >= untilSeq`; control frames fail the read. */
  async eventsUntil(untilSeq: number): Promise<WorkerEvent[]> {
    const out: WorkerEvent[] = [];
    while (out.length === 0 || out[out.length - 1].seq < untilSeq) {
      const m = await this.next();
      assert.ok(m !== null, `socket closed before seq ${untilSeq}`);
      assert.ok(!isControlFrame(m), `unexpected control frame ${JSON.stringify(m)}`);
      out.push(WorkerEventSchema.parse(m));
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN) {
      this.ws.close();
    }
    await this.closed;
  }

  async [Symbol.asyncDispose]() {
    await this.close();
  }
}

/** Sends a raw WebSocket upgrade request and returns the status and JSON body of the reply. */
async function rawUpgrade(
  port: number,
  path: string,
): Promise<{ status: number; body: unknown; raw: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), DEADLINE_MS);
  try {
    await conn.write(new TextEncoder().encode(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\n` +
        `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    ));
    let raw = "";
    const dec = new TextDecoder();
    const buf = new Uint8Array(4096);
    for (;;) {
      const head = raw.indexOf("\r\n\r\n");
      if (head >= 0) {
        const len = Number(/content-length:\s*(\d+)/i.exec(raw.slice(0, head))?.[1] ?? NaN);
        const body = raw.slice(head + 4);
        if (Number.isFinite(len) && new TextEncoder().encode(body).length >= len) {
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
          return { status, body: JSON.parse(body), raw };
        }
      }
      const n = await conn.read(buf);
      if (n === null) throw new Error(`connection closed early: ${raw}`);
      raw += dec.decode(buf.subarray(0, n), { stream: true });
    }
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed by the timer */ }
  }
}

// --- success paths -------------------------------------------------------------------------

Deno.test("GET /v1/runtime reports protocol, capabilities and profiles", async () => {
  await using rt = await RuntimeProcess.start({
    id: "summary-rt",
    config: configToml({ slow: SLOW }, { display_name: "Summary Runtime" }),
  });
  const c = Client.of(rt);
  const s = await c.summary();
  assert.equal(s.runtime_id, "summary-rt");
  assert.equal(s.display_name, "Summary Runtime");
  assert.equal(s.status, "running");
  assert.deepEqual(s.protocol, { name: PROTOCOL_NAME, version: PROTOCOL_VERSION });
  assert.deepEqual(s.protocol, { name: "yoi-worker-runtime", version: 1 });
  assert.deepEqual(
    Object.keys(s.capabilities).sort(),
    [...OPERATIONS, ...LIFECYCLE_OPERATIONS].sort(),
  );
  for (const op of [...OPERATIONS, ...LIFECYCLE_OPERATIONS]) {
    assert.equal(s.capabilities[op], true, op);
  }
  assert.deepEqual(s.worker_counts, { idle: 0, busy: 0, paused: 0, stopped: 0 });
  assert.deepEqual(s.profiles, ["echo", "slow"]);
  assert.equal(s.worker_count, 0);
  assert.equal(s.os, Deno.build.os);
  assert.equal(s.arch, Deno.build.arch);
  assert.ok(!Number.isNaN(Date.parse(s.started_at)));
  const raw = await c.call("/v1/runtime");
  assert.ok(!raw.text.includes("/tmp"), "summary must not contain paths");
});

Deno.test("worker routes: list, create, detail, input, transcript paging, cancel, stop", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);

  const empty = await c.ok(WorkerListEnvelopeSchema, "/v1/workers");
  assert.deepEqual(empty.workers, []);
  assert.deepEqual(empty.diagnostics, []);

  // A bare POST (no body) uses the default profile.
  const bare = (await c.ok(WorkerEnvelopeSchema, "/v1/workers", { method: "POST" }, 201)).worker;
  assert.equal(bare.profile, "echo");

  const w = await c.create({ profile: "echo", display_name: "Alpha ✓" });
  assert.equal(w.runtime_id, "test");
  assert.equal(w.display_name, "Alpha ✓");
  assert.equal(w.profile, "echo");
  assert.equal(w.status, "idle");
  assert.equal(w.turn_count, 0);
  assert.equal(w.last_turn_outcome, null);
  assert.equal(w.last_seq, 2);

  const list = await c.ok(WorkerListEnvelopeSchema, "/v1/workers");
  assert.deepEqual(
    list.workers.map((x) => x.worker_id).sort(),
    [bare.worker_id, w.worker_id].sort(),
  );
  assert.equal((await c.summary()).worker_count, 2);
  assert.deepEqual(await c.detail(w.worker_id), w);

  const text = "hello, runtime — ünïcödé 🎉 and some more text to split in chunks";
  const ack = await c.input(w.worker_id, text);
  assert.equal(ack.worker_id, w.worker_id);
  assert.equal(ack.status, "busy");
  assert.equal(ack.seq, 3); // the input.accepted event
  const done = await c.waitIdle(w.worker_id);
  assert.equal(done.turn_count, 1);
  assert.equal(done.last_turn_outcome, "completed");

  const all = await c.transcript(w.worker_id);
  assertContiguous(all.map((e) => e.seq), done.last_seq, "transcript seqs");
  for (const e of all) assert.equal(e.worker_id, w.worker_id);
  const ty = types(all);
  assert.deepEqual(ty.slice(0, 5), [
    "worker.created",
    "worker.status",
    "input.accepted",
    "worker.status",
    "turn.started",
  ]);
  assert.deepEqual(ty.slice(-2), ["turn.completed", "worker.status"]);
  assert.deepEqual(all[2].data, { text });
  assert.deepEqual(all[3].data, { status: "busy" });
  assert.deepEqual(all[all.length - 1].data, { status: "idle" });
  assert.equal(outputText(all), text);
  assert.ok(ty.filter((t) => t === "output.delta").length > 1, "output is streamed in chunks");

  // Paging with after/limit reproduces the same log.
  const paged: WorkerEvent[] = [];
  let after = 0;
  for (let i = 0; i < 100; i++) {
    const p = await c.page(w.worker_id, after, 3);
    assert.ok(p.entries.length <= 3);
    if (p.entries.length === 0) {
      assert.equal(p.next_after, after);
      break;
    }
    assert.equal(p.next_after, p.entries[p.entries.length - 1].seq);
    paged.push(...p.entries);
    after = p.next_after;
  }
  assert.deepEqual(paged, all);
  const mid = await c.page(w.worker_id, 4, 2);
  assert.deepEqual(mid.entries.map((e) => e.seq), [5, 6]);
  assert.equal(mid.next_after, 6);
  const past = await c.page(w.worker_id, done.last_seq + 100);
  assert.deepEqual(past, { entries: [], next_after: done.last_seq + 100 });
  assert.deepEqual((await c.page(w.worker_id)).entries, all); // defaults: after=0, limit=500

  // Cancel while idle is a no-op ack.
  const idleCancel = await c.cancel(w.worker_id);
  assert.deepEqual(idleCancel, { worker_id: w.worker_id, status: "idle", seq: done.last_seq });

  const stopped = await c.stop(w.worker_id);
  assert.equal(stopped.status, "stopped");
  const afterStop = await c.transcript(w.worker_id);
  assert.deepEqual(types(afterStop).slice(-2), ["worker.status", "worker.stopped"]);
  assert.equal(stopped.seq, afterStop[afterStop.length - 1].seq);
  assert.equal((await c.detail(w.worker_id)).status, "stopped");
  // Stop is idempotent.
  assert.deepEqual(await c.stop(w.worker_id), stopped);
  assert.equal((await c.transcript(w.worker_id)).length, afterStop.length);
});

Deno.test("create with request_id is idempotent, also when retried concurrently", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);
  const a = await c.create({ request_id: "req-1", display_name: "first" });
  const count = (await c.summary()).worker_count;
  const b = await c.create({ request_id: "req-1", display_name: "first" });
  assert.equal(b.worker_id, a.worker_id);
  assert.equal((await c.summary()).worker_count, count);
  // Retries with the same id race each other: one worker comes out.
  const many = await Promise.all(
    Array.from({ length: 8 }, () => c.create({ request_id: "req-2" })),
  );
  assert.equal(new Set(many.map((w) => w.worker_id)).size, 1);
  assert.notEqual(many[0].worker_id, a.worker_id);
  assert.equal((await c.summary()).worker_count, count + 1);
  // Without a request_id every call is a new worker.
  const x = await c.create();
  const y = await c.create();
  assert.notEqual(x.worker_id, y.worker_id);
  assert.equal((await c.summary()).worker_count, count + 3);
  const list = await c.ok(WorkerListEnvelopeSchema, "/v1/workers");
  assert.equal(list.workers.length, count + 3);
});

Deno.test("busy → cancel → idle and usable again; stop while busy ends the worker", async () => {
  await using rt = await RuntimeProcess.start({ config: configToml({ slow: SLOW }) });
  const c = Client.of(rt);
  const w = await c.create({ profile: "slow" });
  const long = "x".repeat(400); // 400 chunks × 50 ms: far longer than the test needs

  await c.input(w.worker_id, long);
  assert.equal((await c.detail(w.worker_id)).status, "busy");
  const busy = await c.fails(
    `/v1/workers/${w.worker_id}/input`,
    { json: { text: "again" } },
    409,
    "worker_busy",
  );
  assert.match(busy.error.message, /busy/);
  await c.waitDeltas(w.worker_id, 2);

  const ack = await c.cancel(w.worker_id);
  assert.equal(ack.status, "idle");
  const afterCancel = await c.transcript(w.worker_id);
  assert.equal(ack.seq, afterCancel[afterCancel.length - 1].seq);
  assert.deepEqual(types(afterCancel).slice(-2), ["turn.cancelled", "worker.status"]);
  assert.equal(afterCancel[afterCancel.length - 2].data.reason, "cancelled");
  assert.ok(outputText(afterCancel).length < long.length);
  const d = await c.detail(w.worker_id);
  assert.equal(d.status, "idle");
  assert.equal(d.last_turn_outcome, "cancelled");

  // Usable again: a second input runs a full turn.
  const ack2 = await c.input(w.worker_id, "ok");
  assert.equal(ack2.seq, ack.seq + 1);
  const d2 = await c.waitIdle(w.worker_id, 2);
  assert.equal(d2.last_turn_outcome, "completed");
  const t2 = await c.transcript(w.worker_id);
  assert.equal(outputText(t2.filter((e) => e.seq > ack.seq)), "ok");
  assertContiguous(t2.map((e) => e.seq), d2.last_seq, "seqs across turns");

  // Stop while busy: the turn is cancelled, the worker is stopped for good.
  await c.input(w.worker_id, long);
  await waitUntil("a delta of turn 3", async () => {
    const t = await c.transcript(w.worker_id);
    return t.filter((e) => e.seq > d2.last_seq && e.type === "output.delta").length > 0;
  });
  const stopAck = await c.stop(w.worker_id);
  assert.equal(stopAck.status, "stopped");
  const t3 = await c.transcript(w.worker_id);
  assert.deepEqual(types(t3).slice(-3), ["turn.cancelled", "worker.status", "worker.stopped"]);
  assert.equal(t3[t3.length - 3].data.reason, "worker stopped");
  assert.deepEqual(t3[t3.length - 2].data, { status: "stopped" });
  assert.equal((await c.detail(w.worker_id)).status, "stopped");
  const stoppedErr = await c.fails(
    `/v1/workers/${w.worker_id}/input`,
    { json: { text: "more" } },
    409,
    "worker_stopped",
  );
  assert.match(stoppedErr.error.message, /stopped/);
  // Cancel on a stopped worker is a harmless ack.
  assert.equal((await c.cancel(w.worker_id)).status, "stopped");
  assert.equal((await c.transcript(w.worker_id)).length, t3.length);
});

// --- typed errors ----------------------------------------------------------------------------

Deno.test("unknown and invalid worker ids, unknown routes", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);
  const unknown = newWorkerId();
  const routes: [string, CallOptions][] = [
    ["", {}],
    ["/input", { json: { text: "x" } }],
    ["/cancel", { method: "POST" }],
    ["/stop", { method: "POST" }],
    ["/transcript", {}],
    ["/events", {}],
  ];
  for (const [suffix, opts] of routes) {
    await c.fails(`/v1/workers/${unknown}${suffix}`, opts, 404, "worker_not_found");
  }
  // An unknown worker wins over a bad body.
  await c.fails(`/v1/workers/${unknown}/input`, { body: "{nope" }, 404, "worker_not_found");

  const invalid = [
    "nope",
    unknown.toUpperCase(),
    crypto.randomUUID(), // v4, not a runtime-generated id
    "..%2F..%2Fetc",
    "%2Fetc%2Fpasswd",
    "x".repeat(300),
  ];
  for (const id of invalid) {
    for (const [suffix, opts] of routes) {
      const e = await c.fails(`/v1/workers/${id}${suffix}`, opts, 400, "invalid_id");
      assert.ok(!e.error.message.includes(id), "the rejected id is not echoed");
    }
  }

  await c.fails("/v1/nope", {}, 404, "not_found");
  await c.fails("/", {}, 404, "not_found");
  await c.fails("/v2/runtime", {}, 404, "not_found");
  await c.fails(`/v1/workers/${unknown}/input/extra`, { method: "POST" }, 404, "not_found");
  const wrongMethod = await c.call("/v1/workers", { method: "DELETE" });
  assert.ok([404, 405].includes(wrongMethod.status), wrongMethod.text);
});

Deno.test("bad request bodies and queries are typed 4xx errors", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);
  const w = await c.create();
  const input = `/v1/workers/${w.worker_id}/input`;

  await c.fails("/v1/workers", { body: "{not json" }, 400, "invalid_json");
  await c.fails(input, { body: "[1,2" }, 400, "invalid_json");
  await c.fails(input, { body: "" }, 400, "invalid_request"); // empty body = {} → text missing
  await c.fails(input, { json: { text: 5 } }, 400, "invalid_request");
  await c.fails(input, { json: { text: "" } }, 400, "invalid_request");
  await c.fails(input, { json: ["text"] }, 400, "invalid_request");
  await c.fails(input, { json: null }, 400, "invalid_request");
  const extra = await c.fails(
    input,
    { json: { text: "hi", command: "rm -rf /" } },
    400,
    "invalid_request",
  );
  assert.ok(!extra.error.message.includes("rm -rf"), "values are not echoed");
  await c.fails("/v1/workers", { json: { profile: 7 } }, 400, "invalid_request");
  await c.fails("/v1/workers", { json: { argv: ["sh"] } }, 400, "invalid_request");
  await c.fails("/v1/workers", { json: { profile: "Bad Name" } }, 400, "invalid_request");
  await c.fails("/v1/workers", { json: { display_name: "a\u0007b" } }, 400, "invalid_request");
  await c.fails("/v1/workers", { json: { display_name: "x".repeat(81) } }, 400, "invalid_request");
  await c.fails("/v1/workers", { json: { request_id: "" } }, 400, "invalid_request");
  const unk = await c.fails("/v1/workers", { json: { profile: "nope" } }, 400, "unknown_profile");
  assert.match(unk.error.message, /nope/);

  // Oversized bodies: declared by content-length, and streamed without one.
  const big = JSON.stringify({ text: "x".repeat(1024 * 1024 + 16) });
  await c.fails(input, { body: big }, 413, "body_too_large");
  await c.fails("/v1/workers", { body: big }, 413, "body_too_large");
  const bytes = new TextEncoder().encode(big);
  const stream = new ReadableStream<Uint8Array>({
    start(ctl) {
      for (let i = 0; i < bytes.length; i += 64 * 1024) {
        ctl.enqueue(bytes.subarray(i, i + 64 * 1024));
      }
      ctl.close();
    },
  });
  await c.fails(input, { body: stream }, 413, "body_too_large");

  const tr = `/v1/workers/${w.worker_id}/transcript`;
  const queries = ["after=-1", "after=abc", "after=1e3", "after=0x10", "after=%207", "after="];
  queries.push("limit=0", "limit=99999", "limit=1.5", "limit=abc", "limit=");
  for (const q of queries) {
    const e = await c.fails(`${tr}?${q}`, {}, 400, "invalid_request");
    // Says what is wanted, in words a user can act on (not zod's "received NaN").
    assert.match(e.error.message, /: must be a whole number/, q);
    assert.doesNotMatch(e.error.message, /NaN|expected number/, q);
  }
  assert.equal((await c.ok(TranscriptEnvelopeSchema, `${tr}?after=0&limit=5000`)).next_after, 2);
  await c.fails(`/v1/workers/${w.worker_id}/events?after=-1`, {}, 400, "invalid_request");

  // Nothing above changed the worker.
  const d = await c.detail(w.worker_id);
  assert.equal(d.status, "idle");
  assert.equal(d.last_seq, 2);
  assert.equal((await c.summary()).worker_count, 1);
});

Deno.test("auth: a configured token is required on every route", async () => {
  const token = "t0ken-" + crypto.randomUUID();
  await using rt = await RuntimeProcess.start({ token });
  const c = Client.of(rt, token);
  const w = await c.create();

  const paths: [string, CallOptions][] = [
    ["/v1/runtime", {}],
    ["/v1/workers", {}],
    ["/v1/workers", { json: {} }],
    [`/v1/workers/${w.worker_id}`, {}],
    [`/v1/workers/${w.worker_id}/input`, { json: { text: "x" } }],
    [`/v1/workers/${w.worker_id}/cancel`, { method: "POST" }],
    [`/v1/workers/${w.worker_id}/stop`, { method: "POST" }],
    [`/v1/workers/${w.worker_id}/transcript`, {}],
    [`/v1/workers/${w.worker_id}/events`, {}],
    ["/v1/nope", {}],
  ];
  const wrong: [string, CallOptions][] = [
    ["missing", { token: null }],
    ["wrong token", { token: "wrong" }],
    ["token prefix", { token: null, headers: { authorization: `Bearer ${token.slice(0, -1)}` } }],
    ["basic scheme", { token: null, headers: { authorization: `Basic ${btoa("u:" + token)}` } }],
    ["bare token", { token: null, headers: { authorization: token } }],
  ];
  for (const [path, opts] of paths) {
    for (const [why, auth] of wrong) {
      const r = await c.call(path, { ...opts, ...auth });
      assert.equal(r.status, 401, `${why} ${path}: ${r.text}`);
      assert.equal(ErrorBodySchema.parse(r.body).error.code, "unauthorized");
      assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
  }
  // Nothing was done by the rejected calls.
  const d = await c.detail(w.worker_id);
  assert.equal(d.status, "idle");
  assert.equal(d.last_seq, 2);
  assert.equal((await c.summary()).worker_count, 1);

  // The right token works, WebSocket included.
  await c.input(w.worker_id, "authorized");
  const done = await c.waitIdle(w.worker_id);
  await using ws = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=0`);
  const events = await ws.eventsUntil(done.last_seq);
  assertContiguous(events.map((e) => e.seq), done.last_seq, "ws with token");
  await assert.rejects(
    WsClient.open(c, `/v1/workers/${w.worker_id}/events`, null),
    /did not open/,
  );
  await assert.rejects(
    WsClient.open(c, `/v1/workers/${w.worker_id}/events`, "wrong"),
    /did not open/,
  );
});

// --- WebSocket events ------------------------------------------------------------------------

Deno.test("WS events: replay from after, then live", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);
  const w = await c.create();
  await c.input(w.worker_id, "first turn");
  const d1 = await c.waitIdle(w.worker_id);
  const log1 = await c.transcript(w.worker_id);

  await using ws = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=0`);
  const replay = await ws.eventsUntil(d1.last_seq);
  assert.deepEqual(replay, log1, "replay is the transcript");

  await c.input(w.worker_id, "second, live");
  const d2 = await c.waitIdle(w.worker_id, 2);
  const live = await ws.eventsUntil(d2.last_seq);
  assertContiguous([...replay, ...live].map((e) => e.seq), d2.last_seq, "replay + live");
  assert.deepEqual(live, (await c.transcript(w.worker_id)).slice(d1.last_seq));
  assert.equal(outputText(live), "second, live");

  // after=N starts at N+1; default after is 0.
  await using mid = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=5`);
  const fromMid = await mid.eventsUntil(d2.last_seq);
  assert.equal(fromMid[0].seq, 6);
  assertContiguous([1, 2, 3, 4, 5, ...fromMid.map((e) => e.seq)], d2.last_seq, "after=5");
  await using dflt = await WsClient.open(c, `/v1/workers/${w.worker_id}/events`);
  assert.equal((await dflt.eventsUntil(1))[0].seq, 1);
  // after beyond the end: only future events.
  await using ahead = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=1000`);
  await c.stop(w.worker_id);
  const last = (await c.detail(w.worker_id)).last_seq;
  const tail = await dflt.eventsUntil(last);
  assert.equal(tail[tail.length - 1].type, "worker.stopped");
  await assert.rejects(ahead.next(300), /no websocket message/);
});

Deno.test("WS events: reconnect with the last seq misses nothing and repeats nothing", async () => {
  await using rt = await RuntimeProcess.start({
    config: configToml({ slowish: { engine: "echo", chunk_chars: 1, delay_ms: 20 } }),
  });
  const c = Client.of(rt);
  const w = await c.create({ profile: "slowish" });
  const received: number[] = [];

  const ws1 = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=0`);
  try {
    await c.input(w.worker_id, "y".repeat(300)); // ~6 s of streaming; cancelled below
    let deltas = 0;
    while (deltas < 5) {
      const m = await ws1.next();
      assert.ok(m !== null && !isControlFrame(m), JSON.stringify(m));
      const e = WorkerEventSchema.parse(m);
      received.push(e.seq);
      if (e.type === "output.delta") deltas++;
    }
  } finally {
    await ws1.close();
  }
  const lastSeen = received[received.length - 1];

  // The turn keeps streaming while nobody is connected.
  const gapEnd = await waitUntil("events while disconnected", async () => {
    const d = await c.detail(w.worker_id);
    return d.last_seq >= lastSeen + 5 ? d : undefined;
  });
  assert.equal(gapEnd.status, "busy", "the turn is still streaming at reconnect");

  await using ws2 = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=${lastSeen}`);
  const more = await ws2.eventsUntil(gapEnd.last_seq + 3); // replay, then live
  received.push(...more.map((e) => e.seq));
  const ack = await c.cancel(w.worker_id);
  const rest = await ws2.eventsUntil(ack.seq);
  received.push(...rest.map((e) => e.seq));
  assertContiguous(received, ack.seq, "union of both connections");
  assert.equal(rest[rest.length - 1].type, "worker.status");
});

Deno.test("WS events: unknown worker, missing upgrade and bad ids are typed errors", async () => {
  await using rt = await RuntimeProcess.start();
  const c = Client.of(rt);
  const w = await c.create();
  const unknown = newWorkerId();

  const up = await rawUpgrade(rt.port, `/v1/workers/${unknown}/events?after=0`);
  assert.equal(up.status, 404, up.raw);
  assert.equal(ErrorBodySchema.parse(up.body).error.code, "worker_not_found");
  const bad = await rawUpgrade(rt.port, `/v1/workers/not-an-id/events`);
  assert.equal(bad.status, 400, bad.raw);
  assert.equal(ErrorBodySchema.parse(bad.body).error.code, "invalid_id");
  const badAfter = await rawUpgrade(rt.port, `/v1/workers/${w.worker_id}/events?after=x`);
  assert.equal(badAfter.status, 400, badAfter.raw);
  assert.equal(ErrorBodySchema.parse(badAfter.body).error.code, "invalid_request");

  await assert.rejects(WsClient.open(c, `/v1/workers/${unknown}/events`), /did not open/);
  await c.fails(`/v1/workers/${unknown}/events`, {}, 404, "worker_not_found");
  await c.fails(`/v1/workers/${w.worker_id}/events`, {}, 400, "invalid_request");
});

Deno.test("runtime CLI: --ws-queue-max is listed and validated", async () => {
  const main = new URL("./main.ts", import.meta.url).pathname;
  const help = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", main, "--help"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(help.code, 0);
  assert.match(new TextDecoder().decode(help.stdout), /--ws-queue-max N/);
  const bad = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      main,
      "--store",
      "memory",
      "--listen",
      "127.0.0.1:0",
      "--ws-queue-max",
      "0",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(bad.code, 2);
  assert.match(new TextDecoder().decode(bad.stderr), /--ws-queue-max/);
  // A small queue still serves a complete stream to a reader that keeps up.
  await using rt = await RuntimeProcess.start({ extraArgs: ["--ws-queue-max", "5"] });
  const c = Client.of(rt);
  const w = await c.create();
  await c.input(w.worker_id, "small queue");
  const d = await c.waitIdle(w.worker_id);
  await using ws = await WsClient.open(c, `/v1/workers/${w.worker_id}/events?after=0`);
  assertContiguous((await ws.eventsUntil(d.last_seq)).map((e) => e.seq), d.last_seq, "stream");
});

// --- command engine through the process --------------------------------------------------------

Deno.test("command engine profiles through a runtime process", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "server_test_cmd_" });
  const pgidFile = join(dir, "pgid");
  try {
    await using rt = await RuntimeProcess.start({
      config: configToml({
        streams: {
          engine: "command",
          argv: ["sh", "-c", "echo out1; echo err1 >&2; sleep 0.1; cat; echo err2 >&2"],
        },
        failing: { engine: "command", argv: ["sh", "-c", "echo oops >&2; exit 3"] },
        slowcmd: { engine: "command", argv: ["sleep", "30"], timeout_ms: 300 },
        group: {
          engine: "command",
          argv: ["sh", "-c", `echo $$ > '${pgidFile}'; sleep 100 & sleep 100 & wait`],
        },
      }),
    });
    const c = Client.of(rt);
    assert.deepEqual((await c.summary()).profiles, [
      "echo",
      "failing",
      "group",
      "slowcmd",
      "streams",
    ]);

    await t.step("stdout and stderr stream as output.delta with `stream`", async () => {
      const w = await c.create({ profile: "streams" });
      await c.input(w.worker_id, "from stdin\n");
      const d = await c.waitIdle(w.worker_id);
      assert.equal(d.last_turn_outcome, "completed");
      const log = await c.transcript(w.worker_id);
      const deltas = log.filter((e) => e.type === "output.delta");
      for (const e of deltas) assert.ok(e.data.stream === "stdout" || e.data.stream === "stderr");
      assert.equal(outputText(log, "stdout"), "out1\nfrom stdin\n");
      assert.equal(outputText(log, "stderr"), "err1\nerr2\n");
      const end = log.find((e) => e.type === "turn.completed")!;
      assert.equal(end.data.exit_code, 0);
    });

    await t.step("a failing exit code ends the turn failed with exit_code", async () => {
      const w = await c.create({ profile: "failing" });
      await c.input(w.worker_id, "x");
      const d = await c.waitIdle(w.worker_id);
      assert.equal(d.last_turn_outcome, "failed");
      const log = await c.transcript(w.worker_id);
      const failed = log.find((e) => e.type === "turn.failed")!;
      assert.equal(failed.data.exit_code, 3);
      assert.match(String(failed.data.reason), /exit code 3/);
      assert.equal(outputText(log, "stderr"), "oops\n");
      // The worker stays usable.
      await c.input(w.worker_id, "y");
      assert.equal((await c.waitIdle(w.worker_id, 2)).last_turn_outcome, "failed");
    });

    await t.step("timeout_ms fails the turn with a timeout reason", async () => {
      const w = await c.create({ profile: "slowcmd" });
      await c.input(w.worker_id, "x");
      const d = await c.waitIdle(w.worker_id);
      assert.equal(d.last_turn_outcome, "failed");
      const failed = (await c.transcript(w.worker_id)).find((e) => e.type === "turn.failed")!;
      assert.match(String(failed.data.reason), /time(d)?\s?out/i);
      assert.ok(!String(failed.data.reason).includes("/"), "no paths in the reason");
    });

    await t.step("cancel terminates the whole process group", async () => {
      const w = await c.create({ profile: "group" });
      await c.input(w.worker_id, "x");
      const pgid = await waitUntil("the pgid file", async () => {
        const s = await Deno.readTextFile(pgidFile).catch(() => "");
        return /^\d+\n$/.test(s) ? Number(s) : undefined;
      });
      if (Deno.build.os === "linux") {
        // sh and both sleeps are running in the group.
        await waitUntil("3 processes in the group", () => liveInGroup(pgid).length >= 3);
      }
      const ack = await c.cancel(w.worker_id);
      assert.equal(ack.status, "idle");
      if (Deno.build.os === "linux") {
        const end = Date.now() + 1000;
        while (liveInGroup(pgid).length > 0 && Date.now() < end) await sleep(20);
        assert.deepEqual(liveInGroup(pgid), [], `processes left in group ${pgid}`);
      }
      const log = await c.transcript(w.worker_id);
      assert.deepEqual(types(log).slice(-2), ["turn.cancelled", "worker.status"]);
      assert.equal((await c.detail(w.worker_id)).last_turn_outcome, "cancelled");
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- shutdown ---------------------------------------------------------------------------------

Deno.test("SIGTERM: the runtime answers 503 while stopping, cancels turns and exits 0", async () => {
  const dir = await Deno.makeTempDir({ prefix: "server_test_term_" });
  // The command ignores SIGTERM, so cancelling it takes the engine's 2 s kill grace:
  // a window in which the runtime is stopping but still answering.
  const config = configToml({
    stubborn: { engine: "command", argv: ["sh", "-c", "trap '' TERM; echo started; sleep 30"] },
  });
  try {
    let busyId: string;
    let idleId: string;
    {
      await using rt = await RuntimeProcess.start({ store: "fs", dataDir: dir, config });
      const c = Client.of(rt);
      const busy = await c.create({ profile: "stubborn" });
      const idle = await c.create();
      busyId = busy.worker_id;
      idleId = idle.worker_id;
      await c.input(busyId, "x");
      await c.waitDeltas(busyId, 1);
      await using ws = await WsClient.open(c, `/v1/workers/${busyId}/events?after=0`);

      rt.child.kill("SIGTERM");
      let saw503 = false;
      let sawClosed = false;
      const end = Date.now() + DEADLINE_MS;
      while (!saw503 && !sawClosed && Date.now() < end) {
        try {
          const s = await c.call("/v1/runtime");
          assert.equal(s.status, 200);
          if (RuntimeEnvelopeSchema.parse(s.body).runtime.status !== "stopping") {
            await sleep(10);
            continue;
          }
          await c.fails(
            `/v1/workers/${idleId}/input`,
            { json: { text: "x" } },
            503,
            "runtime_stopping",
          );
          await c.fails("/v1/workers", { json: {} }, 503, "runtime_stopping");
          saw503 = true;
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          sawClosed = true; // the server closed while we were asking
        }
      }
      assert.ok(saw503 || sawClosed, "stopping was observable");
      if (!saw503) console.warn("note: the stopping window closed before a request landed");

      // The open stream sees the turn end, then `stream.ended` shutdown and close 1001 (DESIGN §11).
      const frames: unknown[] = [];
      for (let m = await ws.next(); m !== null; m = await ws.next()) frames.push(m);
      const events = frames.filter((f) => !isControlFrame(f)) as WorkerEvent[];
      assert.ok(events.some((e) => e.type === "turn.cancelled"), JSON.stringify(frames));
      const ctl = frames.filter(isControlFrame);
      assert.deepEqual(ctl.map((f) => [f.type, (f as { reason?: string }).reason]), [[
        "stream.ended",
        "shutdown",
      ]]);
      assert.equal(ctl[0].after, events[events.length - 1].seq);
      assert.equal(ws.closeEvent?.code, 1001);

      const status = await rt.kill("SIGTERM"); // already exiting; waits for the status
      assert.equal(status.code, 0, rt.output);
      assert.match(rt.output, /stopping/);
    }

    // Restarted on the same data dir: the turn ended cancelled, nothing was interrupted.
    await using rt2 = await RuntimeProcess.start({ store: "fs", dataDir: dir, config });
    const c2 = Client.of(rt2);
    const list = await c2.ok(WorkerListEnvelopeSchema, "/v1/workers");
    assert.deepEqual(list.diagnostics, []);
    const d = await c2.detail(busyId);
    assert.equal(d.status, "idle");
    assert.equal(d.last_turn_outcome, "cancelled");
    const log = await c2.transcript(busyId);
    assertContiguous(log.map((e) => e.seq), d.last_seq, "persisted log");
    assert.deepEqual(types(log).slice(-2), ["turn.cancelled", "worker.status"]);
    assert.equal(log[log.length - 2].data.reason, "runtime stopping");
    assert.equal(outputText(log, "stdout"), "started\n");
    assert.equal((await c2.detail(idleId)).status, "idle");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
