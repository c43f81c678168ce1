/**
 * Admin login over plain HTTP against a real Backend process (DESIGN §8): pages redirect with
 * 303 to `/login?next=`, `/api` answers 401; `POST /login` is a plain form (no X-Yoi-Request)
 * whose foreign Origin is refused; the cookie never holds the token; the stylesheet is public
 * so the login page is styled; the 11th failure from one address within a minute is 429 —
 * even with the right token.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "./support/backend_process.ts";
import { STYLESHEET } from "../web/workspace/app.tsx";

const ADMIN = "admin-token-http-81b2";

function login(bp: BackendProcess, token: string, headers: Record<string, string> = {}) {
  return fetch(`${bp.url}/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams({ token, next: "/workers" }),
  });
}

Deno.test("admin login over HTTP: redirects, plain form, Origin rule, cookie, 429", async () => {
  await using bp = await BackendProcess.start({ adminToken: ADMIN });
  const page = await fetch(`${bp.url}/workers?x=1`, { redirect: "manual" });
  await page.body?.cancel();
  assert.equal(page.status, 303);
  assert.equal(page.headers.get("location"), "/login?next=%2Fworkers%3Fx%3D1");
  const api = await fetch(`${bp.url}/api/runtimes`);
  assert.equal(api.status, 401);
  assert.equal((await api.json()).error.code, "admin_token_required");
  const css = await fetch(`${bp.url}${STYLESHEET}`);
  await css.body?.cancel();
  assert.equal(css.status, 200, "the login page's stylesheet needs no session");

  // A present foreign Origin is refused even with the right token.
  const foreign = await login(bp, ADMIN, { origin: "http://evil.example" });
  assert.equal(foreign.status, 403);
  assert.equal((await foreign.json()).error.code, "csrf_rejected");

  const ok = await login(bp, ADMIN, { origin: bp.url });
  await ok.body?.cancel();
  assert.equal(ok.status, 303);
  assert.equal(ok.headers.get("location"), "/workers");
  const setCookie = ok.headers.get("set-cookie")!;
  assert.match(setCookie, /^yoi_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
  assert.ok(!setCookie.includes(ADMIN));
  const cookie = setCookie.split(";")[0];
  const withCookie = await fetch(`${bp.url}/api/runtimes`, { headers: { cookie } });
  await withCookie.body?.cancel();
  assert.equal(withCookie.status, 200);
  // The cookie does not lift CSRF rules: a mutating API call still needs the header.
  const forged = await fetch(`${bp.url}/api/settings/runtime-connections`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json" },
    body: JSON.stringify({ id: "x", endpoint: "http://127.0.0.1:1" }),
  });
  assert.equal(forged.status, 403);
  assert.equal((await forged.json()).error.code, "csrf_rejected");

  // Ten failures from this address, then 429 — the right token included.
  for (let i = 0; i < 10; i++) {
    const r = await login(bp, `wrong-${i}`);
    assert.equal(r.status, 401, `failure ${i + 1}`);
    assert.match(
      await r.text(),
      /not this Backend&#39;s admin token|not this Backend's admin token/,
    );
  }
  const limited = await login(bp, ADMIN);
  assert.equal(limited.status, 429);
  assert.match(await limited.text(), /Too many failed attempts/);
  // The bearer header still works for scripts (it is not a login).
  const bearer = await fetch(`${bp.url}/api/runtimes`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  await bearer.body?.cancel();
  assert.equal(bearer.status, 200);
});
