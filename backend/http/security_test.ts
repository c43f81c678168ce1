import assert from "node:assert/strict";
import { Hono } from "hono";
import { ErrorBodySchema, type ErrorCode } from "../../shared/errors.ts";
import {
  adminTokenGuard,
  allowedHosts,
  assertListenAllowed,
  csrfGuard,
  guards,
  hostGuard,
} from "./security.ts";
import { ApiError } from "../../shared/errors.ts";
import { errorResponse } from "../../shared/http.ts";

const PORT = 4321;
const OWN = `127.0.0.1:${PORT}`;

function app(token?: string): Hono {
  const opts = { port: PORT, extraHosts: ["yoi.lan", "other.lan:8443", "[fe80::1]"] };
  const a = new Hono();
  a.use("*", hostGuard(opts), adminTokenGuard(token), csrfGuard(opts));
  a.get("/api/x", (c) => c.json({ ok: true }));
  a.post("/api/x", (c) => c.json({ ok: true }));
  a.delete("/api/x", (c) => c.json({ ok: true }));
  a.get("/api/ws", (c) => c.text("upgraded"));
  return a;
}

async function call(
  a: Hono,
  method: string,
  headers: Record<string, string>,
  path = "/api/x",
): Promise<Response> {
  return await a.request(`http://${OWN}${path}`, { method, headers });
}

async function assertRefused(res: Response, status: number, code: ErrorCode): Promise<void> {
  assert.equal(res.status, status);
  const body = ErrorBodySchema.parse(await res.json());
  assert.equal(body.error.code, code);
}

Deno.test("hostGuard: foreign or missing Host → 403 host_not_allowed, no echo", async () => {
  const a = app();
  for (const host of ["evil.example", `evil.example:${PORT}`, "127.0.0.1:9999", "localhost"]) {
    const res = await call(a, "GET", { host });
    assert.equal(res.status, 403);
    const text = await res.text();
    const body = ErrorBodySchema.parse(JSON.parse(text));
    assert.equal(body.error.code, "host_not_allowed");
    assert.ok(!text.includes("evil"), "Host value must not be echoed");
  }
  await assertRefused(await call(a, "GET", {}), 403, "host_not_allowed");
});

Deno.test("hostGuard: loopback names and extra hosts pass", async () => {
  const a = app();
  for (
    const host of [
      OWN,
      `localhost:${PORT}`,
      `LOCALHOST:${PORT}`,
      `[::1]:${PORT}`,
      `yoi.lan:${PORT}`,
      "other.lan:8443",
      `[fe80::1]:${PORT}`,
    ]
  ) {
    const res = await call(a, "GET", { host });
    assert.equal(res.status, 200, host);
  }
  assert.equal((await call(a, "GET", { host: `other.lan:${PORT}` })).status, 403);
});

Deno.test("allowedHosts normalizes extra hosts", () => {
  const s = allowedHosts({ port: 1, extraHosts: ["A.lan", "b.lan:2", "::2", "[::3]:4", " "] });
  assert.deepEqual(
    [...s],
    ["127.0.0.1:1", "localhost:1", "[::1]:1", "a.lan:1", "b.lan:2", "[::2]:1", "[::3]:4"],
  );
});

Deno.test("csrfGuard: POST without X-Yoi-Request → 403 csrf_rejected", async () => {
  const a = app();
  await assertRefused(await call(a, "POST", { host: OWN }), 403, "csrf_rejected");
  await assertRefused(
    await call(a, "POST", { host: OWN, "x-yoi-request": "0" }),
    403,
    "csrf_rejected",
  );
  await assertRefused(
    await call(a, "POST", { host: OWN, origin: `http://${OWN}` }),
    403,
    "csrf_rejected",
  );
});

Deno.test("csrfGuard: foreign or null Origin → 403 even with header", async () => {
  const a = app();
  for (
    const origin of [
      "http://evil.example",
      "null",
      `https://${OWN}`,
      `http://localhost:${PORT}`,
      `http://${OWN}.evil`,
    ]
  ) {
    const res = await call(a, "POST", { host: OWN, "x-yoi-request": "1", origin });
    await assertRefused(res, 403, "csrf_rejected");
  }
});

Deno.test("csrfGuard: header with own or no Origin → 200", async () => {
  const a = app();
  assert.equal(
    (await call(a, "POST", { host: OWN, "x-yoi-request": "1", origin: `http://${OWN}` })).status,
    200,
  );
  assert.equal((await call(a, "POST", { host: OWN, "x-yoi-request": "1" })).status, 200);
  const v6 = `[::1]:${PORT}`;
  assert.equal(
    (await call(a, "POST", { host: v6, "x-yoi-request": "1", origin: `http://${v6}` })).status,
    200,
  );
});

Deno.test("csrfGuard: DELETE is guarded too", async () => {
  const a = app();
  await assertRefused(await call(a, "DELETE", { host: OWN }), 403, "csrf_rejected");
  await assertRefused(
    await call(a, "DELETE", { host: OWN, "x-yoi-request": "1", origin: "http://evil.example" }),
    403,
    "csrf_rejected",
  );
  assert.equal((await call(a, "DELETE", { host: OWN, "x-yoi-request": "1" })).status, 200);
});

Deno.test("csrfGuard: plain GET passes without header, even with foreign Origin", async () => {
  const a = app();
  assert.equal((await call(a, "GET", { host: OWN, origin: "http://evil.example" })).status, 200);
});

Deno.test("csrfGuard: WebSocket upgrade with foreign Origin → 403; own/absent pass", async () => {
  const a = app();
  const ws = { host: OWN, upgrade: "websocket", connection: "Upgrade" };
  await assertRefused(
    await call(a, "GET", { ...ws, origin: "http://evil.example" }, "/api/ws"),
    403,
    "csrf_rejected",
  );
  await assertRefused(
    await call(a, "GET", { ...ws, origin: "null" }, "/api/ws"),
    403,
    "csrf_rejected",
  );
  assert.equal((await call(a, "GET", { ...ws, origin: `http://${OWN}` }, "/api/ws")).status, 200);
  assert.equal((await call(a, "GET", ws, "/api/ws")).status, 200);
});

Deno.test("adminTokenGuard: missing/wrong token → 401, right token → 200", async () => {
  const a = app("s3cret-admin");
  const missing = await call(a, "GET", { host: OWN });
  assert.equal(missing.headers.get("www-authenticate"), "Bearer");
  await assertRefused(missing, 401, "admin_token_required");
  await assertRefused(
    await call(a, "GET", { host: OWN, authorization: "Bearer wrong" }),
    401,
    "admin_token_required",
  );
  await assertRefused(
    await call(a, "GET", { host: OWN, authorization: "Basic s3cret-admin" }),
    401,
    "admin_token_required",
  );
  assert.equal(
    (await call(a, "GET", { host: OWN, authorization: "Bearer s3cret-admin" })).status,
    200,
  );
  assert.equal(
    (await call(a, "POST", {
      host: OWN,
      authorization: "bearer s3cret-admin",
      "x-yoi-request": "1",
    })).status,
    200,
  );
});

Deno.test("adminTokenGuard: undefined token is a no-op", async () => {
  assert.equal((await call(app(undefined), "GET", { host: OWN })).status, 200);
});

Deno.test("assertListenAllowed", () => {
  assertListenAllowed("127.0.0.1", undefined);
  assertListenAllowed("localhost", undefined);
  assertListenAllowed("::1", undefined);
  assertListenAllowed("0.0.0.0", "tok");
  assert.throws(() => assertListenAllowed("0.0.0.0", undefined), /admin token/);
  assert.throws(() => assertListenAllowed("192.168.1.5", ""), /admin token/);
});

Deno.test("allowedHosts: the listen address itself is allowed, a wildcard is not", async () => {
  assert.ok(allowedHosts({ port: 9, listenHost: "127.0.0.2" }).has("127.0.0.2:9"));
  assert.ok(allowedHosts({ port: 9, listenHost: "::2" }).has("[::2]:9"));
  assert.ok(allowedHosts({ port: 9, listenHost: "[fd00::5]" }).has("[fd00::5]:9"));
  assert.ok(!allowedHosts({ port: 9, listenHost: "0.0.0.0" }).has("0.0.0.0:9"));
  assert.ok(!allowedHosts({ port: 9, listenHost: "::" }).has("[::]:9"));
  const app = new Hono();
  app.use("*", hostGuard({ port: 9, listenHost: "127.0.0.2" }));
  app.get("/", (c) => c.text("ok"));
  const ok = await app.fetch(
    new Request("http://127.0.0.2:9/", { headers: { host: "127.0.0.2:9" } }),
  );
  assert.equal(ok.status, 200);
  const other = await app.fetch(
    new Request("http://127.0.0.3:9/", { headers: { host: "127.0.0.3:9" } }),
  );
  assert.equal(other.status, 403);
});

Deno.test("guards: one layer keeps the layers' order, answers and errors", async () => {
  const seen: string[] = [];
  const a = new Hono();
  const onError = (e: Error) =>
    e instanceof ApiError ? errorResponse(e) : new Response("unexpected", { status: 500 });
  a.onError(onError);
  a.use(
    "*",
    guards({ port: PORT }, {
      api: [
        // Like the audit middleware: around everything after it, reading the answer.
        async (c, next) => {
          await next();
          seen.push(`${c.req.method} ${c.res.status}`);
        },
        csrfGuard({ port: PORT }),
        // Like requireJsonBody: a refusal thrown, not returned.
        async (c, next) => {
          if (c.req.header("x-throw")) throw new ApiError("invalid_request", "thrown");
          await next();
        },
      ],
      page: [csrfGuard({ port: PORT })],
      readsPass: true,
      onError,
    }),
  );
  a.get("/api/x", (c) => c.json({ ok: true }));
  a.post("/api/x", (c) => c.json({ ok: true }));
  a.post("/login", (c) => c.text("form"));

  assert.equal((await call(a, "GET", { host: "evil.example" })).status, 403);
  // A plain read passes on: the chain (and its audit-like layer) is skipped.
  assert.equal((await call(a, "GET", { host: OWN })).status, 200);
  assert.deepEqual(seen, []);
  // A mutation without the CSRF header: refused inside the chain, seen by the outer layer.
  assert.equal((await call(a, "POST", { host: OWN })).status, 403);
  // A refusal thrown further in is answered by onError there, and the outer layer sees it.
  const thrown = await call(a, "POST", { host: OWN, "x-yoi-request": "1", "x-throw": "1" });
  assert.equal(thrown.status, 400);
  assert.equal((await call(a, "POST", { host: OWN, "x-yoi-request": "1" })).status, 200);
  assert.deepEqual(seen, ["POST 403", "POST 400", "POST 200"]);
  // A WebSocket upgrade is not a plain read: the CSRF guard checks its Origin.
  const ws = await call(a, "GET", {
    host: OWN,
    upgrade: "websocket",
    origin: "http://evil.example",
  });
  assert.equal(ws.status, 403);
  // Pages run their own chain: the login form is exempt from the header, not from Origin.
  assert.equal((await call(a, "POST", { host: OWN }, "/login")).status, 200);
  assert.equal(
    (await call(a, "POST", { host: OWN, origin: "http://evil.example" }, "/login")).status,
    403,
  );
});
