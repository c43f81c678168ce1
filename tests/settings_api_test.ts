/**
 * Runtime connection settings API (DESIGN §6, §7, §8) against a real Backend
 * process and real Runtime processes on 127.0.0.1: the list joining the
 * config file with the live registry, add/delete/test, the negotiation probe
 * and its negative cases, every typed error with its status, an unparsable
 * config file, and a canary secret that must never come back out.
 *
 * Real processes play every part a real Runtime can play. Fakes appear only
 * for servers that are NOT yoi runtimes (or a runtime speaking another
 * protocol version), which a real Runtime cannot imitate; each is marked
 * FAKE where it is made.
 * @module
 */
import assert from "node:assert/strict";
import {
  AddConnectionResponseSchema,
  type ConnectionList,
  ConnectionListSchema,
  type ConnectionRow,
  DeleteConnectionResponseSchema,
  type ErrorBody,
  ErrorBodySchema,
  type ProbeResult,
  ProbeResultSchema,
  RuntimeListSchema,
  SaveConnectionResponseSchema,
} from "../shared/mod.ts";
import { CSRF_HEADER } from "../shared/client.ts";
import { rejectsWith } from "./support/api_errors.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { rawCall } from "./support/raw_call.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const BASE = "/api/settings/runtime-connections";
const CANARY = "canary-secret-91c2";
const OPS = [
  "list_workers",
  "worker_detail",
  "events_ws",
  "create_worker",
  "input",
  "stop",
  "cancel",
  "transcript",
] as const;

interface Raw {
  status: number;
  body: unknown;
  text: string;
}

/** One raw HTTP call to the Backend; the body is always consumed. */
const call = rawCall;

function assertError(r: Raw, status: number, code: string, what: string): ErrorBody {
  assert.equal(r.status, status, `${what}: expected ${status} ${code}, got ${r.status} ${r.text}`);
  const parsed = ErrorBodySchema.safeParse(r.body);
  assert.ok(parsed.success, `${what}: not the error shape: ${r.text}`);
  assert.equal(parsed.data.error.code, code, `${what}: ${r.text}`);
  return parsed.data;
}

async function list(bp: BackendProcess): Promise<ConnectionList> {
  return await bp.client.get(BASE, ConnectionListSchema);
}

function row(l: ConnectionList, id: string): ConnectionRow {
  const r = l.connections.find((c) => c.id === id);
  assert.ok(r, `no row ${id} in ${JSON.stringify(l.connections.map((c) => c.id))}`);
  return r;
}

async function probe(bp: BackendProcess, id: string): Promise<ProbeResult> {
  return await bp.client.send("POST", `${BASE}/${id}/test`, undefined, ProbeResultSchema);
}

function add(bp: BackendProcess, body: Record<string, unknown>) {
  return bp.client.send("POST", BASE, body, AddConnectionResponseSchema);
}

function codes(p: { diagnostics: { code: string }[] }): string[] {
  return p.diagnostics.map((d) => d.code);
}

/** What a runtime process says about itself, straight from its own API. */
async function runtimeSummary(rt: RuntimeProcess, token?: string) {
  const headers: HeadersInit = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${rt.url}/v1/runtime`, { headers });
  const body = await res.json();
  const workers = await fetch(`${rt.url}/v1/workers`, { headers });
  const w = await workers.json();
  return { worker_count: body.runtime.worker_count as number, workers: w.workers as unknown[] };
}

function remoteEntry(id: string, endpoint: string, extra = ""): string {
  return `[[runtimes.remote]]\nid = "${id}"\nendpoint = "${endpoint}"\n${extra}`;
}

Deno.test("list joins the config file with the live registry; add/delete/test apply live against real runtimes", async () => {
  await using alpha = await RuntimeProcess.start({ id: "alpha" });
  await using beta = await RuntimeProcess.start({ id: "beta", displayName: "Beta box" });
  await using bp = await BackendProcess.start({
    config: `# hand-written\n[server]\nlisten = "127.0.0.1:8787"\n\n` +
      remoteEntry("alpha", alpha.url, `display_name = "Alpha"\n`),
  });
  const configPath = `${bp.stateDir}/workspace-backend.local.toml`;

  // At start: embedded built-in row + alpha persisted, active and ready.
  let l = await list(bp);
  assert.equal(l.config_ok, true);
  assert.equal(l.restart_required, false);
  assert.deepEqual(l.restart_required_keys, []);
  assert.deepEqual(l.diagnostics, []);
  assert.deepEqual(l.connections.map((c) => c.id), ["embedded", "alpha"]);
  const emb = row(l, "embedded");
  assert.equal(emb.kind, "embedded");
  assert.equal(emb.built_in, true);
  assert.equal(emb.deletable, false);
  assert.equal(emb.endpoint, null);
  assert.equal(emb.token_ref, null);
  assert.equal(emb.active, true);
  assert.equal(emb.state, "ready");
  assert.equal(emb.restart_required, false);
  const a0 = row(l, "alpha");
  assert.deepEqual(
    {
      ...a0,
      diagnostics: undefined,
      last_checked_at: undefined,
      last_ok_at: undefined,
      latency_ms: undefined,
      health_history: undefined,
    },
    {
      id: "alpha",
      kind: "remote",
      display_name: "Alpha",
      endpoint: alpha.url,
      token_ref: null,
      built_in: false,
      deletable: true,
      persisted: true,
      active: true,
      restart_required: false,
      state: "ready",
      worker_count: 0,
      diagnostics: undefined,
      last_checked_at: undefined,
      last_ok_at: undefined,
      latency_ms: undefined,
      health_history: undefined,
    },
  );
  assert.ok(Date.parse(a0.last_checked_at!) > 0 && a0.last_ok_at === a0.last_checked_at);
  assert.ok(a0.latency_ms !== null && a0.latency_ms >= 0);
  assert.equal(a0.health_history[0].state, "ready");

  // Add beta: saved and applied live, usable at once.
  const added = await add(bp, { id: "beta", endpoint: beta.url, display_name: "Beta" });
  assert.equal(added.applied, true);
  assert.equal(added.restart_required, false);
  assert.equal(added.connection.id, "beta");
  assert.equal(added.connection.persisted, true);
  assert.equal(added.connection.active, true);
  assert.equal(added.connection.state, "ready");
  l = await list(bp);
  assert.deepEqual(l.connections.map((c) => c.id), ["embedded", "alpha", "beta"]);
  const b = row(l, "beta");
  assert.equal(b.persisted, true);
  assert.equal(b.active, true);
  assert.equal(b.restart_required, false);
  assert.equal(b.deletable, true);
  assert.equal(b.endpoint, beta.url);
  assert.equal(l.restart_required, false);
  const fileText = await Deno.readTextFile(configPath);
  assert.ok(fileText.startsWith("# hand-written\n[server]\n"), "hand-written text kept");
  assert.match(fileText, /id = "beta"/);
  const live = await bp.client.listRuntimes();
  assert.deepEqual(live.runtimes.map((r) => r.runtime_id).sort(), ["alpha", "beta", "embedded"]);
  const created = await bp.client.createWorker("beta", {});
  assert.equal(created.worker.runtime_id, "beta");

  // Test both against the real runtimes: the four answers, every operation supported.
  for (const [id, rt, workers] of [["alpha", alpha, 0], ["beta", beta, 1]] as const) {
    const p = await probe(bp, id);
    assert.equal(p.runtime_id, id);
    assert.equal(p.reachable, true);
    assert.equal(p.authenticated, true);
    assert.deepEqual(p.identity, { status: "match", observed_runtime_id: id });
    assert.ok(p.latency_ms !== null && p.latency_ms >= 0);
    assert.equal(p.protocol.compatible, true, JSON.stringify(p));
    assert.equal(p.protocol.basis, "protocol yoi-worker-runtime/1 negotiated");
    assert.equal(p.protocol.name, "yoi-worker-runtime");
    assert.equal(p.protocol.version, 1);
    assert.equal(p.observed.runtime_id, id);
    assert.equal(p.observed.status, "running");
    assert.ok(p.observed.profiles.includes("echo"));
    for (const op of OPS) assert.equal(p.operations[op], "supported", op);
    assert.deepEqual(codes(p), []);
    assert.ok(!Number.isNaN(Date.parse(p.checked_at)));
    const s = await runtimeSummary(rt);
    assert.equal(s.worker_count, workers, `probe created no worker on ${id}`);
  }
  assert.equal(
    (await probe(bp, "beta")).observed.display_name,
    "Beta box",
    "observed is what the runtime reports",
  );
  // Nothing from a probe is persisted.
  assert.equal(await Deno.readTextFile(configPath), fileText);
  // The embedded runtime can be tested too, from the same process.
  const pe = await probe(bp, "embedded");
  assert.equal(pe.protocol.compatible, true);

  // Delete alpha (no workers): gone from the file and from the live registry at once.
  const del = await bp.client.send(
    "DELETE",
    `${BASE}/alpha`,
    undefined,
    DeleteConnectionResponseSchema,
  );
  assert.deepEqual(del, { deleted: "alpha", applied: true, restart_required: false });
  l = await list(bp);
  assert.deepEqual(l.connections.map((c) => c.id), ["embedded", "beta"]);
  assert.doesNotMatch(await Deno.readTextFile(configPath), /id = "alpha"/);
  assert.ok(!(await bp.client.listRuntimes()).runtimes.some((r) => r.runtime_id === "alpha"));
  await rejectsWith(bp.client.listWorkers("alpha"), 404, "runtime_not_found", "deleted runtime");
  // Deleting it again: it is gone.
  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/alpha`, undefined, DeleteConnectionResponseSchema),
    404,
    "runtime_not_found",
    "delete twice",
  );

  // Delete beta: it has an idle worker → 409 runtime_in_use with the count, then force.
  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/beta`, undefined, DeleteConnectionResponseSchema),
    409,
    "runtime_in_use",
    "delete with a worker",
  );
  assert.match(await Deno.readTextFile(configPath), /id = "beta"/, "refused delete kept it");
  await bp.client.send(
    "DELETE",
    `${BASE}/beta?force=true`,
    undefined,
    DeleteConnectionResponseSchema,
  );
  l = await list(bp);
  assert.deepEqual(l.connections.map((c) => c.id), ["embedded"]);
  assert.equal(
    await Deno.readTextFile(configPath),
    `# hand-written\n[server]\nlisten = "127.0.0.1:8787"\n`,
  );
  // Re-adding alpha: live again.
  await add(bp, { id: "alpha", endpoint: alpha.url, display_name: "Alpha" });
  l = await list(bp);
  assert.equal(row(l, "alpha").persisted, true);
  assert.equal(row(l, "alpha").state, "ready");
  assert.equal(l.restart_required, false);
});

Deno.test("probe negatives: non-runtimes, another protocol, no protocol field, wrong id, auth, unset token_ref", async () => {
  // FAKE: HTTP servers that are not yoi runtimes (or speak another protocol version).
  // A real Runtime cannot answer like this, so these few answers are made up here.
  const summary = (id: string, extra: Record<string, unknown>) => ({
    runtime: {
      runtime_id: id,
      display_name: `Fake ${id}`,
      status: "running",
      capabilities: {
        list_workers: true,
        worker_detail: true,
        create_worker: false,
        input: true,
        stop: true,
        cancel: true,
        transcript: true,
        events_ws: true,
      },
      profiles: ["echo"],
      worker_count: 0,
      os: "linux",
      arch: "x86_64",
      started_at: new Date().toISOString(),
      ...extra,
    },
  });
  const fake = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    switch (path) {
      case "/json/v1/runtime":
        return Response.json({ hello: "world" });
      case "/html/v1/runtime":
        return new Response("<!doctype html><html><body>It works!</body></html>", {
          headers: { "content-type": "text/html" },
        });
      case "/v2/v1/runtime":
        return Response.json(
          summary("fake-v2", { protocol: { name: "yoi-worker-runtime", version: 2 } }),
        );
      case "/noproto/v1/runtime":
        return Response.json(summary("noproto", {}));
      default:
        return new Response("not found", { status: 404 });
    }
  });
  try {
    const fakeUrl = `http://127.0.0.1:${fake.addr.port}`;
    await using other = await RuntimeProcess.start({ id: "other" });
    await using tok = await RuntimeProcess.start({ id: "tok", token: "runtime-token-77" });
    // "mine" points at the runtime started with --id other; it is live from the start.
    await using bp = await BackendProcess.start({
      config: remoteEntry("mine", other.url),
      env: { YOI_TOK_TOKEN: "runtime-token-77" },
    });

    await add(bp, { id: "json-fake", endpoint: `${fakeUrl}/json` });
    await add(bp, { id: "html-fake", endpoint: `${fakeUrl}/html` });
    await add(bp, { id: "fake-v2", endpoint: `${fakeUrl}/v2` });
    await add(bp, { id: "noproto", endpoint: `${fakeUrl}/noproto` });
    await add(bp, { id: "tok", endpoint: tok.url }); // no token_ref: it needs one
    await add(bp, { id: "tok-unset", endpoint: tok.url, token_ref: "env:YOI_UNSET_TOKEN_VAR" });

    // {"hello":"world"}: reachable, not a runtime.
    let p = await probe(bp, "json-fake");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.compatible, false);
    assert.equal(p.protocol.basis, "GET /v1/runtime answered JSON without a runtime summary");
    assert.deepEqual(codes(p), ["runtime_protocol_unsupported"]);
    assert.equal(p.protocol.name, undefined);
    assert.equal(p.protocol.version, undefined);
    assert.ok(Object.values(p.operations).every((v) => v === "unknown"));

    // HTML: reachable, not JSON at all.
    p = await probe(bp, "html-fake");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(codes(p), ["remote_runtime_malformed_response"]);
    assert.match(p.protocol.basis, /not with JSON/);
    assert.ok(!p.diagnostics[0].message.includes("It works"), "no remote body echoed");
    assert.ok(Object.values(p.operations).every((v) => v === "unknown"));

    // Protocol version 2: a runtime, but not one this Backend speaks.
    p = await probe(bp, "fake-v2");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(codes(p), ["runtime_protocol_unsupported"]);
    assert.equal(p.protocol.name, "yoi-worker-runtime");
    assert.equal(p.protocol.version, 2);
    assert.doesNotMatch(p.protocol.basis, /negotiated/);

    // No protocol field: the basis says exactly that, never a made-up version.
    p = await probe(bp, "noproto");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.basis, "v1 runtime endpoint responded");
    assert.equal(p.protocol.name, undefined);
    assert.equal(p.protocol.version, undefined);
    assert.ok(!("name" in p.protocol) && !("version" in p.protocol));
    assert.equal(p.observed.runtime_id, "noproto");
    assert.equal(p.operations.create_worker, "unsupported");
    assert.equal(p.operations.input, "supported");
    // Nothing was negotiated and the live client needs a protocol: not compatible, said as such.
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(p.diagnostics.map((d) => [d.code, d.severity]), [
      ["runtime_protocol_unsupported", "error"],
    ]);

    // A real runtime started with --id other, configured as "mine".
    p = await probe(bp, "mine");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.compatible, false);
    assert.equal(p.observed.runtime_id, "other");
    assert.deepEqual(codes(p), ["runtime_id_mismatch"]);
    assert.equal(p.protocol.basis, "protocol yoi-worker-runtime/1 negotiated");
    // The live registry entry for "mine" carries the same diagnostic.
    const live = await bp.client.get("/api/runtimes", RuntimeListSchema);
    const mine = live.runtimes.find((r) => r.runtime_id === "mine");
    assert.ok(mine, JSON.stringify(live));
    assert.equal(mine.status, "incompatible");
    assert.equal(mine.can_create_worker, false);
    assert.ok(mine.diagnostics.some((d) => d.code === "runtime_id_mismatch"));
    assert.equal((await runtimeSummary(other)).worker_count, 0);

    // A runtime that needs a token it was not given.
    p = await probe(bp, "tok");
    assert.equal(p.reachable, true);
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(codes(p), ["remote_runtime_auth_failed"]);

    // token_ref naming an unset variable: fails closed, nothing contacted.
    p = await probe(bp, "tok-unset");
    assert.equal(p.reachable, false);
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(codes(p), ["token_ref_unresolved"]);

    // With the right token_ref the same runtime negotiates.
    await add(bp, { id: "tok-ok", endpoint: tok.url, token_ref: "env:YOI_TOK_TOKEN" });
    p = await probe(bp, "tok-ok");
    assert.equal(p.reachable, true);
    assert.deepEqual(codes(p), ["runtime_id_mismatch"], "token accepted; only the id differs");
    assert.equal((await runtimeSummary(tok, "runtime-token-77")).worker_count, 0);

    // An endpoint with nothing listening: unreachable.
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = closed.addr.port;
    closed.close();
    await add(bp, { id: "dead", endpoint: `http://127.0.0.1:${deadPort}` });
    p = await probe(bp, "dead");
    assert.equal(p.reachable, false);
    assert.equal(p.protocol.compatible, false);
    assert.deepEqual(codes(p), ["remote_runtime_unavailable"]);
    assert.ok(!JSON.stringify(p.diagnostics).includes(String(deadPort)), "no endpoint in messages");
  } finally {
    await fake.shutdown();
  }
});

Deno.test("typed errors over HTTP with their status codes", async () => {
  await using rt = await RuntimeProcess.start({ id: "taken" });
  await using bp = await BackendProcess.start({ config: remoteEntry("taken", rt.url) });
  const configPath = `${bp.stateDir}/workspace-backend.local.toml`;
  const before = await Deno.readFile(configPath);
  const ok = { id: "fresh", endpoint: "http://127.0.0.1:8790" };
  const cases: [string, Record<string, unknown>, number, string][] = [
    ["invalid id", { ...ok, id: "Not Valid" }, 400, "invalid_id"],
    ["path-like id", { ...ok, id: "../etc" }, 400, "invalid_id"],
    ["duplicate id", { ...ok, id: "taken" }, 409, "duplicate_runtime_id"],
    ["embedded id", { ...ok, id: "embedded" }, 409, "duplicate_runtime_id"],
    ["ftp endpoint", { ...ok, endpoint: "ftp://127.0.0.1:8790" }, 400, "invalid_endpoint"],
    ["userinfo", { ...ok, endpoint: "http://u:p@127.0.0.1:8790" }, 400, "invalid_endpoint"],
    ["query", { ...ok, endpoint: "http://127.0.0.1:8790/?x=1" }, 400, "invalid_endpoint"],
    ["fragment", { ...ok, endpoint: "http://127.0.0.1:8790/#x" }, 400, "invalid_endpoint"],
    ["relative", { ...ok, endpoint: "/v1" }, 400, "invalid_endpoint"],
    ["missing endpoint", { id: "fresh" }, 400, "invalid_endpoint"],
    ["long name", { ...ok, display_name: "n".repeat(81) }, 400, "invalid_display_name"],
    ["control char", { ...ok, display_name: "a\u0000b" }, 400, "invalid_display_name"],
    ["raw token", { ...ok, token: "abc" }, 400, "raw_token_rejected"],
    ["raw bearer_token", { ...ok, bearer_token: "abc" }, 400, "raw_token_rejected"],
    ["token_ref TOKEN", { ...ok, token_ref: "TOKEN" }, 400, "invalid_token_ref"],
    ["token_ref env:", { ...ok, token_ref: "env:" }, 400, "invalid_token_ref"],
    ["token_ref env:1X", { ...ok, token_ref: "env:1X" }, 400, "invalid_token_ref"],
    ["token_ref file:/x", { ...ok, token_ref: "file:/x" }, 400, "token_ref_not_allowed"],
    ["token_ref env:HOME", { ...ok, token_ref: "env:HOME" }, 400, "token_ref_not_allowed"],
    ["unknown field", { ...ok, extra: true }, 400, "invalid_request"],
  ];
  for (const [what, body, status, code] of cases) {
    await rejectsWith(add(bp, body), status, code, what);
    const r = await call(bp, "POST", BASE, body);
    const e = assertError(r, status, code, what);
    assert.equal(e.diagnostics[0]?.code ?? code, code, what);
  }
  // Not JSON / not an object.
  assertError(
    await fetch(`${bp.url}${BASE}`, {
      method: "POST",
      headers: { [CSRF_HEADER]: "1", "content-type": "application/json" },
      body: "{not json",
    }).then(async (res) => ({ status: res.status, text: await res.text() })).then((r) => ({
      ...r,
      body: JSON.parse(r.text),
    })),
    400,
    "invalid_json",
    "bad json",
  );
  assertError(await call(bp, "POST", BASE, [1, 2]), 400, "invalid_request", "array body");

  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/nope`, undefined, DeleteConnectionResponseSchema),
    404,
    "runtime_not_found",
    "unknown delete",
  );
  await rejectsWith(
    bp.client.send("DELETE", `${BASE}/embedded`, undefined, DeleteConnectionResponseSchema),
    409,
    "runtime_not_config_managed",
    "embedded delete",
  );
  assertError(await call(bp, "DELETE", `${BASE}/Bad%20Id`), 400, "invalid_id", "bad delete id");
  await rejectsWith(probe(bp, "nope"), 404, "runtime_not_found", "unknown test");
  assertError(await call(bp, "POST", `${BASE}/..%2Fx/test`), 400, "invalid_id", "bad test id");
  // Without the CSRF header a mutation is refused before it reaches the store.
  const res = await fetch(`${bp.url}${BASE}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(ok),
  });
  assertError(
    { status: res.status, text: "", body: await res.json() },
    403,
    "csrf_rejected",
    "no CSRF header",
  );

  assert.deepEqual(await Deno.readFile(configPath), before, "no failed request touched the file");
});

Deno.test("an unparsable config file: reported with line and column, mutations refused, bytes kept", async () => {
  const broken =
    `[server]\nlisten = "127.0.0.1:8787"\n\n[[runtimes.remote]]\nid = "a"\nendpoint = "http://127.0.0.1:1\n`;
  await using bp = await BackendProcess.start({ config: broken });
  const configPath = `${bp.stateDir}/workspace-backend.local.toml`;
  const before = await Deno.readFile(configPath);

  const l = await list(bp);
  assert.equal(l.config_ok, false);
  assert.deepEqual(l.connections.map((c) => c.id), ["embedded"]);
  const d = l.diagnostics.find((x) => x.code === "config_unparsable");
  assert.ok(d, JSON.stringify(l.diagnostics));
  assert.equal(d.line, 6);
  assert.ok(typeof d.column === "number");
  assert.equal(d.file, "workspace-backend.local.toml");
  assert.ok(!d.message.includes(bp.stateDir));

  const e1 = assertError(
    await call(bp, "POST", BASE, { id: "b", endpoint: "http://127.0.0.1:2" }),
    409,
    "config_unparsable",
    "add",
  );
  assert.match(e1.error.message, /line 6, column \d+/);
  assertError(await call(bp, "DELETE", `${BASE}/a`), 409, "config_unparsable", "delete");
  assertError(await call(bp, "DELETE", `${BASE}/zzz`), 409, "config_unparsable", "delete unknown");
  // Validation still comes first, and the embedded runtime is still not config-managed.
  assertError(await call(bp, "POST", BASE, { id: "B" }), 400, "invalid_id", "invalid add");
  assertError(
    await call(bp, "DELETE", `${BASE}/embedded`),
    409,
    "runtime_not_config_managed",
    "embedded",
  );
  assert.deepEqual(await Deno.readFile(configPath), before, "file bytes unchanged");

  const runtimes = await bp.client.listRuntimes();
  assert.deepEqual(runtimes.runtimes.map((r) => r.runtime_id), ["embedded"]);
  assert.ok(runtimes.diagnostics.some((x) => x.code === "config_unparsable"));
  // The embedded runtime still works.
  const w = await bp.client.createWorker("embedded", {});
  assert.equal(w.worker.runtime_id, "embedded");
});

Deno.test("canary: the token value and the config path never appear in responses, output or audit log", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-settings-canary-" });
  const configPath = `${stateDir}/workspace-backend.local.toml`;
  try {
    await using rt = await RuntimeProcess.start({ id: "canary", token: CANARY });
    const bp = await BackendProcess.start({
      stateDir,
      config: remoteEntry("canary", rt.url, `token_ref = "env:YOI_CANARY_TOKEN"\n`),
      env: { YOI_CANARY_TOKEN: CANARY },
    });
    const texts: [string, string][] = [];
    const record = async (what: string, p: Promise<Raw>) => {
      const r = await p;
      texts.push([what, r.text]);
      return r;
    };
    try {
      let r = await record("list", call(bp, "GET", BASE));
      assert.equal(r.status, 200);
      const l = ConnectionListSchema.parse(r.body);
      assert.equal(row(l, "canary").token_ref, "env:YOI_CANARY_TOKEN", "the ref is shown");

      // The live connection uses the token: the real runtime accepts it.
      r = await record("test canary", call(bp, "POST", `${BASE}/canary/test`));
      const p = ProbeResultSchema.parse(r.body);
      assert.equal(p.protocol.compatible, true, r.text);
      r = await record("runtimes", call(bp, "GET", "/api/runtimes"));
      assert.equal(
        RuntimeListSchema.parse(r.body).runtimes.find((x) => x.runtime_id === "canary")?.status,
        "running",
      );

      r = await record(
        "add",
        call(bp, "POST", BASE, {
          id: "canary2",
          endpoint: rt.url,
          token_ref: "env:YOI_CANARY_TOKEN",
        }),
      );
      assert.equal(r.status, 201, r.text);
      r = await record("test canary2", call(bp, "POST", `${BASE}/canary2/test`));
      assert.deepEqual(codes(ProbeResultSchema.parse(r.body)), ["runtime_id_mismatch"]);
      r = await record("list 2", call(bp, "GET", BASE));
      assert.equal(r.status, 200);

      // Errors, including ones whose request carries the canary itself.
      assertError(
        await record(
          "raw token",
          call(bp, "POST", BASE, { id: "x", endpoint: rt.url, token: CANARY }),
        ),
        400,
        "raw_token_rejected",
        "raw token",
      );
      assertError(
        await record(
          "raw bearer",
          call(bp, "POST", BASE, { id: "x", endpoint: rt.url, bearer_token: CANARY }),
        ),
        400,
        "raw_token_rejected",
        "raw bearer",
      );
      assertError(
        await record(
          "userinfo endpoint",
          call(bp, "POST", BASE, { id: "x", endpoint: `http://u:${CANARY}@127.0.0.1:1` }),
        ),
        400,
        "invalid_endpoint",
        "userinfo",
      );
      assertError(
        await record(
          "token_ref with canary",
          call(bp, "POST", BASE, { id: "x", endpoint: rt.url, token_ref: CANARY }),
        ),
        400,
        "invalid_token_ref",
        "token_ref = canary",
      );
      assertError(
        await record(
          "name with canary",
          call(bp, "POST", BASE, { id: "x", endpoint: rt.url, display_name: `${CANARY}\u0007` }),
        ),
        400,
        "invalid_display_name",
        "display name",
      );
      assertError(
        await record("duplicate", call(bp, "POST", BASE, { id: "canary", endpoint: rt.url })),
        409,
        "duplicate_runtime_id",
        "duplicate",
      );
      assertError(
        await record("delete unknown", call(bp, "DELETE", `${BASE}/nope`)),
        404,
        "runtime_not_found",
        "delete unknown",
      );
      assertError(
        await record("delete embedded", call(bp, "DELETE", `${BASE}/embedded`)),
        409,
        "runtime_not_config_managed",
        "delete embedded",
      );
      assertError(
        await record("test unknown", call(bp, "POST", `${BASE}/nope/test`)),
        404,
        "runtime_not_found",
        "test unknown",
      );
      r = await record("delete canary2", call(bp, "DELETE", `${BASE}/canary2`));
      assert.equal(r.status, 200, r.text);
      r = await record("delete canary", call(bp, "DELETE", `${BASE}/canary`));
      assert.equal(r.status, 200, r.text);
      // Deleted is gone at once, from the file and the registry.
      assertError(
        await record("test deleted", call(bp, "POST", `${BASE}/canary/test`)),
        404,
        "runtime_not_found",
        "test deleted",
      );
      r = await record("list 3", call(bp, "GET", BASE));
      assert.equal(r.status, 200);

      // Break the file by hand: the unparsable-file answers must not name it either.
      await Deno.writeTextFile(configPath, "[[runtimes.remote]\n");
      r = await record("list broken", call(bp, "GET", BASE));
      assert.equal(ConnectionListSchema.parse(r.body).config_ok, false);
      assertError(
        await record("add broken", call(bp, "POST", BASE, { id: "y", endpoint: rt.url })),
        409,
        "config_unparsable",
        "add broken",
      );
    } finally {
      await bp.kill();
    }

    const forbidden = [CANARY, stateDir, configPath, stateDir.split("/").at(-1)!];
    for (const [what, text] of texts) {
      for (const f of forbidden) assert.ok(!text.includes(f), `${what} leaks ${f}: ${text}`);
    }
    assert.ok(texts.length >= 20);
    const output = bp.output;
    assert.match(output, /listening on/, "the output was captured");
    for (const f of forbidden) assert.ok(!output.includes(f), `backend output leaks ${f}`);
    const audit = await Deno.readTextFile(`${stateDir}/audit.log`);
    for (const f of forbidden) assert.ok(!audit.includes(f), `audit log leaks ${f}`);
    const ops = audit.trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(
      ops.some((o) => o.operation === "connection.add" && o.outcome === "raw_token_rejected"),
      audit,
    );
    assert.ok(ops.some((o) => o.operation === "connection.delete" && o.runtime_id === "canary"));
    assert.ok(ops.some((o) => o.operation === "connection.test" && o.runtime_id === "canary"));
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});

Deno.test("candidate probe (Save & test): refused, hung, 401, mismatch, non-yoi and healthy endpoints, each with its four answers", async () => {
  const TOKEN = `probe-${crypto.randomUUID()}`;
  await using healthy = await RuntimeProcess.start({ id: "cand" });
  await using locked = await RuntimeProcess.start({ id: "cand", token: TOKEN });
  await using other = await RuntimeProcess.start({ id: "someone-else" });
  // FAKE: a web server that is no runtime, and one that accepts TCP but never answers.
  const web = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("<html>It works!</html>", { headers: { "content-type": "text/html" } }),
  );
  const hung = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of hung) held.push(c);
  })().catch(() => {});
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closedPort = (closed.addr as Deno.NetAddr).port;
  closed.close();
  await using bp = await BackendProcess.start();
  const configPath = `${bp.stateDir}/workspace-backend.local.toml`;
  const candidate = (endpoint: string, extra: Record<string, string> = {}) =>
    bp.client.send("POST", `${BASE}/test`, { id: "cand", endpoint, ...extra }, ProbeResultSchema);
  const four = (p: ProbeResult) => ({
    reachable: p.reachable,
    authenticated: p.authenticated,
    identity: p.identity,
    compatible: p.protocol.compatible,
  });
  const unknownOps = (p: ProbeResult) => Object.values(p.operations).every((v) => v === "unknown");
  try {
    // Refused: nothing answered, so nothing else is known — not "incompatible".
    let p = await candidate(`http://127.0.0.1:${closedPort}`);
    assert.deepEqual(four(p), {
      reachable: false,
      authenticated: null,
      identity: { status: "unknown", observed_runtime_id: null },
      compatible: false,
    });
    assert.equal(p.latency_ms, null);
    assert.deepEqual(codes(p), ["remote_runtime_unavailable"]);
    assert.ok(unknownOps(p));

    // Hung: a timeout, reported as such.
    p = await candidate(`http://127.0.0.1:${(hung.addr as Deno.NetAddr).port}`);
    assert.deepEqual(four(p), {
      reachable: false,
      authenticated: null,
      identity: { status: "unknown", observed_runtime_id: null },
      compatible: false,
    });
    assert.deepEqual(codes(p), ["remote_runtime_timeout"]);
    assert.ok(unknownOps(p));

    // 401: it answered as runtime "cand" (identity is read before auth), but refused us.
    p = await candidate(locked.url);
    assert.deepEqual(four(p), {
      reachable: true,
      authenticated: false,
      identity: { status: "match", observed_runtime_id: "cand" },
      compatible: false,
    });
    assert.deepEqual(codes(p), ["remote_runtime_auth_failed"]);
    assert.ok(p.latency_ms !== null && p.latency_ms >= 0);
    assert.ok(unknownOps(p));

    // Another runtime's id: a mismatch, and no operation is called supported.
    p = await candidate(other.url);
    assert.deepEqual(four(p), {
      reachable: true,
      authenticated: true,
      identity: { status: "mismatch", observed_runtime_id: "someone-else" },
      compatible: false,
    });
    assert.deepEqual(codes(p), ["runtime_id_mismatch"]);
    assert.ok(unknownOps(p));
    assert.equal((await runtimeSummary(other)).worker_count, 0);

    // A web server that is no runtime.
    p = await candidate(`http://127.0.0.1:${web.addr.port}`);
    assert.deepEqual(four(p), {
      reachable: true,
      authenticated: null,
      identity: { status: "unknown", observed_runtime_id: null },
      compatible: false,
    });
    assert.deepEqual(codes(p), ["remote_runtime_malformed_response"]);
    assert.ok(unknownOps(p));

    // Healthy: all four yes; the reads were exercised for real (a worker exists to read).
    const made = await (await fetch(`${healthy.url}/v1/workers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    })).json();
    assert.ok(made.worker.worker_id);
    p = await candidate(healthy.url);
    assert.deepEqual(four(p), {
      reachable: true,
      authenticated: true,
      identity: { status: "match", observed_runtime_id: "cand" },
      compatible: true,
    });
    assert.deepEqual(codes(p), []);
    for (const op of OPS) assert.equal(p.operations[op], "supported", op);
    assert.equal((await runtimeSummary(healthy)).worker_count, 1, "the probe created nothing");

    // A candidate is validated like an add and nothing is persisted.
    await rejectsWith(
      bp.client.send(
        "POST",
        `${BASE}/test`,
        { id: "Bad Id", endpoint: healthy.url },
        ProbeResultSchema,
      ),
      400,
      "invalid_id",
      "bad candidate id",
    );
    await rejectsWith(
      bp.client.send(
        "POST",
        `${BASE}/test`,
        { id: "c", endpoint: healthy.url, token: "x" },
        ProbeResultSchema,
      ),
      400,
      "raw_token_rejected",
      "raw token in a candidate",
    );
    assert.equal(await Deno.readTextFile(configPath).catch(() => null), null, "nothing saved");
  } finally {
    await web.shutdown();
    hung.close();
    for (const c of held) c.close();
  }
});

Deno.test("edit: validated like add, the id never changes, typed errors leave the file as it was", async () => {
  await using rt = await RuntimeProcess.start({ id: "ed" });
  await using bp = await BackendProcess.start({
    config: remoteEntry("ed", rt.url, `display_name = "Ed"\n`),
  });
  const path = `${bp.stateDir}/workspace-backend.local.toml`;
  const before = await Deno.readTextFile(path);
  const patch = (id: string, body: unknown) =>
    bp.client.send("PATCH", `${BASE}/${id}`, body, SaveConnectionResponseSchema);
  await rejectsWith(
    patch("embedded", { display_name: "x" }),
    409,
    "runtime_not_config_managed",
    "embedded",
  );
  await rejectsWith(patch("nope", { display_name: "x" }), 404, "runtime_not_found", "unknown");
  await rejectsWith(patch("Bad Id", { display_name: "x" }), 400, "invalid_id", "bad id");
  await rejectsWith(patch("ed", { id: "other" }), 400, "invalid_request", "id in the body");
  await rejectsWith(patch("ed", { endpoint: "ftp://x" }), 400, "invalid_endpoint", "scheme");
  await rejectsWith(patch("ed", { token: "secret" }), 400, "raw_token_rejected", "raw token");
  await rejectsWith(patch("ed", { token_ref: "secret" }), 400, "invalid_token_ref", "token_ref");
  await rejectsWith(
    patch("ed", { display_name: "evil\u202egnp.exe" }),
    400,
    "invalid_display_name",
    "bidi control",
  );
  const r = await call(bp, "PATCH", `${BASE}/ed`, [1, 2]);
  assertError(r, 400, "invalid_request", "array body");
  assert.equal(await Deno.readTextFile(path), before, "no refused edit touched the file");

  // An empty display name removes it; the row and the live registry follow at once.
  const saved = await patch("ed", { display_name: "" });
  assert.equal(saved.connection.display_name, "ed");
  assert.equal(saved.connection.state, "ready");
  assert.equal(await Deno.readTextFile(path), before.replace(`display_name = "Ed"\n`, ""));
  const entry = (await bp.client.listRuntimes()).runtimes.find((x) => x.runtime_id === "ed");
  assert.equal(entry?.display_name, "ed");
});
