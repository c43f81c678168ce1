/**
 * Admin login in a real browser (DESIGN §8) against a real Backend process started with an
 * admin token: a page redirects to /login; a wrong token is refused; the right one gives an
 * HttpOnly SameSite=Strict session cookie (a random id, never the token) with which the
 * Runtime Connections islands add, test and delete a connection and the worker console's
 * WebSocket streams; a forged cross-site form POST carrying that cookie is refused; logout
 * ends the session so the old cookie gets 401.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { browserTest, launchBrowser } from "../support/browser.ts";

const ADMIN = "admin-token-4c2f9e";

browserTest(
  "admin login: log in, manage connections and a console, forged POST refused, logout",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "lab" });
    await using bp = await BackendProcess.start({ adminToken: ADMIN });
    await using browser = await launchBrowser();
    const page = await browser.newPage();

    // A page without a session: 303 to the login form, which keeps where we wanted to go.
    await page.goto(`${bp.url}/settings/runtime-connections`);
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(new URL(page.url()).searchParams.get("next"), "/settings/runtime-connections");
    await page.getByLabel("Admin token").fill("not-the-token");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("alert").filter({ hasText: "not this Backend's admin token" }).waitFor();
    assert.equal((await browser.context.cookies()).length, 0, "no cookie for a wrong token");

    await page.getByLabel("Admin token").fill(ADMIN);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${bp.url}/settings/runtime-connections`);
    const [cookie] = await browser.context.cookies();
    assert.equal(cookie.name, "yoi_session");
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, "Strict");
    assert.equal(cookie.path, "/");
    assert.ok(!cookie.value.includes(ADMIN) && cookie.value.length >= 40, "a random id");
    assert.equal(
      await page.evaluate(() => document.cookie),
      "",
      "scripts cannot read the session cookie",
    );

    // The islands work with the cookie: add (Save & test), test, delete.
    const form = page.getByRole("region", { name: "Add a remote runtime" });
    await page.waitForFunction(() =>
      !document.querySelector<HTMLButtonElement>("#add-id")?.form?.querySelector("button")?.disabled
    );
    await form.getByLabel("Id", { exact: true }).fill("lab");
    await form.getByLabel("Display name").fill("Lab");
    await form.getByLabel("Endpoint").fill(rt.url);
    await form.getByRole("button", { name: "Save & test" }).click();
    await page.locator("#saved-notice", { hasText: "lab was added" }).waitFor();
    const lab = page.getByRole("region", { name: "Lab", exact: true });
    await lab.locator('.row-head [data-state="ready"]').waitFor();
    await lab.getByRole("button", { name: "Test Lab" }).click();
    await lab.getByText(/reachable/).first().waitFor();
    await lab.getByRole("button", { name: "Delete Lab" }).click();
    await lab.getByRole("button", { name: "Confirm" }).click();
    await page.locator("#saved-notice", { hasText: "lab was deleted" }).waitFor();

    // A console: create a worker through the form, its WebSocket goes live, a turn streams.
    await page.goto(`${bp.url}/workers/new`);
    await page.getByLabel(/^Embedded runtime/).check();
    await page.getByLabel("Display name").fill("Logged-in console");
    await page.getByLabel("Display name").press("Enter");
    await page.waitForURL(/\/runtimes\/embedded\/workers\/[0-9a-f-]{36}$/);
    await page.locator('.console-conn[data-conn="live"]').waitFor();
    const input = page.getByLabel("Input", { exact: true });
    await input.fill("hello with a session cookie");
    await input.press("Enter");
    await page.getByRole("log", { name: "Transcript" }).getByText("Turn 1 completed.").waitFor();

    // A forged cross-site POST: another origin on the same host (same site, so the Strict cookie
    // is sent) auto-submits a form to the API and to /logout. Both are refused.
    const evil = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const target = new URL(req.url).pathname === "/logout"
        ? `${bp.url}/logout`
        : `${bp.url}/api/settings/runtime-connections`;
      return new Response(
        `<!doctype html><form method="post" action="${target}" enctype="text/plain">` +
          `<input name='{"id":"evil","endpoint":"http://127.0.0.1:1","x":"' value='"}'></form>` +
          `<script>document.forms[0].submit()</script>`,
        { headers: { "content-type": "text/html" } },
      );
    });
    try {
      const evilUrl = `http://127.0.0.1:${evil.addr.port}`;
      for (const path of ["/api", "/logout"]) {
        await page.goto(`${evilUrl}${path}`);
        await page.waitForURL((u) => u.origin === bp.url, { waitUntil: "load" });
        assert.match(await page.content(), /csrf_rejected/, `forged POST ${path}`);
      }
    } finally {
      await evil.shutdown();
    }
    const list = await bp.client.get(
      "/api/settings/runtime-connections",
      (await import("../../shared/mod.ts")).ConnectionListSchema,
    );
    assert.ok(!list.connections.some((c) => c.id === "evil"), "nothing was added");
    const withCookie = (path: string) =>
      fetch(`${bp.url}${path}`, { headers: { cookie: `yoi_session=${cookie.value}` } });
    const still = await withCookie("/api/runtimes");
    await still.body?.cancel();
    assert.equal(still.status, 200, "the forged logout did not end the session");

    // Logout ends the session: back to the login page, and the old cookie is refused.
    await page.goto(`${bp.url}/settings/backend`);
    await page.getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${bp.url}/settings`);
    assert.equal(new URL(page.url()).pathname, "/login");
    const after = await withCookie("/api/runtimes");
    assert.equal(after.status, 401);
    assert.equal((await after.json()).error.code, "admin_token_required");
    assert.ok(!bp.output.includes(ADMIN), "the admin token was logged");
  },
);
