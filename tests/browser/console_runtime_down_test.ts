/**
 * The console when its remote runtime goes away and comes back (issue 14), in a real browser at
 * 1280×800 against real processes: the input stays on screen through 500+ events; a killed
 * runtime turns the input off with a banner and a countdown within 2 s; a restart on the same
 * port turns it back on with nothing missing or doubled; a console page opened while the
 * runtime is down renders from the last-known list with the reason and reloads itself once
 * the runtime answers; the same URL asked for as JSON gets the error shape; axe is clean in
 * light and dark.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser, seriousA11yViolations } from "../support/browser.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { waitUntil } from "../support/wait.ts";

const RID = "build-box";
const CONFIG = `[profiles.many]\nengine="echo"\nchunk_chars=1\n`;
const WAIT = 20_000;

/** Whether the console input's bounding box lies wholly inside the viewport. */
async function inputInView(page: Page): Promise<boolean> {
  const box = await page.locator("#console-input").boundingBox();
  const vp = page.viewportSize()!;
  return !!box && box.y >= 0 && box.x >= 0 && box.y + box.height <= vp.height &&
    box.x + box.width <= vp.width;
}

async function buttonsInView(page: Page): Promise<boolean> {
  const vp = page.viewportSize()!;
  for (const b of await page.locator(".console-input .actions > button").all()) {
    const box = await b.boundingBox();
    if (!box || box.y < 0 || box.y + box.height > vp.height) return false;
  }
  return true;
}

browserTest(
  "console: input on screen through 500 events; runtime killed → input off with banner in 2 s; restarted → back on, nothing missed or doubled; a down runtime's console page renders and recovers",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "yoi-console-down-" });
    const rtOpts = { id: RID, store: "fs" as const, dataDir, config: CONFIG };
    let rt = await RuntimeProcess.start(rtOpts);
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "${RID}"\nendpoint = "${rt.url}"\n`,
      extraArgs: ["--reconnect-backoff-ms", "100,200,400", "--health-interval-ms", "300"],
    });
    await using browser = await launchBrowser();
    try {
      await waitUntil(
        "runtime ready",
        async () =>
          (await be.client.listRuntimes()).runtimes.find((r) => r.runtime_id === RID)
            ?.state === "ready",
      );
      const { worker } = await be.client.createWorker(RID, {
        profile: "many",
        display_name: "Chatty",
      });
      const wid = worker.worker_id;
      const url = `${be.url}/runtimes/${RID}/workers/${wid}`;

      for (const scheme of ["light", "dark"] as const) {
        const page = await browser.newPage({ colorScheme: scheme });
        await page.setViewportSize({ width: 1280, height: 800 });
        await page.goto(url);
        await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
        assert.ok(await inputInView(page), `input in view on load (${scheme})`);
        assert.ok(await buttonsInView(page), `buttons in view on load (${scheme})`);
        const v = await seriousA11yViolations(page);
        assert.deepEqual(v, [], `console (${scheme}): ${JSON.stringify(v)}`);
        if (scheme === "dark") await page.close();
      }
      const page = browser.context.pages().at(-1)!;
      const log = page.getByRole("log", { name: "Transcript" });

      // 600 one-character chunks: 600+ events; the input stays on screen.
      const long = Array.from({ length: 70 }, (_, i) => `line ${String(i).padStart(3, "0")}\n`)
        .join("").slice(0, 600);
      await page.locator("#console-input").fill(long);
      await page.getByRole("button", { name: "Send" }).click();
      await log.getByText("Turn 1 completed.").waitFor({ timeout: WAIT });
      const seq1 = (await be.client.transcript(RID, wid, 0, 1000)).entries.length;
      assert.ok(seq1 >= 500, `${seq1} events`);
      assert.ok(await inputInView(page), "input in view after 500 events");
      assert.ok(await buttonsInView(page), "buttons in view after 500 events");
      // Auto-scroll followed the output: the transcript is scrolled to its end.
      assert.ok(
        await page.locator(".console-output").evaluate((el) =>
          el.scrollHeight - el.scrollTop - el.clientHeight < 8
        ),
      );
      // The Backend saw the list while the runtime was ready (its last-known list).
      await be.client.listWorkers(RID);

      // Kill the runtime: within 2 s the input is off and the banner names the runtime.
      await rt.kill("SIGKILL");
      const killedAt = Date.now();
      const banner = page.locator(".console-down");
      await banner.waitFor({ timeout: 2_000 });
      await page.locator("#console-input:disabled").waitFor({
        timeout: 2_000 - (Date.now() - killedAt),
      });
      assert.ok(Date.now() - killedAt <= 2_000, `${Date.now() - killedAt} ms`);
      assert.match(
        (await banner.textContent())!,
        /Runtime build-box is unreachable — (retrying in \d+ s|retrying…)/,
      );
      await page.getByRole("button", { name: "Retry now" }).waitFor();
      assert.equal(await page.getByRole("button", { name: "Send" }).isDisabled(), true);
      const va = await seriousA11yViolations(page);
      assert.deepEqual(va, [], `console with banner: ${JSON.stringify(va)}`);

      // Once the Backend marks the runtime unreachable, a console page opened now still renders.
      await waitUntil(
        "runtime unreachable",
        async () =>
          (await be.client.listRuntimes()).runtimes.find((r) => r.runtime_id === RID)
            ?.state === "unreachable",
      );
      const json = await fetch(url, { headers: { accept: "application/json" } });
      assert.ok(json.status >= 500, `${json.status}`);
      assert.match((await json.json()).error.code, /^remote_runtime_/);
      const fresh = await browser.newPage();
      await fresh.setViewportSize({ width: 1280, height: 800 });
      const res = await fresh.goto(url);
      assert.equal(res?.status(), 502);
      await fresh.getByRole("heading", { level: 1, name: "Chatty" }).waitFor();
      await fresh.locator(".console-down", { hasText: "Runtime build-box is unreachable" })
        .waitFor();
      assert.ok(await fresh.locator("#console-input").isDisabled());
      assert.ok(await inputInView(fresh));
      const vd = await seriousA11yViolations(fresh);
      assert.deepEqual(vd, [], `down console page: ${JSON.stringify(vd)}`);
      // A worker id the Backend never listed: shown as unknown, same banner.
      const unknown = await browser.newPage();
      await unknown.goto(`${be.url}/runtimes/${RID}/workers/0190a000-0000-7000-8000-000000000000`);
      await unknown.getByRole("heading", { level: 1, name: "Unknown worker" }).waitFor();
      await unknown.locator(".console-down", { hasText: "not in the last list" }).waitFor();
      await unknown.close();

      // Restart on the same port (the fs store keeps the worker): both consoles come back.
      rt = await RuntimeProcess.restartOnPort({ ...rtOpts, port: rt.port });
      await page.locator("#console-input:enabled").waitFor({ timeout: WAIT });
      assert.equal(await banner.count(), 0);
      await fresh.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
      await fresh.getByRole("log").getByText("Turn 1 completed.").waitFor({ timeout: WAIT });
      assert.ok(await fresh.locator("#console-input").isEnabled());

      // A second turn after the outage: every event shown once, in both consoles.
      await page.locator("#console-input").fill("after the outage");
      await page.getByRole("button", { name: "Send" }).click();
      await log.getByText("Turn 2 completed.").waitFor({ timeout: WAIT });
      await fresh.getByRole("log").getByText("Turn 2 completed.").waitFor({ timeout: WAIT });
      for (const p of [page, fresh]) {
        const outs = await p.locator(".console-block.output").allTextContents();
        // (Markdown rendering drops a trailing newline; nothing else may differ.)
        assert.deepEqual(outs.map((o) => o.trimEnd()), [long.trimEnd(), "after the outage"]);
        assert.equal(await p.locator(".console-block.input").count(), 2);
        assert.equal(await p.getByText("Turn 1 completed.").count(), 1);
      }
    } finally {
      await rt.kill("SIGKILL").catch(() => {});
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);
