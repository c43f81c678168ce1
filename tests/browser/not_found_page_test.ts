/**
 * An unknown page answers an HTML 404 for people (with the layout and links on), while
 * unknown API routes keep the typed JSON error; the page has no serious axe findings.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser, seriousA11yViolations } from "../support/browser.ts";

browserTest("an unknown page is an HTML 404 with a way back; /api stays JSON", async () => {
  await using be = await BackendProcess.start();
  const api = await fetch(`${be.url}/api/nope`);
  assert.equal(api.status, 404);
  assert.deepEqual((await api.json()).error.code, "not_found");

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
});
