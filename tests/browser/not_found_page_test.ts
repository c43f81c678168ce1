/**
 * An unknown page answers an HTML 404 for people (with the layout and links on), while
 * unknown API routes keep the typed JSON error; the page has no serious axe findings.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser, seriousA11yViolations } from "../support/browser.ts";

browserTest(
  "an unknown page is an HTML 404 with a way back; /api and Accept: JSON get JSON",
  async () => {
    await using be = await BackendProcess.start();
    const api = await fetch(`${be.url}/api/nope`);
    assert.equal(api.status, 404);
    assert.deepEqual((await api.json()).error.code, "not_found");

    // A page URL asked for as JSON answers the §5 error shape, not a page.
    const json = { accept: "application/json" };
    const nope = await fetch(`${be.url}/nope`, { headers: json });
    assert.equal(nope.status, 404);
    assert.match(nope.headers.get("content-type") ?? "", /application\/json/);
    assert.equal((await nope.json()).error.code, "not_found");
    const missing = await fetch(
      `${be.url}/runtimes/embedded/workers/0190a000-0000-7000-8000-000000000000`,
      {
        headers: json,
      },
    );
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "worker_not_found");
    const bad = await fetch(`${be.url}/runtimes/embedded/workers/not-an-id`, { headers: json });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_id");
    // A browser's Accept (HTML first, */* after) still gets the page.
    const html = await fetch(`${be.url}/nope`, {
      headers: { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" },
    });
    assert.match(html.headers.get("content-type") ?? "", /text\/html/);
    await html.body?.cancel();

    await using browser = await launchBrowser();
    for (const scheme of ["light", "dark"] as const) {
      const page = await browser.newPage({ colorScheme: scheme });
      const res = await page.goto(`${be.url}/settings/runtime-inventory`);
      assert.equal(res?.status(), 404);
      assert.match(res?.headers()["content-type"] ?? "", /text\/html/);
      assert.equal(await page.title(), "Page not found · yoi workspace");
      await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
      await page.getByRole("link", { name: "Workers" }).first().waitFor();
      assert.deepEqual(await seriousA11yViolations(page), [], scheme);
    }
  },
);
