/**
 * Issue 14's page-quality bar in a real browser, against a real Backend process and a
 * real remote runtime: every page of DESIGN §9 (plus `/login` and a 404) at 1280×800 and
 * 390×844, light and dark, has no axe violation of any impact and no horizontal overflow
 * (`scrollWidth <= innerWidth`); every page has a skip link that moves focus to the main
 * content and a visible focus ring; copy buttons copy ids.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { a11yViolations, browserTest, launchBrowser } from "../support/browser.ts";

const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
] as const;
const SCHEMES = ["light", "dark"] as const;
// Long enough to overflow a phone unless it wraps.
const LONG_NAME = "A worker with a rather long display name that must wrap on a phone screen";

/** The page has settled: the sidebar island has its first live snapshot. */
async function settled(page: Page) {
  await page.waitForFunction(() => {
    const text = document.querySelector(".live-sidebar")?.textContent;
    return text !== undefined && !text.includes("Connecting");
  });
}

async function check(page: Page, what: string) {
  const v = await a11yViolations(page);
  assert.deepEqual(v, [], `${what}: axe violations: ${JSON.stringify(v, null, 1)}`);
  const { scroll, inner } = await page.evaluate(() => ({
    scroll: document.scrollingElement!.scrollWidth,
    inner: innerWidth,
  }));
  assert.ok(scroll <= inner, `${what}: page is ${scroll} px wide in a ${inner} px viewport`);
}

browserTest(
  "every page: no axe violations of any impact and no horizontal overflow (desktop, phone, light, dark)",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "build-box-with-a-long-runtime-id" });
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "${rt.id}"\nendpoint = "${rt.url}"\n` +
        `display_name = "Build box"\n`,
    });
    const { worker } = await be.client.createWorker(rt.id, { display_name: LONG_NAME });
    await be.client.input(rt.id, worker.worker_id, "hello ".repeat(40));
    const pages = [
      "/settings",
      "/settings/runtime-connections",
      "/settings/runtimes",
      "/settings/backend",
      "/workers",
      "/workers/new",
      `/runtimes/${rt.id}/workers/${worker.worker_id}`,
      "/nope",
    ];
    await using browser = await launchBrowser();
    const failures: string[] = [];
    for (const scheme of SCHEMES) {
      const page = await browser.newPage({ colorScheme: scheme });
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        for (const path of pages) {
          const what = `${path} (${vp.name}, ${scheme})`;
          await page.goto(`${be.url}${path}`);
          await settled(page);
          try {
            await check(page, what);
          } catch (e) {
            failures.push((e as Error).message);
          }
        }
      }
      await page.close();
    }
    assert.deepEqual(failures, [], failures.join("\n\n"));
  },
);

browserTest(
  "/login: no axe violations of any impact, no overflow (desktop, phone, light, dark)",
  async () => {
    await using be = await BackendProcess.start({ adminToken: "admin-token-quality" });
    await using browser = await launchBrowser();
    for (const scheme of SCHEMES) {
      const page = await browser.newPage({ colorScheme: scheme });
      for (const vp of VIEWPORTS) {
        await page.setViewportSize({ width: vp.width, height: vp.height });
        await page.goto(`${be.url}/workers`);
        assert.equal(new URL(page.url()).pathname, "/login");
        await check(page, `/login (${vp.name}, ${scheme})`);
      }
      await page.close();
    }
  },
);

browserTest("skip link, visible focus ring and copy buttons", async () => {
  await using rt = await RuntimeProcess.start({ id: "copy-rt" });
  await using be = await BackendProcess.start({
    config: `[[runtimes.remote]]\nid = "${rt.id}"\nendpoint = "${rt.url}"\n`,
  });
  const { worker } = await be.client.createWorker(rt.id, { display_name: "Copy me" });
  await using browser = await launchBrowser();
  await browser.context.grantPermissions(["clipboard-read", "clipboard-write"], {
    origin: be.url,
  });
  const page = await browser.newPage();
  await page.goto(`${be.url}/workers`);
  await settled(page);

  // The first Tab lands on the skip link, which is then visible; Enter moves focus to main.
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  assert.equal(await skip.evaluate((el) => el === document.activeElement), true);
  const box = await skip.boundingBox();
  assert.ok(box && box.x >= 0 && box.y >= 0, "the focused skip link is on screen");
  const ring = await skip.evaluate((el) => getComputedStyle(el).outlineStyle);
  assert.equal(ring, "solid", "a visible focus ring");
  await page.keyboard.press("Enter");
  // The fragment navigation lands after the key event: wait for it rather than read at once.
  await page.waitForURL((u) => u.hash === "#main", { timeout: 5000 });
  assert.equal(new URL(page.url()).hash, "#main");

  // A copy button copies the worker id and says so.
  const row = page.getByRole("main").getByRole("row", { name: /Copy me/ });
  await row.getByRole("button", { name: "Copy worker id of Copy me" }).click();
  await page.locator("#copy-status", { hasText: `Copied ${worker.worker_id}` }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), worker.worker_id);
});
