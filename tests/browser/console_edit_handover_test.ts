/**
 * A console open while its runtime's connection is edited away (to another runtime, saved
 * anyway) and back: the stream hands over without showing anything twice.
 * @module
 */
import assert from "node:assert/strict";
import { SaveConnectionResponseSchema } from "../../shared/mod.ts";
import { BackendProcess } from "../support/backend_process.ts";
import { browserTest, launchBrowser } from "../support/browser.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { waitUntil } from "../support/wait.ts";

const BASE = "/api/settings/runtime-connections";

browserTest(
  "console: an endpoint edited away and back resumes the stream with nothing shown twice",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "bb" });
    await using other = await RuntimeProcess.start({ id: "elsewhere" });
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "bb"\nendpoint = "${rt.url}"\n`,
      extraArgs: ["--reconnect-backoff-ms", "100", "--health-interval-ms", "500"],
    });
    const w = (await be.client.createWorker("bb", { display_name: "handover" })).worker;
    await be.client.input("bb", w.worker_id, "first turn");
    await waitUntil(
      "idle",
      async () => (await be.client.getWorker("bb", w.worker_id)).worker.turn_count === 1,
    );
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(`${be.url}/runtimes/bb/workers/${w.worker_id}`);
    const log = page.getByRole("log");
    await log.getByText("first turn").first().waitFor();
    const inputs = () => log.locator(".console-block.input").count();
    assert.equal(await inputs(), 1);

    // Away to another runtime (saved anyway, as the page allows), then back.
    await be.client.send(
      "PATCH",
      `${BASE}/bb`,
      { endpoint: other.url },
      SaveConnectionResponseSchema,
    );
    await page.getByText(/Reconnecting|reconnecting/).first().waitFor({ timeout: 15_000 });
    await be.client.send("PATCH", `${BASE}/bb`, { endpoint: rt.url }, SaveConnectionResponseSchema);
    await page.getByText(/Resumed|resumed/).first().waitFor({ timeout: 15_000 });
    await be.client.input("bb", w.worker_id, "second turn");
    await log.getByText("second turn").first().waitFor();
    await waitUntil(
      "idle",
      async () => (await be.client.getWorker("bb", w.worker_id)).worker.turn_count === 2,
    );
    await page.waitForTimeout(500);
    assert.equal(await inputs(), 2, await log.innerText());
    assert.equal(await log.getByText("first turn", { exact: true }).count(), 1);
  },
);
