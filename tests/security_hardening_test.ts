/**
 * Input, audit and principal rules of issue 12 against real Backend processes: display names
 * with bidi controls, other control characters or unpaired surrogates are typed 400s (a lone
 * surrogate used to reach the config writer and come back 409); a config mutation whose audit
 * line cannot be written is refused with 503 `audit_unavailable` and changes nothing; audit
 * lines name the runtime and the acting principal (a label or hash, never the token).
 * @module
 */
import assert from "node:assert/strict";
import { CSRF_HEADER } from "../shared/client.ts";
import { BackendProcess } from "./support/backend_process.ts";

const BASE = "/api/settings/runtime-connections";

async function post(bp: BackendProcess, path: string, raw: string, headers = {}) {
  const res = await fetch(`${bp.url}${path}`, {
    method: "POST",
    headers: { [CSRF_HEADER]: "1", "content-type": "application/json", ...headers },
    body: raw,
  });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) };
}

Deno.test("input: bidi, control and unpaired-surrogate display names and endpoints are typed 400s", async () => {
  await using bp = await BackendProcess.start();
  const cases: [string, string, string][] = [
    ["RLO override", '"display_name":"a\\u202eb"', "invalid_display_name"],
    ["LRE embedding", '"display_name":"\\u202ax"', "invalid_display_name"],
    ["isolate", '"display_name":"x\\u2066y\\u2069"', "invalid_display_name"],
    ["bell", '"display_name":"x\\u0007"', "invalid_display_name"],
    ["lone high surrogate", '"display_name":"x\\ud800"', "invalid_display_name"],
    ["lone low surrogate", '"display_name":"\\udc00x"', "invalid_display_name"],
    ["surrogate in endpoint", '"endpoint":"http://127.0.0.1:1/\\ud800"', "invalid_endpoint"],
    ["surrogate in token_ref", '"token_ref":"file:a\\ud800"', "invalid_token_ref"],
  ];
  for (const [what, field, code] of cases) {
    const base = field.startsWith('"endpoint"')
      ? `{"id":"s",${field}}`
      : `{"id":"s","endpoint":"http://127.0.0.1:1",${field}}`;
    for (const path of [BASE, `${BASE}/test`]) {
      if (path.endsWith("/test") && field.startsWith('"display_name"')) continue;
      const r = await post(bp, path, base);
      assert.equal(r.status, 400, `${what}: ${r.text}`);
      assert.equal(r.body.error.code, code, what);
      assert.ok(Array.isArray(r.body.diagnostics));
    }
  }
  // A paired surrogate (an emoji) is fine.
  const ok = await post(
    bp,
    BASE,
    '{"id":"s","endpoint":"http://127.0.0.1:1","display_name":"box \\ud83d\\ude80"}',
  );
  assert.equal(ok.status, 201, ok.text);
  // Worker names follow the same rule.
  const w = await post(bp, "/api/runtimes/embedded/workers", '{"display_name":"a\\u202eb"}');
  assert.equal(w.status, 400, w.text);
  const w2 = await post(bp, "/api/runtimes/embedded/workers", '{"display_name":"a\\ud800"}');
  assert.equal(w2.status, 400, w2.text);
});

Deno.test("audit fails closed for config mutations; lines carry runtime id and principal", async () => {
  // The audit log cannot be written: its path is a directory.
  const stateDir = await Deno.makeTempDir({ prefix: "yoi-audit-" });
  try {
    await Deno.mkdir(`${stateDir}/audit.log`);
    const bp = await BackendProcess.start({ stateDir });
    try {
      const add = await post(bp, BASE, '{"id":"a","endpoint":"http://127.0.0.1:1"}');
      assert.equal(add.status, 503, add.text);
      assert.equal(add.body.error.code, "audit_unavailable");
      await assert.rejects(
        () => Deno.stat(`${stateDir}/workspace-backend.local.toml`),
        Deno.errors.NotFound,
        "nothing was written",
      );
      // Worker operations are not config mutations: they still run (audited best-effort).
      const w = await post(bp, "/api/runtimes/embedded/workers", "{}");
      assert.equal(w.status, 201, w.text);
    } finally {
      await bp.kill();
    }
  } finally {
    await Deno.remove(stateDir, { recursive: true });
  }

  const ADMIN = "admin-token-audit-5f0d";
  await using bp = await BackendProcess.start({ adminToken: ADMIN });
  const bearer = await post(bp, BASE, '{"id":"by-bearer","endpoint":"http://127.0.0.1:1"}', {
    authorization: `Bearer ${ADMIN}`,
  });
  assert.equal(bearer.status, 201, bearer.text);
  const login = await fetch(`${bp.url}/login`, {
    method: "POST",
    redirect: "manual",
    body: new URLSearchParams({ token: ADMIN }),
  });
  await login.body?.cancel();
  const cookie = login.headers.get("set-cookie")!.split(";")[0];
  const bySession = await post(bp, BASE, '{"id":"by-session","endpoint":"http://127.0.0.1:1"}', {
    cookie,
  });
  assert.equal(bySession.status, 201, bySession.text);
  const text = await Deno.readTextFile(`${bp.stateDir}/audit.log`);
  assert.ok(!text.includes(ADMIN), "the token is in the audit log");
  assert.ok(!text.includes(cookie.split("=")[1]), "the session id is in the audit log");
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  const of = (id: string) => lines.filter((l) => l.runtime_id === id);
  assert.deepEqual(of("by-bearer").map((l) => [l.operation, l.outcome, l.principal]), [
    ["connection.add", "started", "admin-token"],
    ["connection.add", "ok", "admin-token"],
  ]);
  const session = of("by-session");
  assert.deepEqual(session.map((l) => l.outcome), ["started", "ok"]);
  for (const l of session) assert.match(l.principal, /^session:[A-Za-z0-9_-]{12}$/);
});
