/**
 * Security defaults of the Backend (DESIGN §1, §5, §8) against a real Backend
 * process: no remote token, endpoint host or address ever reaches a
 * browser-facing response, header, WS frame, log line or the audit log; Host
 * allow-list, CSRF guard, WS origin check, admin token and the refusal to
 * listen beyond loopback without one.
 * @module
 */
import assert from "node:assert/strict";
import { ErrorBodySchema } from "../shared/mod.ts";
import { BackendProcess } from "./support/backend_process.ts";
import { RuntimeProcess } from "./support/runtime_process.ts";

const CANARY_TOKEN = "canary-token-7f3a9";
/** `*.localhost` does not resolve through getaddrinfo here, so this host is unreachable. */
const CANARY_HOST = "canary-host-7f3a9.invalid";
const UNKNOWN_WORKER = "0190a000-0000-7000-8000-000000000000";
const DEADLINE_MS = 20_000;
/** A name that does not resolve fails fast, or (slow resolver under load) times out. */
const UNREACHABLE_CODES = ["remote_runtime_unavailable", "remote_runtime_timeout"];

import { rawHttp } from "./support/raw_http.ts";
const dec = new TextDecoder();

/** Deno's WebSocket takes request headers (an extension the DOM typings do not know). */
const DenoWebSocket = WebSocket as unknown as new (
  url: string,
  opts: { headers: Record<string, string> },
) => WebSocket;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Reply {
  status: number;
  text: string;
  headers: Headers;
}

/** Every byte the browser side saw, for the canary scan. */
class Recorder {
  readonly seen: { what: string; text: string }[] = [];
  readonly base: string;
  readonly headers: Record<string, string>;

  constructor(base: string, headers: Record<string, string> = {}) {
    this.base = base;
    this.headers = headers;
  }

  record(what: string, text: string) {
    this.seen.push({ what, text });
  }

  async request(
    method: string,
    path: string,
    opts: { json?: unknown; raw?: string; type?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers = new Headers({ ...this.headers, ...opts.headers });
    if (method !== "GET" && !headers.has("x-yoi-request")) headers.set("x-yoi-request", "1");
    let body: string | undefined;
    if (opts.json !== undefined) body = JSON.stringify(opts.json);
    if (opts.raw !== undefined) body = opts.raw;
    if (body !== undefined) headers.set("content-type", opts.type ?? "application/json");
    const res = await fetch(`${this.base}${path}`, { method, headers, body });
    const text = await res.text();
    const what = `${method} ${path} → ${res.status}`;
    this.record(`${what} body`, text);
    for (const [k, v] of res.headers) this.record(`${what} header ${k}`, `${k}: ${v}`);
    return { status: res.status, text, headers: res.headers };
  }

  /** Like {@link request}, also asserting the status and, for errors, the typed body. */
  async expect(
    status: number | number[],
    method: string,
    path: string,
    opts: Parameters<Recorder["request"]>[2] & { code?: string | string[] } = {},
  ): Promise<unknown> {
    const r = await this.request(method, path, opts);
    const statuses = [status].flat();
    assert.ok(statuses.includes(r.status), `${method} ${path} → ${r.status}: ${r.text}`);
    const body = JSON.parse(r.text);
    if (r.status >= 400) {
      const e = ErrorBodySchema.parse(body);
      if (opts.code) {
        assert.ok([opts.code].flat().includes(e.error.code), `${method} ${path}: ${r.text}`);
      }
    }
    return body;
  }

  /** Opens a WS, records every frame until `until` holds (or the deadline), then closes. */
  async ws(
    path: string,
    until: (frames: Record<string, unknown>[]) => boolean,
    onOpen?: () => Promise<void>,
  ): Promise<{ opened: boolean; frames: Record<string, unknown>[] }> {
    const url = `${this.base.replace(/^http/, "ws")}${path}`;
    const ws = new WebSocket(url);
    const frames: Record<string, unknown>[] = [];
    const closed = new Promise<void>((r) => ws.addEventListener("close", () => r()));
    const opened = await new Promise<boolean>((resolve) => {
      ws.addEventListener("open", () => resolve(true));
      ws.addEventListener("close", () => resolve(false));
    });
    ws.addEventListener("message", (ev) => {
      this.record(`WS ${path} frame`, String(ev.data));
      frames.push(JSON.parse(String(ev.data)));
    });
    try {
      if (opened) {
        await onOpen?.();
        const end = Date.now() + DEADLINE_MS;
        while (!until(frames) && ws.readyState === WebSocket.OPEN && Date.now() < end) {
          await sleep(10);
        }
      }
    } finally {
      if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.close();
      await closed;
    }
    return { opened, frames };
  }
}

/** One raw HTTP/1.1 exchange (so the Host header is ours), read until the server closes. */
Deno.test({
  name: "canary: no remote token, endpoint host or address reaches any browser-facing output",
  async fn() {
    await using rt = await RuntimeProcess.start({ id: "canary", token: CANARY_TOKEN });
    const endpoint = `http://127.0.0.1:${rt.port}`;
    const stateDir = await Deno.makeTempDir({ prefix: "yoi-canary-" });
    const config = `
[[runtimes.remote]]
id = "canary"
endpoint = "${endpoint}"
display_name = "Canary runtime"
token_ref = "env:YOI_RT_TOKEN"

[[runtimes.remote]]
id = "offline"
endpoint = "http://${CANARY_HOST}:${rt.port}"
token_ref = "env:YOI_RT_TOKEN"

[[runtimes.remote]]
id = "badtoken"
endpoint = "${endpoint}/"
token_ref = "env:YOI_RT_WRONG_TOKEN"

[[runtimes.remote]]
id = "unset"
endpoint = "${endpoint}"
token_ref = "env:YOI_RT_UNSET_TOKEN"
`;
    const be = await BackendProcess.start({
      config,
      stateDir,
      env: { YOI_RT_TOKEN: CANARY_TOKEN, YOI_RT_WRONG_TOKEN: `${CANARY_TOKEN}-wrong` },
      extraArgs: ["--reconnect-backoff-ms", "50", "--remote-timeout-ms", "2000"],
    });
    let killed = false;
    try {
      const r = new Recorder(be.url);

      // ---- registry views ----
      const list = await r.expect(200, "GET", "/api/runtimes") as {
        runtimes: { runtime_id: string; status: string; diagnostics: { code: string }[] }[];
      };
      const byId = Object.fromEntries(list.runtimes.map((x) => [x.runtime_id, x]));
      assert.equal(byId.canary.status, "running");
      assert.equal(byId.offline.status, "unreachable");
      assert.ok(UNREACHABLE_CODES.includes(byId.offline.diagnostics[0].code));
      // badtoken's endpoint is runtime "canary": identity is checked before auth (DESIGN §10).
      assert.equal(byId.badtoken.status, "incompatible");
      assert.equal(byId.badtoken.diagnostics[0].code, "runtime_id_mismatch");
      assert.equal(byId.unset.diagnostics[0].code, "token_ref_unresolved");
      for (const id of ["canary", "offline", "badtoken", "unset", "embedded"]) {
        await r.expect(200, "GET", `/api/runtimes/${id}`);
      }
      await r.expect(404, "GET", "/api/runtimes/nope", { code: "runtime_not_found" });
      await r.expect(400, "GET", "/api/runtimes/Bad%21", { code: "invalid_id" });
      const all = await r.expect(200, "GET", "/api/workers") as { diagnostics: unknown[] };
      assert.ok(all.diagnostics.length >= 3, "dead runtimes add diagnostics");
      await r.expect(200, "GET", "/api/hosts");
      const doc = await r.expect(200, "GET", "/api/openapi.json") as {
        paths: Record<string, Record<string, unknown>>;
      };

      // ---- a full worker lifecycle on the reachable remote and on the embedded runtime ----
      const workers: Record<string, string> = {};
      for (const rid of ["canary", "embedded"]) {
        const base = `/api/runtimes/${rid}/workers`;
        await r.expect(200, "GET", base);
        const created = await r.expect(201, "POST", base, {
          json: { profile: "echo", display_name: "w", request_id: `req-${rid}` },
        }) as { worker: { worker_id: string } };
        const wid = created.worker.worker_id;
        workers[rid] = wid;
        const w = `${base}/${wid}`;
        await r.expect(200, "GET", w);

        // Events WS: frames of a whole turn plus the stop.
        const ws = await r.ws(
          `${w}/events?after=0`,
          (f) => f.some((x) => x.type === "worker.stopped"),
          async () => {
            await r.expect(202, "POST", `${w}/input`, { json: { text: "hello canary" } });
            for (let i = 0; i < 200; i++) {
              const d = await r.expect(200, "GET", w) as { worker: { status: string } };
              if (d.worker.status === "idle") break;
              await sleep(20);
            }
            await r.expect(200, "POST", `${w}/cancel`);
            await r.expect(200, "POST", `${w}/stop`);
          },
        );
        assert.ok(ws.opened, `${rid}: events socket opens`);
        assert.ok(ws.frames.some((f) => f.type === "turn.completed"), `${rid}: turn streamed`);
        assert.ok(ws.frames.some((f) => f.type === "worker.stopped"), `${rid}: stop streamed`);

        await r.expect(200, "GET", `${w}/transcript?after=0&limit=3`);
        await r.expect(200, "GET", `${w}/transcript`);
        await r.expect(409, "POST", `${w}/input`, { json: { text: "x" }, code: "worker_stopped" });
        await r.expect(400, "GET", `${w}/events`, { code: "invalid_request" }); // no upgrade
        // Bad bodies and queries.
        await r.expect(400, "POST", `${w}/input`, { json: {}, code: "invalid_request" });
        await r.expect(400, "POST", `${w}/input`, { json: { text: "" }, code: "invalid_request" });
        await r.expect(400, "POST", `${w}/input`, {
          json: { text: "x", extra: 1 },
          code: "invalid_request",
        });
        await r.expect(400, "POST", `${w}/input`, { raw: "{not json", code: "invalid_json" });
        await r.expect(400, "POST", `${w}/input`, {
          raw: "text=x",
          type: "application/x-www-form-urlencoded",
          code: "invalid_request",
        });
        await r.expect(413, "POST", `${w}/input`, {
          json: { text: "y".repeat(1024 * 1024 + 10) },
          code: "body_too_large",
        });
        await r.expect(400, "GET", `${w}/transcript?limit=0`, { code: "invalid_request" });
        await r.expect(400, "GET", `${w}/transcript?after=-1`, { code: "invalid_request" });
        await r.expect(400, "GET", `${w}/events?after=x`, { code: "invalid_request" });
        await r.expect(400, "POST", base, { json: { profile: "NOPE!" }, code: "invalid_request" });
        await r.expect(400, "POST", base, { json: { profile: "nope" }, code: "unknown_profile" });
        await r.expect(400, "POST", base, {
          json: { bearer_token: CANARY_TOKEN },
          code: "invalid_request",
        });
      }

      // ---- error paths for every runtime: unknown worker, bad worker id, dead runtimes ----
      const expected: Record<string, [number | number[], string | string[]]> = {
        canary: [404, "worker_not_found"],
        embedded: [404, "worker_not_found"],
        offline: [[502, 504], UNREACHABLE_CODES],
        badtoken: [502, "runtime_id_mismatch"],
        unset: [502, "token_ref_unresolved"],
      };
      for (const [rid, [status, code]] of Object.entries(expected)) {
        const base = `/api/runtimes/${rid}/workers`;
        const w = `${base}/${UNKNOWN_WORKER}`;
        if (rid !== "canary" && rid !== "embedded") {
          await r.expect(status, "GET", base, { code });
          await r.expect(status, "POST", base, { json: {}, code });
        }
        await r.expect(status, "GET", w, { code });
        await r.expect(status, "POST", `${w}/input`, { json: { text: "x" }, code });
        await r.expect(status, "POST", `${w}/cancel`, { code });
        await r.expect(status, "POST", `${w}/stop`, { code });
        await r.expect(status, "GET", `${w}/transcript`, { code });
        await r.expect(status, "GET", `${w}/events`, { code });
        const ws = await r.ws(`${w}/events?after=0`, () => true);
        assert.equal(ws.opened, false, `${rid}: WS to an unknown worker is refused`);
        await r.expect(400, "GET", `${base}/not-a-worker`, { code: "invalid_id" });
        await r.expect(400, "POST", `${base}/..%2F..%2Fetc/stop`, { code: "invalid_id" });
      }
      await r.expect(404, "GET", "/api/nope", { code: "not_found" });
      // An unknown page is an HTML 404 for people (recorded and checked for leaks too).
      const missing = await r.request("GET", "/no-such-page");
      assert.equal(missing.status, 404);

      // ---- server-rendered pages are browser-facing too ----
      for (
        const page of ["/", "/settings", "/settings/runtimes", "/settings/backend", "/workers"]
      ) {
        const res = await r.request("GET", page);
        assert.equal(res.status, 200, `GET ${page} renders`);
      }
      for (const [rid, wid] of Object.entries(workers)) {
        await r.request("GET", `/runtimes/${rid}/workers/${wid}`);
      }
      await r.request("GET", `/runtimes/offline/workers/${UNKNOWN_WORKER}`);

      // ---- every documented route once more, with real and unknown ids, whatever the answer ----
      for (const [path, ops] of Object.entries(doc.paths)) {
        if (path.startsWith("/api/settings")) continue; // may echo the admin-typed endpoint
        for (const method of Object.keys(ops)) {
          for (const [rid, wid] of [...Object.entries(workers), ["offline", UNKNOWN_WORKER]]) {
            const p = path.replace("{runtime_id}", rid).replace("{worker_id}", wid);
            await r.request(method.toUpperCase(), p, {
              json: method === "get" ? undefined : path.endsWith("/input") ? { text: "z" } : {},
            });
          }
        }
      }

      // ---- security refusals are browser-facing too ----
      await r.expect(403, "POST", "/api/runtimes/embedded/workers", {
        json: {},
        headers: { origin: "http://evil.example" },
        code: "csrf_rejected",
      });
      const raw = await rawHttp(be.port, [
        "GET /api/runtimes HTTP/1.1",
        `Host: ${CANARY_HOST}:${be.port}`,
      ]);
      assert.equal(raw.status, 403);
      r.record("raw foreign host", `${raw.head}\r\n\r\n${raw.body}`);

      // ---- backend output and audit log ----
      await be.kill("SIGTERM");
      killed = true;
      const audit = await Deno.readTextFile(`${stateDir}/audit.log`);
      const auditLines = audit.trim().split("\n");
      assert.ok(auditLines.length >= 20, "mutations were audited");
      r.record("audit log", audit);
      r.record("backend output", be.output);
      assert.match(be.output, /listening on/, "the output was captured");

      // ---- the scan ----
      const needles: [string, RegExp][] = [
        ["canary token", new RegExp(CANARY_TOKEN, "i")],
        ["canary hostname", /canary-host-7f3a9/i],
        ["remote endpoint", new RegExp(`(127\\.0\\.0\\.1|localhost|\\[::1\\]):${rt.port}(?!\\d)`)],
      ];
      for (const [name, re] of needles) {
        assert.match(`${CANARY_TOKEN} ${CANARY_HOST} ${endpoint}`, re, `${name} needle`);
      }
      assert.ok(r.seen.length > 300, `plenty was recorded (${r.seen.length})`);
      const leaks: string[] = [];
      for (const { what, text } of r.seen) {
        for (const [name, re] of needles) {
          if (re.test(text)) leaks.push(`${name} in ${what}: ${text.slice(0, 300)}`);
        }
      }
      assert.deepEqual(leaks, [], "no canary anywhere");
    } finally {
      if (!killed) await be.kill("SIGKILL");
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test("security: CSRF header and origin, foreign Host, foreign WS origin", async () => {
  await using be = await BackendProcess.start({});
  const r = new Recorder(be.url);
  const path = "/api/runtimes/embedded/workers";

  // Cross-origin POST even with the CSRF header.
  await r.expect(403, "POST", path, {
    json: {},
    headers: { origin: "http://evil.example" },
    code: "csrf_rejected",
  });
  await r.expect(403, "POST", path, {
    json: {},
    headers: { origin: "null" },
    code: "csrf_rejected",
  });
  // No X-Yoi-Request header at all.
  await r.expect(403, "POST", path, {
    json: {},
    headers: { "x-yoi-request": "0" },
    code: "csrf_rejected",
  });
  const bare = await fetch(`${be.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  assert.equal(bare.status, 403);
  assert.equal(ErrorBodySchema.parse(await bare.json()).error.code, "csrf_rejected");
  // Same-origin with the header is fine.
  await r.expect(201, "POST", path, { json: {}, headers: { origin: be.url } });
  assert.equal(
    (await r.expect(200, "GET", path) as { workers: unknown[] }).workers.length,
    1,
    "only the same-origin request created a worker",
  );

  // A foreign Host (DNS rebinding): refused before anything else, even for GET.
  for (const host of [`evil.example:${be.port}`, "evil.example", `127.0.0.1:${be.port + 1}`]) {
    const res = await rawHttp(be.port, ["GET /api/runtimes HTTP/1.1", `Host: ${host}`]);
    assert.equal(res.status, 403, host);
    assert.equal(ErrorBodySchema.parse(JSON.parse(res.body)).error.code, "host_not_allowed");
    assert.ok(!res.body.includes("evil.example"), "the offending Host is not echoed");
  }
  const ok = await rawHttp(be.port, ["GET /api/runtimes HTTP/1.1", `Host: localhost:${be.port}`]);
  assert.equal(ok.status, 200, "an allowed Host works");

  // WS upgrade with a foreign Origin: raw, to read the typed body; then with a real WebSocket.
  const { worker_id } = (await be.client.createWorker("embedded")).worker;
  const eventsPath = `${path}/${worker_id}/events?after=0`;
  const upgrade = (origin: string) => [
    `GET ${eventsPath} HTTP/1.1`,
    `Host: 127.0.0.1:${be.port}`,
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    `Origin: ${origin}`,
  ];
  const refused = await rawHttp(be.port, upgrade("http://evil.example"));
  assert.equal(refused.status, 403);
  assert.equal(ErrorBodySchema.parse(JSON.parse(refused.body)).error.code, "csrf_rejected");

  const wsUrl = be.client.eventsUrl("embedded", worker_id, 0);
  for (const [origin, expectOpen] of [["http://evil.example", false], [be.url, true]] as const) {
    const ws = new DenoWebSocket(wsUrl, { headers: { origin } });
    const closed = new Promise<void>((res) => ws.addEventListener("close", () => res()));
    const opened = await new Promise<boolean>((res) => {
      ws.addEventListener("open", () => res(true));
      ws.addEventListener("close", () => res(false));
    });
    if (opened) ws.close();
    await closed;
    assert.equal(opened, expectOpen, `WS with Origin ${origin}`);
  }
});

Deno.test("security: admin token required on /api when configured", async () => {
  const adminToken = "admin-token-3c1e";
  await using be = await BackendProcess.start({ adminToken });
  for (const auth of [undefined, "Bearer wrong", `Basic ${adminToken}`, adminToken]) {
    const res = await fetch(`${be.url}/api/runtimes`, {
      headers: auth ? { authorization: auth } : {},
    });
    assert.equal(res.status, 401, `authorization ${auth}`);
    assert.equal(res.headers.get("www-authenticate"), "Bearer");
    const body = await res.text();
    assert.equal(ErrorBodySchema.parse(JSON.parse(body)).error.code, "admin_token_required");
    assert.ok(!body.includes(adminToken));
  }
  const res = await fetch(`${be.url}/api/runtimes`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  // The typed client sends it, mutating calls included.
  const { worker } = await be.client.createWorker("embedded");
  assert.equal((await be.client.getWorker("embedded", worker.worker_id)).worker.status, "idle");
  // A WS upgrade without the token is refused too.
  const ws = new WebSocket(be.client.eventsUrl("embedded", worker.worker_id, 0));
  const closed = new Promise<void>((r) => ws.addEventListener("close", () => r()));
  const opened = await new Promise<boolean>((r) => {
    ws.addEventListener("open", () => r(true));
    ws.addEventListener("close", () => r(false));
  });
  if (opened) ws.close();
  await closed;
  assert.equal(opened, false, "events need the admin token as well");
  await be.kill();
  assert.ok(!be.output.includes(adminToken), "the admin token is never printed");
});

Deno.test("security: refuses to listen on 0.0.0.0 without an admin token", async () => {
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-listen-" });
  try {
    // The test harness reports the failed start as a rejection…
    await assert.rejects(
      BackendProcess.start({ stateDir, extraArgs: ["--listen", "0.0.0.0:0"] }),
      /backend exited with 2 before listening/,
    );
    // …and the process itself says why (read directly: all of stderr, after exit).
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../main.ts", import.meta.url).pathname,
        "--state-dir",
        stateDir,
        "--embedded-store",
        "memory",
        "--listen",
        "0.0.0.0:0",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = dec.decode(out.stderr);
    assert.equal(out.code, 2, stderr);
    assert.match(stderr, /Refusing to listen on non-loopback address "0\.0\.0\.0"/);
    assert.match(stderr, /admin token/);
    assert.doesNotMatch(dec.decode(out.stdout), /listening on/);
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }
});
