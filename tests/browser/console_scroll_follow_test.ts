/**
 * Scroll-follow against a slow answer to the input request: the reader's own input makes the
 * transcript follow the answer, but a reader who scrolls up before that request has even
 * answered stays where they are. The request's answer is held back in the browser (playwright
 * routing) so the order "output, scroll up, then the answer" is certain, not a matter of load.
 * Real Backend with its built-in runtime.
 * @module
 */
import assert from "node:assert/strict";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser } from "../support/browser.ts";
import { waitUntil } from "../support/wait.ts";

const SLOW = `[profiles.slow]\nengine="echo"\nchunk_chars=1\ndelay_ms=20\n`;
const WAIT = 30_000;

browserTest(
  "console: scrolled up before the input request answers, the reader stays put",
  async () => {
    await using be = await BackendProcess.start({ embeddedConfig: SLOW });
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    const { worker } = await be.client.createWorker("embedded", { profile: "slow" });
    let release = () => {};
    const held = new Promise<void>((r) => release = r);
    let answered = false;
    await page.route("**/input", async (route) => {
      const res = await route.fetch();
      await held;
      await route.fulfill({ response: res });
      answered = true;
    });
    await page.goto(`${be.url}/runtimes/embedded/workers/${worker.worker_id}`);
    await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });

    const text = Array.from({ length: 60 }, (_, i) => `row ${i}\n`).join("");
    await page.locator("#console-input").fill(text);
    await page.getByRole("button", { name: "Send" }).click();
    const out = page.locator(".console-output");
    // The answer streams in and is followed (the reader's own input) ...
    await page.waitForFunction(
      () => {
        const el = document.querySelector(".console-output")!;
        return el.scrollHeight > el.clientHeight + 40 && el.scrollTop > 0;
      },
      undefined,
      { timeout: WAIT },
    );
    // ... the reader scrolls up, and only then does the input request answer.
    await out.evaluate((el) => el.scrollTop = 0);
    await page.waitForFunction(() => document.querySelector(".console-output")!.scrollTop === 0);
    release();
    await waitUntil("the input request's answer", () => answered, WAIT);
    // More output arrives after the answer: the reader is not pulled down.
    const blocksText = () => out.evaluate((el) => el.textContent!.length);
    const before = await blocksText();
    await page.waitForFunction(
      (n) => document.querySelector(".console-output")!.textContent!.length > n + 20,
      before,
      { timeout: WAIT },
    );
    assert.equal(await out.evaluate((el) => el.scrollTop), 0, "not pulled to the bottom");
  },
);
