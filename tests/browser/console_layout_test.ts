/**
 * The console at phone size (390×844) against a real Backend (issue 14): input and buttons on
 * screen with the transcript scrolling above; a reader scrolled up is not pulled down by new
 * output; focus stays in the console after Cancel; the created time is relative with the
 * absolute local time on hover.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser, seriousA11yViolations } from "../support/browser.ts";

const SLOW = `[profiles.slow]\nengine="echo"\nchunk_chars=1\ndelay_ms=20\n`;
const WAIT = 30_000;

async function inView(page: Page, selector: string): Promise<boolean> {
  const vp = page.viewportSize()!;
  for (const el of await page.locator(selector).all()) {
    const b = await el.boundingBox();
    if (!b || b.y < 0 || b.x < 0 || b.y + b.height > vp.height || b.x + b.width > vp.width) {
      return false;
    }
  }
  return true;
}

browserTest(
  "console at 390×844: input and buttons on screen; no auto-scroll when scrolled up; focus kept after Cancel; relative created time",
  async () => {
    await using be = await BackendProcess.start({ embeddedConfig: SLOW });
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const { worker } = await be.client.createWorker("embedded", {
      profile: "slow",
      display_name: "Phone",
    });
    await page.goto(`${be.url}/runtimes/embedded/workers/${worker.worker_id}`);
    await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
    assert.ok(await inView(page, "#console-input"), "input in view");
    assert.ok(await inView(page, ".console-input .actions > button"), "buttons in view");

    // Relative, with the absolute local time (and its zone) on hover.
    const created = page.locator(".console-meta time.rel");
    assert.match((await created.textContent())!, /just now|s ago|min ago/);
    assert.match((await created.getAttribute("title"))!, /\d{2}:\d{2}:\d{2}/);
    assert.notEqual(await created.getAttribute("title"), worker.created_at);

    // A long turn: scroll the transcript up; new output does not pull it down.
    const text = Array.from({ length: 40 }, (_, i) => `row ${i}\n`).join("");
    await page.locator("#console-input").fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByRole("button", { name: "Cancel turn" }).waitFor();
    const out = page.locator(".console-output");
    await page.waitForFunction(
      () => {
        const el = document.querySelector(".console-output")!;
        return el.scrollHeight > el.clientHeight + 40;
      },
      undefined,
      { timeout: WAIT },
    );
    await out.evaluate((el) => el.scrollTop = 0);
    await page.waitForTimeout(400);
    assert.equal(await out.evaluate((el) => el.scrollTop), 0, "not pulled to the bottom");
    assert.ok(await inView(page, "#console-input"), "input in view while busy");
    assert.ok(await inView(page, ".console-input .actions > button"), "buttons in view while busy");

    // Cancel by keyboard: focus stays in the console (the input), not on <body>.
    await page.getByRole("button", { name: "Cancel turn" }).focus();
    await page.keyboard.press("Enter");
    await page.getByRole("log").getByText("Turn 1 cancelled.").waitFor({ timeout: WAIT });
    await page.waitForFunction(() => document.activeElement?.id === "console-input", undefined, {
      timeout: 5_000,
    });
    const v = await seriousA11yViolations(page);
    assert.deepEqual(v, [], JSON.stringify(v));
    assert.ok(
      await page.evaluate(() => document.scrollingElement!.scrollWidth <= innerWidth),
      "no horizontal overflow at 390 px",
    );
  },
);
