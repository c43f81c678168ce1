/**
 * Live replay (DESIGN §12): a corpus of good and bad requests against a real Backend
 * process (embedded runtime plus four remotes: one ready, one refusing the Backend's token,
 * one refusing connections, one that never answers) and a real runtime process. Every answer's
 * status must be documented for its operation in the served OpenAPI document and its body must
 * validate against the schema documented for that status; every operation of both documents
 * must answer at least once, and no answer is a 500.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";
import { Replay, UNROUTED } from "./support/openapi_replay.ts";
import { rawHttp } from "./support/raw_http.ts";
import { waitUntil } from "./support/wait.ts";
import { openWebSocket } from "../shared/deno_ws.ts";
import { createBackend } from "../backend/mod.ts";

const TOKEN = "replay-token-0123456789";
const PROFILES = `
[profiles.slow]
engine = "echo"
chunk_chars = 1
delay_ms = 200

[profiles.coder]
engine = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "m"
`;
const LONG = "x".repeat(200); // 40 s at 200 ms a character: busy until cancelled
const UNKNOWN_WORKER = "0190a0c0-0000-7000-8000-000000000000";

interface Reply {
  status: number;
  headers: Headers;
  body: string;
}

/** One HTTP call whose answer is checked against `replay`'s document. */
async function call(
  replay: Replay,
  base: string,
  method: string,
  path: string,
  opts: { json?: unknown; text?: string; headers?: Record<string, string>; csrf?: boolean } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const headers = new Headers(opts.headers);
  if (method !== "GET" && opts.csrf !== false) headers.set("x-yoi-request", "1");
  let body: string | undefined = opts.text;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers.set("content-type", "application/json");
  }
  const res = await fetch(`${base}${path}`, { method, headers, body, redirect: "manual" });
  const reply: Reply = { status: res.status, headers: res.headers, body: await res.text() };
  return { status: reply.status, body: replay.check(method, path, reply) };
}

/** A TCP listener that accepts connections and never answers (a hung runtime). */
class HungServer {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.Conn>();
  readonly port = (this.#listener.addr as Deno.NetAddr).port;
  readonly #loop = (async () => {
    for await (const c of this.#listener) this.#conns.add(c);
  })().catch(() => {});
  async [Symbol.asyncDispose]() {
    this.#listener.close();
    for (const c of this.#conns) c.close();
    await this.#loop;
  }
}

/** A free port nothing listens on (refused connections). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("OpenAPI replay: every answer of a live Backend and a live runtime is documented", async () => {
  await using rt = await RuntimeProcess.start({ id: "replay", token: TOKEN, config: PROFILES });
  await using locked = await RuntimeProcess.start({ id: "locked", token: "another-token-9876" });
  await using hung = new HungServer();
  await using bp = await BackendProcess.start({
    embeddedConfig: PROFILES,
    env: { YOI_REPLAY_TOKEN: TOKEN },
    extraArgs: ["--remote-timeout-ms", "800"],
    config: `[server]
health_interval_ms = 300

[[runtimes.remote]]
id = "replay"
endpoint = "${rt.url}"
token_ref = "env:YOI_REPLAY_TOKEN"

[[runtimes.remote]]
id = "locked"
endpoint = "${locked.url}"
token_ref = "env:YOI_REPLAY_TOKEN"

[[runtimes.remote]]
id = "down"
endpoint = "http://127.0.0.1:${closedPort()}"

[[runtimes.remote]]
id = "hung"
endpoint = "http://127.0.0.1:${hung.port}"
`,
  });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const api = new Replay("backend", await (await fetch(`${bp.url}/api/openapi.json`)).json());
  const v1 = new Replay(
    "runtime",
    await (await fetch(`${rt.url}/v1/openapi.json`, { headers: auth })).json(),
  );
  const B = (method: string, path: string, opts?: Parameters<typeof call>[4]) =>
    call(api, bp.url, method, path, opts);
  const R = (method: string, path: string, opts?: Parameters<typeof call>[4]) =>
    call(v1, rt.url, method, path, { ...opts, headers: { ...auth, ...opts?.headers } });
  const expect = async (p: Promise<{ status: number; body: unknown }>, status: number) => {
    const r = await p;
    assert.equal(r.status, status, JSON.stringify(r.body));
    // deno-lint-ignore no-explicit-any
    return r.body as any;
  };
  await waitUntil("replay ready", async () => {
    const { body } = await B("GET", "/api/runtimes/replay");
    return body.runtime.state === "ready";
  });

  // ---- Backend: reads, guards, routing errors ----
  await expect(B("GET", "/api/runtimes"), 200);
  await expect(B("GET", "/api/runtimes/embedded"), 200);
  await expect(B("GET", "/api/runtimes/nope"), 404);
  await expect(B("GET", "/api/runtimes/BAD!"), 400);
  await expect(B("GET", "/api/workers"), 200);
  await expect(B("GET", "/api/workers?status=idle"), 200);
  await expect(B("GET", "/api/workers?status=bogus"), 400);
  await expect(B("GET", "/api/backend"), 200);
  await expect(B("GET", "/api/hosts"), 200);
  await expect(B("GET", "/api/openapi.json"), 200);
  await expect(B("PUT", "/api/runtimes"), 405);
  await expect(B("DELETE", "/api/workers"), 405);
  await expect(B("GET", "/api/nope"), 404);
  await expect(B("GET", "/api/live"), 400);
  await expect(B("GET", "/api/runtimes/locked/workers"), 401);
  await expect(B("GET", "/api/runtimes/down/workers"), 502);
  await expect(B("GET", "/api/runtimes/hung/workers"), 504);
  await expect(B("GET", "/api/runtimes/nope/workers"), 404);
  await expect(B("GET", `/api/runtimes/replay/workers/${UNKNOWN_WORKER}`), 404);
  await expect(B("GET", "/api/runtimes/replay/workers/not-a-uuid"), 400);
  await expect(B("POST", "/api/runtimes/replay/workers", { json: {}, csrf: false }), 403);
  await expect(
    B("POST", "/api/runtimes/replay/workers", {
      json: {},
      headers: { origin: "http://evil.example" },
    }),
    403,
  );
  await expect(B("POST", "/api/runtimes/replay/workers", { text: "{}" }), 400); // not JSON-typed
  await expect(
    B("POST", "/api/runtimes/replay/workers", {
      text: "x".repeat(1024 * 1024 + 1),
      headers: { "content-type": "application/json" },
    }),
    413,
  );
  await expect(
    B("POST", "/api/runtimes/replay/workers", {
      text: "{nope",
      headers: { "content-type": "application/json" },
    }),
    400,
  );
  await expect(B("POST", "/api/runtimes/replay/workers", { json: { profile: "missing" } }), 400);
  for (const host of ["evil.example", `127.0.0.1:${bp.port + 1}`]) {
    const res = await rawHttp(bp.port, ["GET /api/runtimes HTTP/1.1", `Host: ${host}`]);
    assert.equal(res.status, 403);
    api.check("GET", "/api/runtimes", res);
  }
  // The list changes with every health check (300 ms here): ask again until it holds still.
  let unchanged = 0;
  for (let i = 0; i < 50 && unchanged !== 304; i++) {
    const first = await fetch(`${bp.url}/api/settings/runtime-connections`);
    await first.body?.cancel();
    const headers = { "if-none-match": first.headers.get("etag")! };
    unchanged = (await B("GET", "/api/settings/runtime-connections", { headers })).status;
  }
  assert.equal(unchanged, 304, "a conditional GET of an unchanged list");

  // ---- Backend: a worker's whole life, on the remote and on the embedded runtime ----
  for (const rid of ["replay", "embedded"]) {
    const base = `/api/runtimes/${rid}/workers`;
    await expect(B("GET", base), 200);
    await expect(B("GET", `${base}?status=busy`), 200);
    const { worker } = await expect(B("POST", base, { json: { profile: "slow" } }), 201);
    const w = `${base}/${worker.worker_id}`;
    await expect(B("GET", w), 200);
    await expect(B("POST", `${w}/input`, { json: { text: LONG } }), 202);
    await expect(B("POST", `${w}/input`, { json: { text: "again" } }), 409); // worker_busy
    await expect(B("POST", `${w}/input`, { json: { text: "" } }), 400);
    await expect(B("POST", `${w}/pause`), 200);
    await expect(B("POST", `${w}/resume`), 200);
    await expect(B("POST", `${w}/cancel`), 200);
    await expect(B("POST", `${w}/pause`), 409); // worker_not_busy
    await expect(B("POST", `${w}/resume`), 409); // worker_not_paused
    await expect(B("POST", `${w}/restore`), 409); // worker_not_stopped
    await expect(B("DELETE", w), 409); // worker_not_stopped
    await expect(B("PATCH", w, { json: { display_name: "renamed" } }), 200);
    await expect(B("PATCH", w, { json: { display_name: "" } }), 400);
    await expect(B("GET", `${w}/transcript?after=0&limit=10`), 200);
    await expect(B("GET", `${w}/transcript?limit=0`), 400);
    await expect(B("GET", `${w}/events`), 400); // not an upgrade
    const sock = openWebSocket(`${bp.url.replace("http", "ws")}${w}/events?after=0`);
    await new Promise((ok, fail) => {
      sock.onopen = ok;
      sock.onerror = fail;
    });
    sock.close();
    api.opened("GET", `${w}/events`);
    await expect(B("POST", `${w}/stop`), 200);
    await expect(B("POST", `${w}/input`, { json: { text: "late" } }), 409); // worker_stopped
    await expect(B("POST", `${w}/restore?dry_run=true`), 200);
    await expect(B("POST", `${w}/restore`), 200);
    await expect(B("POST", `${w}/stop`), 200);
    await expect(B("DELETE", w), 200);
    await expect(B("GET", w), 404);
    const coder = (await expect(B("POST", base, { json: { profile: "coder" } }), 201)).worker;
    await expect(B("POST", `${base}/${coder.worker_id}/pause`), 501);
  }
  const live = openWebSocket(`${bp.url.replace("http", "ws")}/api/live`);
  await new Promise((ok, fail) => {
    live.onopen = ok;
    live.onerror = fail;
  });
  live.close();
  api.opened("GET", "/api/live");

  // ---- Backend: runtime connection settings ----
  const C = "/api/settings/runtime-connections";
  await expect(B("POST", C, { json: { id: "extra", endpoint: rt.url, token: "raw" } }), 400);
  await expect(B("POST", C, { json: { id: "BAD!", endpoint: rt.url } }), 400);
  await expect(B("POST", C, { json: { id: "replay", endpoint: rt.url } }), 409);
  await expect(B("POST", C, { json: { id: "meta", endpoint: "http://169.254.169.254" } }), 400);
  await expect(B("POST", C, { json: { id: "extra", endpoint: rt.url } }), 201);
  await expect(B("PATCH", `${C}/extra`, { json: { display_name: "Extra" } }), 200);
  await expect(B("PATCH", `${C}/extra`, { json: { id: "other" } }), 400);
  await expect(B("PATCH", `${C}/embedded`, { json: { display_name: "x" } }), 409);
  await expect(B("PATCH", `${C}/nope`, { json: { display_name: "x" } }), 404);
  await expect(B("PATCH", `${C}/BAD!`, { json: { display_name: "x" } }), 400);
  await expect(B("POST", `${C}/extra/test`), 200);
  await expect(B("POST", `${C}/embedded/test`), 200);
  await expect(B("POST", `${C}/nope/test`), 404);
  await expect(B("POST", `${C}/BAD!/test`), 400);
  await expect(B("POST", `${C}/test`, { json: { id: "cand", endpoint: rt.url } }), 200);
  await expect(
    B("POST", `${C}/test`, { json: { id: "cand", endpoint: rt.url, token_ref: "env:HOME" } }),
    400,
  );
  await expect(B("DELETE", `${C}/extra?force=maybe`), 400);
  await expect(B("DELETE", `${C}/extra`), 200);
  await expect(B("DELETE", `${C}/extra`), 404);
  await expect(B("DELETE", `${C}/embedded`), 409);
  await expect(B("DELETE", `${C}/BAD!`), 400);
  await expect(B("DELETE", `${C}/replay`), 409); // runtime_in_use: its coder worker is idle

  // ---- Runtime: the same against the runtime process directly ----
  await expect(R("GET", "/v1/runtime"), 200);
  await expect(R("GET", "/v1/openapi.json"), 200);
  await expect(R("GET", "/v1/workers"), 200);
  await expect(R("GET", "/v1/workers?status=stopped"), 200);
  await expect(R("GET", "/v1/workers?status=bogus"), 400);
  await expect(R("GET", "/v1/runtime", { headers: { authorization: "Bearer wrong" } }), 401);
  await expect(R("POST", "/v1/workers", { headers: { authorization: "" }, json: {} }), 401);
  await expect(R("PUT", "/v1/workers"), 405);
  await expect(R("GET", "/v1/nope"), 404);
  await expect(R("POST", "/v1/workers", { json: { profile: "missing" } }), 400);
  await expect(R("POST", "/v1/workers", { text: "{nope" }), 400);
  await expect(R("POST", "/v1/workers", { text: "x".repeat(1024 * 1024 + 1) }), 413);
  const { worker } = await expect(R("POST", "/v1/workers", { json: { profile: "slow" } }), 201);
  const w = `/v1/workers/${worker.worker_id}`;
  await expect(R("GET", w), 200);
  await expect(R("GET", "/v1/workers/not-a-uuid"), 400);
  await expect(R("GET", `/v1/workers/${UNKNOWN_WORKER}`), 404);
  await expect(R("PATCH", w, { json: { display_name: "direct" } }), 200);
  await expect(R("PATCH", w, { json: { nope: 1 } }), 400);
  await expect(R("POST", `${w}/input`, { json: { text: LONG } }), 202);
  await expect(R("POST", `${w}/input`, { json: { text: "again" } }), 409);
  await expect(R("POST", `${w}/pause`), 200);
  await expect(R("POST", `${w}/resume`), 200);
  await expect(R("POST", `${w}/cancel`), 200);
  await expect(R("POST", `${w}/pause`), 409);
  await expect(R("POST", `${w}/resume`), 409);
  await expect(R("GET", `${w}/transcript`), 200);
  await expect(R("GET", `${w}/transcript?after=-1`), 400);
  await expect(R("GET", `${w}/events`), 400);
  const rsock = openWebSocket(`${rt.url.replace("http", "ws")}${w}/events?after=0`, auth);
  await new Promise((ok, fail) => {
    rsock.onopen = ok;
    rsock.onerror = fail;
  });
  rsock.close();
  v1.opened("GET", `${w}/events`);
  await expect(R("DELETE", w), 409);
  await expect(R("POST", `${w}/restore`), 409);
  await expect(R("POST", `${w}/stop`), 200);
  await expect(R("POST", `${w}/restore?dry_run=true`), 200);
  await expect(R("DELETE", w), 200);
  const coder = (await expect(R("POST", "/v1/workers", { json: { profile: "coder" } }), 201))
    .worker;
  await expect(R("POST", `/v1/workers/${coder.worker_id}/pause`), 501);

  // ---- An admin-token Backend (in process; same document): 401 before anything else ----
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-replay-admin-" });
  const admin = await createBackend({
    stateDir,
    port: 8787,
    adminToken: "admin-secret",
    embeddedStore: "memory",
    backendKey: null,
  });
  try {
    const paths = [["GET", "/api/runtimes"], ["POST", "/api/runtimes/embedded/workers"]];
    for (const [method, path] of paths) {
      const res = await admin.app.request(`http://127.0.0.1:8787${path}`, {
        method,
        headers: { host: "127.0.0.1:8787", "x-yoi-request": "1" },
      });
      const reply = { status: res.status, headers: res.headers, body: await res.text() };
      assert.equal(reply.status, 401);
      api.check(method, path, reply);
    }
  } finally {
    await admin.close();
    await Deno.remove(stateDir, { recursive: true });
  }

  // ---- Coverage ----
  for (const replay of [api, v1]) {
    const answered = replay.operations.filter((op) =>
      [...(replay.seen.get(op) ?? [])].some((s) => s < 400)
    );
    assert.deepEqual(
      replay.operations.filter((op) => !answered.includes(op)),
      [],
      `${replay.name}: every operation answered successfully at least once`,
    );
    const statuses = new Set([...replay.seen.values()].flatMap((s) => [...s]));
    assert.ok(!statuses.has(500), `${replay.name}: no 500`);
    console.log(
      `${replay.name}: ${replay.log.length} answers checked, statuses ${
        [...statuses].sort().join(" ")
      }`,
    );
  }
  const apiStatuses = new Set([...api.seen.values()].flatMap((s) => [...s]));
  for (const s of [101, 200, 201, 202, 304, 400, 401, 403, 404, 405, 409, 413, 501, 502, 504]) {
    assert.ok(apiStatuses.has(s), `the corpus reached ${s} on the Backend`);
  }
  assert.ok(v1.seen.get(UNROUTED)?.has(405), "the runtime's 405 was checked");

  // The checker itself refuses an undocumented status and a body off its schema.
  const fake = (status: number, body: unknown) => ({
    status,
    headers: new Headers(),
    body: JSON.stringify(body),
  });
  const error = { error: { code: "worker_busy", message: "m" }, diagnostics: [] };
  assert.throws(() => api.check("GET", "/api/runtimes", fake(409, error)), /does not document/);
  assert.throws(
    () => api.check("GET", "/api/runtimes", fake(200, { runtimes: 5, diagnostics: [] })),
    /does not match/,
  );
  assert.throws( // a code the operation does not list under that status
    () => v1.check("GET", "/v1/runtime", fake(401, { ...error, error: { ...error.error } })),
    /does not match/,
  );
});
