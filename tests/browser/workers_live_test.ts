/**
 * The live Workers list and keyboard-only use, in a real browser against a real Backend
 * process and a real remote runtime (issue 14): a worker created by API from outside the
 * page appears within 5 s and its status changes show without a reload; the filter narrows
 * the rows; rename and delete (with confirmation) work through the UI. Keyboard only (Tab,
 * Shift-Tab, Enter, Space, Escape and typing): add, test and delete a connection, then send
 * input in a console.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { browserTest, launchBrowser } from "../support/browser.ts";
import { waitUntil } from "../support/wait.ts";

const LIVE_MS = 5_000;

function rows(page: Page) {
  return page.getByRole("main").locator("tbody tr");
}

function rowOf(page: Page, name: string) {
  return page.getByRole("main").getByRole("row", { name: new RegExp(name) });
}

browserTest(
  "workers list: API-created worker appears within 5 s, status live, filter, rename, delete",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "lv" });
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "lv"\nendpoint = "${rt.url}"\n`,
    });
    await be.client.createWorker("embedded", { display_name: "Alpha local" });
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${be.url}/workers`);
    await page.locator(".live-state.live").waitFor();
    await page.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));
    assert.equal(await rows(page).count(), 1);

    // Created from outside the page: listed within 5 s, in the sidebar too.
    const { worker } = await be.client.createWorker("lv", { display_name: "Beta remote" });
    await rowOf(page, "Beta remote").waitFor({ timeout: LIVE_MS });
    await page.locator(".live-sidebar", { hasText: "Beta remote" }).waitFor({ timeout: LIVE_MS });
    assert.equal(await rows(page).count(), 2);

    // Filter: text, runtime and status each narrow the rows.
    const main = page.getByRole("main");
    await main.getByLabel("Search").fill("alpha");
    assert.equal(await rows(page).count(), 1);
    assert.match(await rows(page).first().innerText(), /Alpha local/);
    await main.getByLabel("Search").fill("");
    await main.getByLabel("Runtime").selectOption("lv");
    assert.equal(await rows(page).count(), 1);
    assert.match(await rows(page).first().innerText(), /Beta remote/);
    await main.getByLabel("Runtime").selectOption("");
    assert.equal(await rows(page).count(), 2);

    // Rename through the UI (the Backend has the new name).
    await rowOf(page, "Beta remote").getByRole("button", { name: "Rename Beta remote" }).click();
    const name = main.getByLabel("New name");
    await name.fill("Gamma renamed");
    await name.press("Enter");
    await rowOf(page, "Gamma renamed").waitFor();
    assert.equal(
      (await be.client.getWorker("lv", worker.worker_id)).worker.display_name,
      "Gamma renamed",
    );

    // A running worker has no Delete; stopped from outside, the status changes live and
    // Delete appears; Escape keeps it; Confirm deletes it.
    const row = rowOf(page, "Gamma renamed");
    assert.equal(await row.getByRole("button", { name: /Delete/ }).count(), 0);
    await be.client.stop("lv", worker.worker_id);
    await row.locator(".badge", { hasText: "stopped" }).waitFor({ timeout: LIVE_MS });
    await row.getByRole("button", { name: "Delete Gamma renamed" }).click();
    const confirm = row.getByRole("group", { name: "Delete Gamma renamed?" });
    await confirm.waitFor();
    await page.keyboard.press("Escape");
    await confirm.waitFor({ state: "detached" });
    await row.getByRole("button", { name: "Delete Gamma renamed" }).click();
    await confirm.getByRole("button", { name: "Confirm" }).click();
    await rowOf(page, "Gamma renamed").waitFor({ state: "detached", timeout: LIVE_MS });
    await main.getByLabel("Status").selectOption("");
    const { workers } = await be.client.listAllWorkers();
    assert.deepEqual(workers.map((w) => w.display_name), ["Alpha local"]);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark),
      1,
      "never reloaded",
    );
  },
);

/** What has focus: its id, else its text. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.id || (el?.textContent ?? "").trim();
  });
}

/** Presses Tab (or Shift+Tab) until `want` has focus. */
async function tabTo(page: Page, want: string | RegExp, back = false) {
  for (let i = 0; i < 150; i++) {
    const f = await focused(page);
    if (typeof want === "string" ? f === want : want.test(f)) return;
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
  }
  throw new Error(`never reached ${want} with ${back ? "Shift+Tab" : "Tab"}`);
}

browserTest(
  "keyboard only: add, test and delete a connection; send input in a console",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "kb-box" });
    await using be = await BackendProcess.start();
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${be.url}/settings/runtime-connections`);
    await page.waitForFunction(() =>
      !document.querySelector<HTMLButtonElement>("#add-id")?.form?.querySelector("button")
        ?.disabled
    );

    // Add (Save & test) with Tab and typing only.
    await tabTo(page, "add-id");
    await page.keyboard.type("kb-box");
    await page.keyboard.press("Tab");
    await page.keyboard.type("Keyboard box");
    await page.keyboard.press("Tab");
    await page.keyboard.type(rt.url);
    await page.keyboard.press("Enter");
    await page.locator("#saved-notice", { hasText: "kb-box was added" }).waitFor();
    const card = page.getByRole("region", { name: "Keyboard box", exact: true });
    await card.locator('.row-head [data-state="ready"]').waitFor({ timeout: 15_000 });

    // Test it: back up with Shift+Tab to its Test button, press Space.
    await tabTo(page, "Test Keyboard box", true);
    const tested = page.waitForResponse((r) =>
      r.request().method() === "POST" &&
      r.url().endsWith("/api/settings/runtime-connections/kb-box/test")
    );
    await page.keyboard.press("Space");
    assert.equal((await tested).status(), 200, "Space ran the test");
    await card.locator(".probe-result").waitFor({ timeout: 15_000 });

    // Delete it: Tab to Delete, Enter; Escape cancels; again, then Confirm.
    await tabTo(page, "Delete Keyboard box");
    await page.keyboard.press("Enter");
    const question = card.getByRole("group", { name: "Delete Keyboard box?" });
    await question.waitFor();
    await page.keyboard.press("Escape");
    await question.waitFor({ state: "detached" });
    assert.equal(await focused(page), "Delete Keyboard box", "focus back on Delete");
    await page.keyboard.press("Enter");
    await question.waitFor();
    await tabTo(page, "Confirm", true);
    await page.keyboard.press("Enter");
    await page.locator("#saved-notice", { hasText: "kb-box was deleted" }).waitFor();
    assert.equal(await card.count(), 0);

    // A console: Tab to the input, type, Tab to Send, Enter.
    const { worker } = await be.client.createWorker("embedded", { display_name: "Keys" });
    await page.goto(`${be.url}/runtimes/embedded/workers/${worker.worker_id}`);
    await page.getByRole("button", { name: "Send" }).waitFor();
    await page.waitForFunction(() => !document.querySelector("#console-input[disabled]"));
    await tabTo(page, "console-input");
    await page.keyboard.type("typed with keys");
    await tabTo(page, "Send");
    await page.keyboard.press("Enter");
    await waitUntil(
      "the input reached the worker",
      async () => {
        const t = await be.client.transcript("embedded", worker.worker_id, 0, 500);
        return t.entries.some((e) => e.type === "input.accepted") || undefined;
      },
      10_000,
      100,
    );
  },
);

browserTest(
  "workers list: after a Backend restart the live socket reconnects and shows a fresh snapshot",
  async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "yoi-live-be-" });
    let be = await BackendProcess.start({ stateDir, embeddedStore: "fs" });
    const port = be.port;
    try {
      const { worker: gone } = await be.client.createWorker("embedded", { display_name: "Gone" });
      await using browser = await launchBrowser();
      const page = await browser.newPage();
      await page.goto(`${be.url}/workers`);
      await page.locator(".live-state.live").waitFor();
      await rowOf(page, "Gone").waitFor();
      await page.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));

      await be.kill("SIGTERM");
      await page.locator(".live-state.down").waitFor({ timeout: LIVE_MS });
      // While the page is disconnected: one worker goes, another comes (same state dir).
      for (let i = 0;; i++) {
        try {
          be = await BackendProcess.start({ stateDir, embeddedStore: "fs", port });
          break;
        } catch (e) {
          if (i >= 20) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      await be.client.stop("embedded", gone.worker_id);
      await be.client.deleteWorker("embedded", gone.worker_id);
      await be.client.createWorker("embedded", { display_name: "Arrived" });

      await rowOf(page, "Arrived").waitFor({ timeout: 15_000 });
      await rowOf(page, "Gone").waitFor({ state: "detached", timeout: LIVE_MS });
      await page.locator(".live-state.live").waitFor();
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark),
        1,
        "never reloaded",
      );
    } finally {
      await be.kill("SIGKILL").catch(() => {});
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
);
