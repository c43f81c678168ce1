/**
 * Backend routing acceptance: a real Backend process (what `deno task dev`
 * runs) routing to its embedded Runtime and to real remote Runtime processes
 * on 127.0.0.1, the error mapping for failing remotes, the fan-out deadline,
 * config diagnostics and the audit log.
 *
 * Real processes are used everywhere a real Runtime can play the part. Fakes
 * appear only for servers a real Runtime cannot imitate (a socket that never
 * answers, a non-JSON answer, an oversized answer, a port that counts
 * connections); each one is marked FAKE where it is made.
 * @module
 */
import { waitUntil } from "./support/wait.ts";
import assert from "node:assert/strict";
import {
  type ErrorBody,
  ErrorBodySchema,
  type WorkerDetail,
  type WorkerEvent,
} from "../shared/mod.ts";
import { ApiClientError, CSRF_HEADER, type WorkspaceClient } from "../shared/client.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const SLOW_CONFIG = `
[profiles.slow]
engine="echo"
chunk_chars=1
delay_ms=30
`;

/** A UUIDv7-shaped worker id that no runtime has issued. */
const UNKNOWN_WORKER = "01900000-0000-7000-8000-000000000000";

interface Raw {
  status: number;
  body: unknown;
  text: string;
  ms: number;
}

/** One raw HTTP call to the Backend (status codes the typed client hides); body always consumed. */
async function call(
  bp: BackendProcess,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
): Promise<Raw> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers[CSRF_HEADER] = "1";
  if (body !== undefined) headers["content-type"] = "application/json";
  const t0 = performance.now();
  const res = await fetch(`${bp.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed, text, ms };
}

/** Asserts the typed error shape, status and code; returns the parsed body. */
function assertError(r: Raw, status: number, code: string, what: string): ErrorBody {
  assert.equal(r.status, status, `${what}: expected ${status} ${code}, got ${r.status} ${r.text}`);
  const parsed = ErrorBodySchema.safeParse(r.body);
  assert.ok(parsed.success, `${what}: error body does not match ErrorBodySchema: ${r.text}`);
  assert.equal(parsed.data.error.code, code, `${what}: ${r.text}`);
  return parsed.data;
}

/** Messages name the runtime id and never its endpoint, host or port. */
function assertNamesRuntimeOnly(text: string, runtimeId: string, ports: number[], what: string) {
  assert.ok(text.includes(runtimeId), `${what}: message should name ${runtimeId}: ${text}`);
  assertNoEndpoint(text, ports, what);
}

function assertNoEndpoint(text: string, ports: number[], what: string) {
  assert.ok(!text.includes("127.0.0.1"), `${what}: leaks the host: ${text}`);
  assert.ok(!/https?:\/\//.test(text), `${what}: leaks a URL: ${text}`);
  for (const p of ports) {
    assert.ok(!text.includes(String(p)), `${what}: leaks port ${p}: ${text}`);
  }
}

async function transcriptOf(c: WorkspaceClient, rid: string, wid: string) {
  const out: WorkerEvent[] = [];
  let after = 0;
  for (;;) {
    const page = await c.transcript(rid, wid, after, 500);
    out.push(...page.entries);
    if (page.entries.length === 0 || page.next_after === after) return out;
    after = page.next_after;
  }
}

async function waitStatus(
  c: WorkspaceClient,
  rid: string,
  wid: string,
  status: WorkerDetail["status"],
): Promise<WorkerDetail> {
  return await waitUntil(`${rid}/${wid} to be ${status}`, async () => {
    const { worker } = await c.getWorker(rid, wid);
    return worker.status === status ? worker : undefined;
  });
}

/** FAKE: accepts TCP connections and never answers (a real runtime cannot hang like this). */
function hungServer(): {
  port: number;
  accepted: () => number;
  [Symbol.asyncDispose](): Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const loop = (async () => {
    try {
      for await (const conn of listener) conns.push(conn);
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => conns.length,
    async [Symbol.asyncDispose]() {
      try {
        listener.close();
      } catch { /* already closed */ }
      await loop;
      for (const c of conns) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
    },
  };
}

/** FAKE: an HTTP server with a fixed handler (non-JSON or oversized answers). */
function fakeHttp(
  handler: (req: Request) => Response,
): { port: number; [Symbol.asyncDispose](): Promise<void> } {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, handler);
  return {
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

function remoteEntry(id: string, port: number, tokenRef?: string): string {
  return `[[runtimes.remote]]
id = "${id}"
endpoint = "http://127.0.0.1:${port}"
display_name = "Runtime ${id}"
${tokenRef ? `token_ref = "${tokenRef}"\n` : ""}`;
}

// ---------------------------------------------------------------------------

Deno.test("routes create/list/detail/input/cancel/stop to embedded and remote runtimes", async () => {
  const ALPHA_TOKEN = `alpha-${crypto.randomUUID()}`;
  const [alpha, beta] = await Promise.all([
    RuntimeProcess.start({ id: "alpha", token: ALPHA_TOKEN, config: SLOW_CONFIG }),
    RuntimeProcess.start({ id: "beta", config: SLOW_CONFIG }),
  ]);
  await using _alpha = alpha;
  await using _beta = beta;
  await using bp = await BackendProcess.start({
    config: remoteEntry("alpha", alpha.port, "env:YOI_ALPHA_TOKEN") +
      remoteEntry("beta", beta.port),
    env: { YOI_ALPHA_TOKEN: ALPHA_TOKEN },
    embeddedConfig: SLOW_CONFIG,
  });
  const c = bp.client;
  const ports = [alpha.port, beta.port];

  // Registry projection: three runtimes with kind and can_create_worker.
  const rl = await call(bp, "GET", "/api/runtimes");
  assert.equal(rl.status, 200, rl.text);
  assertNoEndpoint(rl.text, ports, "/api/runtimes");
  assert.ok(!rl.text.includes(ALPHA_TOKEN), "token leaked in /api/runtimes");
  const { runtimes, diagnostics } = await c.listRuntimes();
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(runtimes.map((r) => [r.runtime_id, r.kind]).sort(), [
    ["alpha", "remote"],
    ["beta", "remote"],
    ["embedded", "embedded"],
  ]);
  for (const r of runtimes) {
    assert.equal(r.status, "running", `${r.runtime_id}: ${JSON.stringify(r)}`);
    assert.equal(r.can_create_worker, true, r.runtime_id);
    assert.ok(r.profiles.includes("slow"), `${r.runtime_id} profiles: ${r.profiles}`);
    assert.deepEqual(r.diagnostics, []);
  }
  const one = await c.getRuntime("alpha");
  assert.equal(one.runtime.kind, "remote");

  const created = new Map<string, string>();
  for (const rid of ["embedded", "alpha", "beta"]) {
    // create → 201 with the runtime's id attached
    const cr = await call(bp, "POST", `/api/runtimes/${rid}/workers`, {
      profile: "slow",
      display_name: `w-${rid}`,
    });
    assert.equal(cr.status, 201, `${rid} create: ${cr.text}`);
    const worker = (cr.body as { worker: WorkerDetail }).worker;
    assert.equal(worker.runtime_id, rid);
    assert.equal(worker.profile, "slow");
    assert.equal(worker.status, "idle");
    const wid = worker.worker_id;
    created.set(rid, wid);

    // list and detail
    const list = await c.listWorkers(rid);
    const entry = list.workers.find((w) => w.worker_id === wid);
    assert.ok(entry, `${rid}: created worker missing from list`);
    assert.ok(list.workers.every((w) => w.runtime_id === rid), `${rid}: foreign runtime_id`);
    const detail = await c.getWorker(rid, wid);
    assert.equal(detail.worker.runtime_id, rid);
    assert.equal(detail.worker.worker_id, wid);
    assert.equal(detail.worker.display_name, `w-${rid}`);

    // input (202) → output.delta events in the transcript
    const inp = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/input`, {
      text: "hello",
    });
    assert.equal(inp.status, 202, `${rid} input: ${inp.text}`);
    const ack = (inp.body as { ack: { runtime_id: string; worker_id: string } }).ack;
    assert.equal(ack.runtime_id, rid);
    assert.equal(ack.worker_id, wid);
    await waitStatus(c, rid, wid, "idle");
    const t1 = await transcriptOf(c, rid, wid);
    const deltas = t1.filter((e) => e.type === "output.delta");
    assert.ok(deltas.length >= 1, `${rid}: no output.delta in ${JSON.stringify(t1)}`);
    assert.equal(deltas.map((e) => e.data.text).join(""), "hello");
    assert.ok(t1.some((e) => e.type === "turn.completed"), `${rid}: turn not completed`);

    // busy: a long slow turn, second input → 409 worker_busy, cancel → idle + turn.cancelled
    await c.input(rid, wid, "x".repeat(400)); // ~12 s at 30 ms per char; cancelled long before
    const busy = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/input`, {
      text: "again",
    });
    assertError(busy, 409, "worker_busy", `${rid} busy input`);
    assert.equal((await c.getWorker(rid, wid)).worker.status, "busy");
    const cancel = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/cancel`);
    assert.equal(cancel.status, 200, `${rid} cancel: ${cancel.text}`);
    await waitStatus(c, rid, wid, "idle");
    const t2 = await transcriptOf(c, rid, wid);
    assert.ok(t2.some((e) => e.type === "turn.cancelled"), `${rid}: no turn.cancelled`);

    // stop → stopped; input afterwards → 409 worker_stopped
    const stop = await c.stop(rid, wid);
    assert.equal(stop.ack.runtime_id, rid);
    const stopped = await waitStatus(c, rid, wid, "stopped");
    assert.equal(stopped.runtime_id, rid);
    const late = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/input`, {
      text: "late",
    });
    const err = assertError(late, 409, "worker_stopped", `${rid} input after stop`);
    assertNoEndpoint(err.error.message, ports, `${rid} worker_stopped message`);
  }

  // Cross-runtime addressing: authority is runtime_id + worker_id.
  const alphaWorker = created.get("alpha")!;
  assertError(
    await call(bp, "GET", `/api/runtimes/beta/workers/${alphaWorker}`),
    404,
    "worker_not_found",
    "alpha worker under beta",
  );
  assertError(
    await call(bp, "GET", `/api/runtimes/embedded/workers/${alphaWorker}`),
    404,
    "worker_not_found",
    "alpha worker under embedded",
  );
  assertError(
    await call(bp, "POST", `/api/runtimes/beta/workers/${alphaWorker}/input`, { text: "x" }),
    404,
    "worker_not_found",
    "input to alpha worker under beta",
  );
  const nf = assertError(
    await call(bp, "GET", `/api/runtimes/gamma/workers/${alphaWorker}`),
    404,
    "runtime_not_found",
    "unknown runtime",
  );
  assert.ok(nf.error.message.includes("gamma"));
  assertError(
    await call(bp, "GET", "/api/runtimes/gamma/workers"),
    404,
    "runtime_not_found",
    "unknown runtime list",
  );
  assertError(
    await call(bp, "GET", `/api/runtimes/BAD!/workers/${alphaWorker}`),
    400,
    "invalid_id",
    "bad runtime id",
  );
  assertError(
    await call(bp, "POST", "/api/runtimes/BAD!/workers", {}),
    400,
    "invalid_id",
    "bad runtime id on create",
  );
  assertError(
    await call(bp, "GET", "/api/runtimes/alpha/workers/not-a-worker-id"),
    400,
    "invalid_id",
    "bad worker id",
  );
  assertError(
    await call(bp, "POST", "/api/runtimes/embedded/workers/..%2F..%2Fetc/stop"),
    400,
    "invalid_id",
    "path-like worker id",
  );

  // All workers of all runtimes, each carrying its runtime_id.
  const all = await c.listAllWorkers();
  assert.deepEqual(all.diagnostics, []);
  for (const [rid, wid] of created) {
    const w = all.workers.find((x) => x.worker_id === wid);
    assert.ok(w, `${rid}/${wid} missing from /api/workers`);
    assert.equal(w.runtime_id, rid);
  }

  // Hosts: one per runtime, remote hosts named by runtime id only.
  const hr = await call(bp, "GET", "/api/hosts");
  assert.equal(hr.status, 200, hr.text);
  assertNoEndpoint(hr.text, ports, "/api/hosts");
  const { hosts } = await c.hosts();
  assert.deepEqual(hosts.flatMap((h) => h.runtime_ids).sort(), ["alpha", "beta", "embedded"]);
  assert.equal(hosts.find((h) => h.runtime_ids.includes("embedded"))?.kind, "local");
  assert.equal(hosts.find((h) => h.runtime_ids.includes("alpha"))?.kind, "remote");

  // Nothing the Backend printed carries the token.
  assert.ok(!bp.output.includes(ALPHA_TOKEN), "token leaked in Backend output");
});

Deno.test("maps remote runtime failures to typed errors and keeps serving other runtimes", async () => {
  const RIGHT = `right-${crypto.randomUUID()}`;
  const WRONG = `wrong-${crypto.randomUUID()}`;
  const UNSET_VAR = `YOI_TEST_UNSET_${crypto.randomUUID().replaceAll("-", "_")}`;
  assert.equal(Deno.env.get(UNSET_VAR), undefined);

  await using hung = hungServer();
  // FAKE: counts connections to prove a runtime with an unresolved token_ref is never contacted.
  await using notokPort = hungServer();
  await using garbage = fakeHttp(() =>
    new Response("<html><body>definitely not json</body></html>", {
      headers: { "content-type": "text/html" },
    })
  );
  await using huge = fakeHttp(() => {
    // 5 MB streamed without a content-length, so the cap must hold while reading.
    const chunk = new TextEncoder().encode(`"${"a".repeat(64 * 1024 - 3)}",`);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent === 0) ctrl.enqueue(new TextEncoder().encode('{"workers":['));
        if (sent >= 5 * 1024 * 1024) {
          ctrl.enqueue(new TextEncoder().encode('""],"diagnostics":[]}'));
          ctrl.close();
          return;
        }
        ctrl.enqueue(chunk);
        sent += chunk.byteLength;
      },
    });
    // It names itself like a runtime, so the size cap (not the identity check) refuses it.
    return new Response(body, {
      headers: { "content-type": "application/json", "yoi-runtime-id": "huge" },
    });
  });

  const [good, wrongtok, dead] = await Promise.all([
    RuntimeProcess.start({ id: "good" }),
    RuntimeProcess.start({ id: "wrongtok", token: RIGHT }),
    RuntimeProcess.start({ id: "dead" }),
  ]);
  await using _good = good;
  await using _wrongtok = wrongtok;
  await using _dead = dead;
  const deadPort = dead.port;
  await dead.kill("SIGKILL");

  const REMOTE_TIMEOUT = 800;
  await using bp = await BackendProcess.start({
    config: [
      remoteEntry("good", good.port),
      remoteEntry("wrongtok", wrongtok.port, "env:YOI_WRONGTOK_TOKEN"),
      remoteEntry("notok", notokPort.port, `env:${UNSET_VAR}`),
      remoteEntry("hung", hung.port),
      remoteEntry("dead", deadPort),
      remoteEntry("garbage", garbage.port),
      remoteEntry("huge", huge.port),
    ].join("\n"),
    env: { YOI_WRONGTOK_TOKEN: WRONG },
    extraArgs: ["--remote-timeout-ms", String(REMOTE_TIMEOUT), "--fanout-deadline-ms", "1000"],
  });
  const ports = [good.port, wrongtok.port, notokPort.port, hung.port, deadPort, garbage.port];
  ports.push(huge.port, bp.port);

  // A worker on the healthy runtime, used to show the Backend keeps serving after each failure.
  const { worker: goodWorker } = await bp.client.createWorker("good", {});
  const stillServing = async (what: string) => {
    const r = await call(bp, "GET", `/api/runtimes/good/workers/${goodWorker.worker_id}`);
    assert.equal(r.status, 200, `after ${what}: healthy runtime not served: ${r.text}`);
  };

  // Wrong token → 401 remote_runtime_auth_failed.
  for (
    const r of [
      await call(bp, "GET", "/api/runtimes/wrongtok/workers"),
      await call(bp, "POST", "/api/runtimes/wrongtok/workers", {}),
    ]
  ) {
    const e = assertError(r, 401, "remote_runtime_auth_failed", "wrong token");
    assertNamesRuntimeOnly(e.error.message, "wrongtok", ports, "wrong token");
    assert.ok(!r.text.includes(RIGHT) && !r.text.includes(WRONG), "token in error body");
  }
  await stillServing("wrong token");

  // Unresolvable token_ref → fails closed: diagnostic in /api/runtimes, errors on worker routes.
  const rl = await call(bp, "GET", "/api/runtimes");
  assert.equal(rl.status, 200, rl.text);
  assertNoEndpoint(rl.text, ports, "/api/runtimes");
  const { runtimes } = await bp.client.listRuntimes();
  const notok = runtimes.find((r) => r.runtime_id === "notok");
  assert.ok(notok, "notok not listed");
  assert.equal(notok.can_create_worker, false);
  assert.notEqual(notok.status, "running");
  const d = notok.diagnostics.find((x) => x.code === "token_ref_unresolved");
  assert.ok(d, `no token_ref_unresolved diagnostic: ${JSON.stringify(notok)}`);
  assert.ok(d.message.includes("notok"), d.message);
  for (
    const r of [
      await call(bp, "GET", "/api/runtimes/notok/workers"),
      await call(bp, "POST", "/api/runtimes/notok/workers", {}),
      await call(bp, "GET", `/api/runtimes/notok/workers/${UNKNOWN_WORKER}`),
      await call(bp, "POST", `/api/runtimes/notok/workers/${UNKNOWN_WORKER}/input`, { text: "x" }),
    ]
  ) {
    const e = assertError(r, 502, "token_ref_unresolved", "unresolved token_ref");
    assertNamesRuntimeOnly(e.error.message, "notok", ports, "unresolved token_ref");
  }
  assert.equal(notokPort.accepted(), 0, "a request reached the runtime without its token");
  await stillServing("unresolved token_ref");

  // Accepts TCP, never answers → 504 remote_runtime_timeout within the remote timeout + margin.
  {
    const r = await call(bp, "GET", "/api/runtimes/hung/workers");
    const e = assertError(r, 504, "remote_runtime_timeout", "hung runtime");
    assertNamesRuntimeOnly(e.error.message, "hung", ports, "hung runtime");
    // Refused after at most one inline re-check (which may be answered by a check that
    // has just ended), never later than the timeout plus a margin.
    assert.ok(r.ms <= REMOTE_TIMEOUT + 1500, `answered too late (${r.ms} ms)`);
    assert.ok(r.ms < REMOTE_TIMEOUT + 1500, `timeout took ${r.ms} ms`);
    const c = await call(bp, "POST", "/api/runtimes/hung/workers", {});
    assertError(c, 504, "remote_runtime_timeout", "hung runtime create");
    assert.ok(c.ms < REMOTE_TIMEOUT + 1500, `create timeout took ${c.ms} ms`);
  }
  await stillServing("hung runtime");

  // Killed runtime → 502 remote_runtime_unavailable.
  {
    const e = assertError(
      await call(bp, "GET", "/api/runtimes/dead/workers"),
      502,
      "remote_runtime_unavailable",
      "killed runtime",
    );
    assertNamesRuntimeOnly(e.error.message, "dead", ports, "killed runtime");
    assertError(
      await call(bp, "POST", `/api/runtimes/dead/workers/${UNKNOWN_WORKER}/stop`),
      502,
      "remote_runtime_unavailable",
      "killed runtime stop",
    );
  }
  await stillServing("killed runtime");

  // A server that is no runtime (no Yoi-Runtime-Id, non-JSON) → incompatible, 502.
  {
    const r = await call(bp, "GET", "/api/runtimes/garbage/workers");
    const e = assertError(r, 502, "runtime_protocol_unsupported", "non-JSON");
    assertNamesRuntimeOnly(e.error.message, "garbage", ports, "non-JSON");
    assert.ok(!r.text.includes("definitely not json"), "remote body echoed");
  }
  await stillServing("non-JSON runtime");

  // 5 MB answer → 502 remote_runtime_malformed_response (size cap).
  {
    const r = await call(bp, "GET", "/api/runtimes/huge/workers");
    const e = assertError(r, 502, "remote_runtime_malformed_response", "5 MB body");
    assertNamesRuntimeOnly(e.error.message, "huge", ports, "5 MB body");
    assert.ok(r.text.length < 10_000, `error body is ${r.text.length} chars`);
  }
  await stillServing("oversized runtime");

  // Unknown worker on a healthy runtime → 404 worker_not_found (remote's answer mapped).
  {
    const e = assertError(
      await call(bp, "GET", `/api/runtimes/good/workers/${UNKNOWN_WORKER}`),
      404,
      "worker_not_found",
      "unknown worker",
    );
    assertNoEndpoint(e.error.message, ports, "unknown worker");
    assertError(
      await call(bp, "POST", `/api/runtimes/good/workers/${UNKNOWN_WORKER}/input`, {
        text: "x",
      }),
      404,
      "worker_not_found",
      "unknown worker input",
    );
  }

  // The typed client surfaces the same code and status.
  await assert.rejects(bp.client.listWorkers("wrongtok"), (e: unknown) => {
    assert.ok(e instanceof ApiClientError);
    assert.equal(e.code, "remote_runtime_auth_failed");
    assert.equal(e.httpStatus, 401);
    return true;
  });
  await stillServing("typed client call");

  // Nothing the Backend printed carries a token or a remote endpoint.
  assert.ok(!bp.output.includes(RIGHT) && !bp.output.includes(WRONG), "token in Backend output");
  for (const p of [wrongtok.port, hung.port, deadPort, garbage.port, huge.port]) {
    assert.ok(!bp.output.includes(`127.0.0.1:${p}`), `endpoint :${p} in Backend output`);
  }
});

Deno.test("GET /api/workers answers within the fan-out deadline despite a hung runtime", async () => {
  await using hung = hungServer();
  const rts = await Promise.all(
    ["r1", "r2", "r3"].map((id) => RuntimeProcess.start({ id })),
  );
  await using _r = {
    async [Symbol.asyncDispose]() {
      await Promise.all(rts.map((r) => r.kill("SIGKILL")));
    },
  };
  const DEADLINE = 1000;
  await using bp = await BackendProcess.start({
    config: [
      ...rts.map((r) => remoteEntry(r.id, r.port)),
      remoteEntry("stuck", hung.port),
    ].join("\n"),
    extraArgs: ["--fanout-deadline-ms", String(DEADLINE), "--remote-timeout-ms", "5000"],
  });
  const wids = new Map<string, string>();
  for (const r of rts) {
    const { worker } = await bp.client.createWorker(r.id, {});
    wids.set(r.id, worker.worker_id);
  }

  for (let round = 0; round < 2; round++) {
    const res = await call(bp, "GET", "/api/workers");
    assert.equal(res.status, 200, res.text);
    assert.ok(res.ms < DEADLINE + 1500, `round ${round}: /api/workers took ${res.ms} ms`);
    const body = res.body as {
      workers: { runtime_id: string; worker_id: string }[];
      diagnostics: { code: string; message: string }[];
    };
    for (const [rid, wid] of wids) {
      assert.ok(
        body.workers.some((w) => w.runtime_id === rid && w.worker_id === wid),
        `round ${round}: ${rid} worker missing`,
      );
    }
    assert.equal(body.diagnostics.length, 1, JSON.stringify(body.diagnostics));
    assert.ok(body.diagnostics[0].message.includes("stuck"), body.diagnostics[0].message);
    assert.equal(body.diagnostics[0].code, "remote_runtime_timeout");
    assertNoEndpoint(res.text, [hung.port, ...rts.map((r) => r.port)], "/api/workers");
  }
  assert.ok(hung.accepted() >= 1, "the hung runtime was never asked");
});

Deno.test("config: an unparsable file leaves only the embedded runtime; a missing one is clean", async () => {
  const [broken, missing] = await Promise.all([
    BackendProcess.start({ config: '[[runtimes.remote]]\nid = "x\n' }),
    BackendProcess.start({}),
  ]);
  await using _broken = broken;
  await using _missing = missing;

  const b = await broken.client.listRuntimes();
  assert.deepEqual(b.runtimes.map((r) => r.runtime_id), ["embedded"]);
  const d = b.diagnostics.find((x) => x.code === "config_unparsable");
  assert.ok(d, `no config_unparsable diagnostic: ${JSON.stringify(b.diagnostics)}`);
  assert.ok(typeof d.line === "number" && typeof d.column === "number", JSON.stringify(d));
  assert.ok(!d.message.includes(broken.stateDir), "diagnostic leaks the config path");
  // Still serves the embedded runtime.
  const { worker } = await broken.client.createWorker("embedded", {});
  assert.equal(worker.runtime_id, "embedded");

  const m = await missing.client.listRuntimes();
  assert.deepEqual(m.runtimes.map((r) => [r.runtime_id, r.kind]), [["embedded", "embedded"]]);
  assert.deepEqual(m.diagnostics, []);
  assert.deepEqual(m.runtimes[0].diagnostics, []);
  assert.equal(m.runtimes[0].can_create_worker, true);
});

Deno.test("audit log: one line per mutating request, ids and outcome, no bodies", async () => {
  await using alpha = await RuntimeProcess.start({ id: "alpha" });
  await using bp = await BackendProcess.start({
    config: remoteEntry("alpha", alpha.port),
    embeddedConfig: SLOW_CONFIG,
  });
  const CANARY = `canary-${crypto.randomUUID()}`;
  const expected: {
    operation: string;
    runtime_id: string | null;
    worker_id?: string;
    outcome: string;
  }[] = [];

  for (const rid of ["embedded", "alpha"]) {
    const cr = await call(bp, "POST", `/api/runtimes/${rid}/workers`, {
      display_name: `audit ${CANARY}`,
    });
    assert.equal(cr.status, 201, cr.text);
    const wid = (cr.body as { worker: WorkerDetail }).worker.worker_id;
    expected.push({ operation: "worker.create", runtime_id: rid, worker_id: wid, outcome: "ok" });

    const inp = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/input`, {
      text: CANARY,
    });
    assert.equal(inp.status, 202, inp.text);
    expected.push({ operation: "worker.input", runtime_id: rid, worker_id: wid, outcome: "ok" });
    await waitStatus(bp.client, rid, wid, "idle");

    const stop = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/stop`);
    assert.equal(stop.status, 200, stop.text);
    expected.push({ operation: "worker.stop", runtime_id: rid, worker_id: wid, outcome: "ok" });

    const late = await call(bp, "POST", `/api/runtimes/${rid}/workers/${wid}/input`, {
      text: CANARY,
    });
    assertError(late, 409, "worker_stopped", "audit late input");
    expected.push({
      operation: "worker.input",
      runtime_id: rid,
      worker_id: wid,
      outcome: "worker_stopped",
    });

    const cancel = await call(bp, "POST", `/api/runtimes/${rid}/workers/${UNKNOWN_WORKER}/cancel`);
    assertError(cancel, 404, "worker_not_found", "audit unknown cancel");
    expected.push({
      operation: "worker.cancel",
      runtime_id: rid,
      worker_id: UNKNOWN_WORKER,
      outcome: "worker_not_found",
    });
  }
  const nf = await call(bp, "POST", "/api/runtimes/nosuch/workers", { display_name: CANARY });
  assertError(nf, 404, "runtime_not_found", "audit unknown runtime");
  expected.push({ operation: "worker.create", runtime_id: "nosuch", outcome: "runtime_not_found" });

  // Reads are not audited.
  await bp.client.listAllWorkers();
  await bp.client.listRuntimes();

  const text = await Deno.readTextFile(`${bp.stateDir}/audit.log`);
  assert.ok(!text.includes(CANARY), "audit log contains request body text");
  assert.ok(!bp.output.includes(CANARY), "Backend output contains request body text");
  const lines = text.split("\n").filter((l) => l.length > 0);
  assert.equal(lines.length, expected.length, text);
  lines.forEach((l, i) => {
    const entry = JSON.parse(l);
    assert.deepEqual(Object.keys(entry).sort(), [
      "at",
      "operation",
      "outcome",
      "principal",
      "runtime_id",
      "worker_id",
    ]);
    assert.equal(entry.principal, "loopback", `line ${i + 1}: no admin token configured`);
    assert.ok(!Number.isNaN(Date.parse(entry.at)), `line ${i + 1}: bad time ${entry.at}`);
    const want = expected[i];
    assert.equal(entry.operation, want.operation, `line ${i + 1}: ${l}`);
    assert.equal(entry.runtime_id, want.runtime_id, `line ${i + 1}: ${l}`);
    assert.equal(entry.worker_id, want.worker_id ?? null, `line ${i + 1}: ${l}`);
    assert.equal(entry.outcome, want.outcome, `line ${i + 1}: ${l}`);
  });
  assert.ok(!text.includes(String(alpha.port)), "audit log contains the remote endpoint");
});
