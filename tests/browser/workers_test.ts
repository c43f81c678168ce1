/**
 * The Workers screens in a real browser against a real Backend process (with
 * a slow echo profile on its embedded runtime) and a real remote runtime
 * process: create a worker through the New worker form, watch output stream
 * into the console, cancel and stop turns, survive a runtime restart and a
 * Backend restart without showing anything twice, and degrade to diagnostics
 * when the remote runtime is down. axe and screenshots on every screen.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import type { WorkspaceClient } from "../../shared/client.ts";
import type { WorkerEvent } from "../../shared/runtime_dto.ts";
import { applyEvents, emptyView } from "../../web/workspace/components/console_view.ts";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import {
  browserTest,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from "../support/browser.ts";

const SLOW = `[profiles.slow]\nengine="echo"\nchunk_chars=2\ndelay_ms=40\n`;
const REMOTE_CONFIG = `${SLOW}\n[profiles.remote_only]\nengine="echo"\n`;
const WAIT = 30_000;
const UNKNOWN_WORKER = "0190a000-0000-7000-8000-000000000000";

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function remoteEntry(rt: RuntimeProcess): string {
  return `[[runtimes.remote]]\nid = "${rt.id}"\nendpoint = "${rt.url}"\ndisplay_name = "Beta"\n`;
}

/** A backend with the slow embedded profile and the remote runtime `beta`. */
function startBackend(
  rt: RuntimeProcess,
  extra: Partial<Parameters<typeof BackendProcess.start>[0]> = {},
) {
  return BackendProcess.start({
    config: remoteEntry(rt),
    embeddedConfig: SLOW,
    extraArgs: ["--reconnect-backoff-ms", "50,100,200", "--remote-timeout-ms", "2000"],
    ...extra,
  });
}

async function expectNoSeriousA11y(page: Page, what: string) {
  const v = await seriousA11yViolations(page);
  assert.deepEqual(v, [], `${what}: serious/critical axe violations: ${JSON.stringify(v)}`);
}

/** Every page of a worker's transcript, through the Backend. */
async function fullTranscript(c: WorkspaceClient, rid: string, wid: string) {
  const out: WorkerEvent[] = [];
  for (let after = 0;;) {
    const page = await c.transcript(rid, wid, after, 500);
    if (page.entries.length === 0) return out;
    out.push(...page.entries);
    after = page.entries[page.entries.length - 1].seq;
  }
}

async function waitIdle(c: WorkspaceClient, rid: string, wid: string) {
  const end = Date.now() + WAIT;
  for (;;) {
    try {
      if ((await c.getWorker(rid, wid)).worker.status === "idle") return;
    } catch { /* e.g. the runtime is restarting */ }
    if (Date.now() > end) throw new Error(`worker ${wid} never became idle`);
    await sleep(50);
  }
}

/** The console's status badge text. */
function statusBadge(page: Page) {
  return page.locator(".console-status .badge");
}

async function waitForStatus(page: Page, status: string) {
  await page.locator(".console-status .badge", { hasText: status }).waitFor({ timeout: WAIT });
}

/** Waits for the console's connection line to be in `state` (its `data-conn`). */
async function waitForConn(page: Page, state: string) {
  await page.locator(`.console-conn[data-conn="${state}"]`).waitFor({ timeout: WAIT });
}

/**
 * Asserts the console shows exactly the folded transcript: the same blocks
 * in the same order, output text equal per turn (so nothing was duplicated
 * or lost across reconnects).
 */
async function assertConsoleMatchesTranscript(
  page: Page,
  c: WorkspaceClient,
  rid: string,
  wid: string,
) {
  const events = await fullTranscript(c, rid, wid);
  const expected = applyEvents(emptyView("idle"), events);
  const want = expected.blocks.map((b) =>
    b.kind === "output"
      ? `output:${b.parts.map((p) => p.text).join("")}`
      : b.kind === "input"
      ? `input:${b.text}`
      : b.kind === "tool"
      ? `tool:${b.name}`
      : `note:${b.text}`
  );
  // Events can still be in flight right after the last one was persisted.
  const end = Date.now() + 5_000;
  let got: string[] = [];
  for (;;) {
    got = await page.locator(".console-output .console-block").evaluateAll((els) =>
      els.map((el) => {
        if (el.classList.contains("output")) return `output:${el.textContent}`;
        if (el.classList.contains("input")) {
          const clone = el.cloneNode(true) as HTMLElement;
          clone.querySelectorAll("[aria-hidden], .visually-hidden").forEach((n) => n.remove());
          return `input:${clone.textContent}`;
        }
        return `note:${el.textContent}`;
      })
    );
    if (JSON.stringify(got) === JSON.stringify(want) || Date.now() > end) break;
    await sleep(100);
  }
  assert.deepEqual(got, want, "the console shows the transcript exactly once");
}

/** Records every distinct text of the newest output block, as it changes. */
async function recordOutputSnapshots(page: Page) {
  await page.evaluate(() => {
    const log = document.querySelector("[role=log]")!;
    const snaps: string[] = [];
    (globalThis as unknown as { __snaps: string[] }).__snaps = snaps;
    new MutationObserver(() => {
      const outs = log.querySelectorAll(".console-block.output");
      const text = outs[outs.length - 1]?.textContent ?? "";
      if (snaps[snaps.length - 1] !== text) snaps.push(text);
    }).observe(log, { subtree: true, childList: true, characterData: true });
  });
}

function outputSnapshots(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { __snaps: string[] }).__snaps);
}

browserTest(
  "workers: create on the embedded runtime via the form, stream output, cancel, stop",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "beta", config: REMOTE_CONFIG });
    await using be = await startBackend(rt);
    await using browser = await launchBrowser();
    const page = await browser.newPage({ colorScheme: "light" });

    // Empty state on /workers, with a way to create one.
    await page.goto(`${be.url}/workers`);
    assert.equal(await page.title(), "Workers · yoi workspace");
    await page.getByRole("main").getByRole("heading", { name: "No workers yet" }).waitFor();
    await expectNoSeriousA11y(page, "/workers (empty)");
    await screenshot(page, "workers-empty-light");
    await page.getByRole("link", { name: "New worker" }).click();
    await page.waitForURL(`${be.url}/workers/new`);
    assert.equal(await page.title(), "New worker · yoi workspace");

    // Profiles follow the chosen runtime.
    const profile = page.getByLabel("Profile");
    // (goto and waitForURL wait for "load": module scripts, and so hydration, ran before it.)
    await page.getByLabel(/^Beta/).check();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#profile option")].some((o) => o.textContent === "remote_only")
    );
    const remoteOptions = await profile.locator("option").allTextContents();
    assert.equal(remoteOptions[0], "Runtime default");
    assert.deepEqual(remoteOptions.slice(1).sort(), ["echo", "remote_only", "slow"]);
    await page.getByLabel(/^Embedded runtime/).check();
    const localOptions = await profile.locator("option").allTextContents();
    assert.equal(localOptions[0], "Runtime default");
    assert.deepEqual(localOptions.slice(1).sort(), ["echo", "slow"]);
    await expectNoSeriousA11y(page, "/workers/new");
    await screenshot(page, "workers-new-light");

    // Create: choose the runtime and profile, name it, submit with the keyboard.
    await profile.selectOption("slow");
    await page.getByLabel("Display name").fill("Echo console test");
    await page.getByLabel("Display name").press("Enter");
    await page.waitForURL(/\/runtimes\/embedded\/workers\/[0-9a-f-]{36}$/, { timeout: WAIT });
    const wid = page.url().split("/").at(-1)!;
    assert.equal(await page.title(), "Echo console test · Worker · yoi workspace");
    await page.getByRole("heading", { level: 1, name: "Echo console test" }).waitFor();
    await waitForConn(page, "live");
    assert.equal(await statusBadge(page).textContent(), "idle");
    const log = page.getByRole("log", { name: "Transcript" });
    assert.equal(await log.getAttribute("aria-live"), "polite");
    await log.getByText("Worker created with profile slow.").waitFor();

    // Send input: the output streams in, visibly, before the turn completes.
    const input = page.getByLabel("Input", { exact: true });
    const send = page.getByRole("button", { name: "Send" });
    const cancel = page.getByRole("button", { name: "Cancel turn" });
    assert.equal(await send.isDisabled(), true, "Send waits for some input");
    assert.equal(await cancel.count(), 0, "nothing to cancel while idle");
    await recordOutputSnapshots(page);
    const phrase = "The quick brown fox jumps over the lazy dog";
    await input.fill(phrase);
    await input.press("Enter");
    await waitForStatus(page, "busy");
    // The badge and the button follow the same stream; wait for the button's render too.
    await cancel.waitFor({ timeout: WAIT });
    assert.equal(await send.count(), 0, "Send turns into Cancel while busy");
    assert.equal(await cancel.isEnabled(), true, "Cancel is enabled while busy");
    await log.getByText("Turn 1 completed.").waitFor({ timeout: WAIT });
    await waitForStatus(page, "idle");
    assert.equal(await input.inputValue(), "", "the input box is cleared after sending");
    const snaps = await outputSnapshots(page);
    assert.equal(snaps.at(-1), phrase, "the whole answer is shown");
    const partial = snaps.filter((s) => s.length > 0 && s.length < phrase.length);
    assert.ok(
      partial.length >= 2 && partial.every((s) => phrase.startsWith(s)),
      `output arrived progressively: ${JSON.stringify(snaps)}`,
    );
    await expectNoSeriousA11y(page, "console");
    await screenshot(page, "worker-console-light");

    // Shift+Enter is a new line, not a submit.
    await input.fill("line one");
    await input.press("Shift+Enter");
    await input.pressSequentially("line two");
    assert.equal(await input.inputValue(), "line one\nline two");
    assert.equal(await statusBadge(page).textContent(), "idle");

    // A long input on the slow profile, cancelled mid-turn.
    await input.fill("z".repeat(400)); // 200 chunks × 40 ms ≈ 8 s
    await send.click();
    await waitForStatus(page, "busy");
    await page.waitForFunction(() => {
      const outs = document.querySelectorAll(".console-block.output");
      return (outs[outs.length - 1]?.textContent ?? "").startsWith("zz");
    });
    await cancel.click();
    await log.getByText("Turn 2 cancelled.").waitFor({ timeout: WAIT });
    await waitForStatus(page, "idle");
    assert.equal(await input.isEnabled(), true, "the input box is enabled again");
    await input.fill("after cancel");
    assert.equal(await send.isEnabled(), true, "Send is enabled again");
    await input.fill("");
    const last = (await log.locator(".console-block.output").last().textContent())!;
    assert.ok(last.length > 0 && last.length < 400, "the cancelled turn stopped part-way");

    // Stop, with an inline confirmation (Escape backs out, keeping the worker).
    await page.getByRole("button", { name: "Stop worker…" }).click();
    const keep = page.getByRole("button", { name: "Keep it running" });
    await keep.waitFor();
    assert.equal(await keep.evaluate((el) => el === document.activeElement), true);
    await page.keyboard.press("Escape");
    await keep.waitFor({ state: "detached" });
    assert.equal(await statusBadge(page).textContent(), "idle");
    await page.getByRole("button", { name: "Stop worker…" }).click();
    await page.getByRole("button", { name: "Stop worker", exact: true }).click();
    await waitForStatus(page, "stopped");
    await log.getByText("Worker stopped.").waitFor();
    assert.equal(await input.isDisabled(), true, "a stopped worker takes no input");
    assert.equal(await send.isDisabled(), true);
    assert.equal(await cancel.count(), 0, "no Cancel on a stopped worker");
    await page.getByRole("button", { name: "Restore worker" }).waitFor();
    assert.equal((await be.client.getWorker("embedded", wid)).worker.status, "stopped");
    await assertConsoleMatchesTranscript(page, be.client, "embedded", wid);

    // The Workers list links to the console and shows the status.
    await page.goto(`${be.url}/workers`);
    const row = page.getByRole("row", { name: /Echo console test/ });
    assert.match((await row.textContent())!, /embedded.*slow.*stopped/);
    await row.getByRole("link", { name: "Echo console test" }).click();
    await page.waitForURL(`${be.url}/runtimes/embedded/workers/${wid}`);
    await waitForStatus(page, "stopped");
  },
);

browserTest(
  "workers: a stopped remote runtime becomes a diagnostic and a disabled choice",
  async () => {
    const rt = await RuntimeProcess.start({ id: "beta", config: REMOTE_CONFIG });
    try {
      await using be = await startBackend(rt);
      await be.client.createWorker("embedded", { profile: "slow", display_name: "Local one" });
      await be.client.createWorker("beta", { display_name: "Remote one" });
      await using browser = await launchBrowser();

      // Both runtimes up: both workers listed.
      const page = await browser.newPage({ colorScheme: "light" });
      await page.goto(`${be.url}/workers`);
      await page.getByRole("main").getByRole("link", { name: "Remote one" }).waitFor();
      await page.getByRole("main").getByRole("link", { name: "Local one" }).waitFor();
      await expectNoSeriousA11y(page, "/workers");
      await screenshot(page, "workers-light");
      const dark = await browser.newPage({ colorScheme: "dark" });
      await dark.goto(`${be.url}/workers`);
      await expectNoSeriousA11y(dark, "/workers (dark)");
      await screenshot(dark, "workers-dark");

      // An error from the API is shown as a sentence: the console's event stream is held back
      // (so it still shows "idle") while the worker is made busy behind its back.
      const { workers } = await be.client.listAllWorkers();
      const local = workers.find((w) => w.display_name === "Local one")!;
      const held = await browser.newPage({ colorScheme: "light" });
      await held.routeWebSocket(/\/events/, () => {/* never connects to the Backend */});
      await held.goto(`${be.url}/runtimes/embedded/workers/${local.worker_id}`);
      await be.client.input("embedded", local.worker_id, "w".repeat(400));
      assert.equal(await statusBadge(held).textContent(), "idle");
      await held.getByLabel("Input", { exact: true }).fill("are you there?");
      await held.getByRole("button", { name: "Send" }).click();
      const notice = (await held.getByRole("alert").textContent())!;
      assert.match(notice, /busy/);
      assert.match(notice, /worker_busy/);
      assert.equal(
        await held.getByLabel("Input", { exact: true }).inputValue(),
        "are you there?",
        "the refused text is kept",
      );
      await expectNoSeriousA11y(held, "console with an error");
      await screenshot(held, "worker-console-error-light");
      await be.client.cancel("embedded", local.worker_id);

      // The form was loaded while beta was up; beta dies before the submit: a typed error inline.
      const form = await browser.newPage({ colorScheme: "light" });
      await form.goto(`${be.url}/workers/new`);
      await form.getByLabel(/^Beta/).check();
      await form.getByLabel("Profile").selectOption("remote_only");

      await rt.kill("SIGKILL");

      await form.getByRole("button", { name: "Create worker" }).click();
      const refused = (await form.getByRole("alert").textContent())!;
      assert.match(refused, /^The worker was not created/);
      assert.match(refused, /Runtime "?beta"?/);
      assert.match(refused, /remote_runtime_unavailable/);
      assert.equal(form.url(), `${be.url}/workers/new`, "still on the form");
      assert.equal(await form.getByRole("button", { name: "Create worker" }).isEnabled(), true);
      await screenshot(form, "workers-new-error-light");

      const res = await page.goto(`${be.url}/workers`);
      assert.equal(res?.status(), 200, "the list still renders");
      const diags = page.getByRole("list", { name: "Runtime diagnostics" });
      const text = (await diags.textContent())!;
      assert.match(text, /Runtime "?beta"?/, `the diagnostic names the runtime: ${text}`);
      assert.match(text, /remote_runtime_unavailable/);
      await page.getByRole("main").getByRole("link", { name: "Local one" }).waitFor();
      // beta was verified before it died: its worker stays listed as last seen (stale).
      const remoteRow = page.getByRole("row", { name: /Remote one/ });
      assert.equal(await remoteRow.locator(".badge", { hasText: "last seen" }).count(), 1);
      assert.equal(
        await page.getByRole("row", { name: /Local one/ }).locator(".badge", {
          hasText: "last seen",
        }).count(),
        0,
      );
      await expectNoSeriousA11y(page, "/workers (runtime down)");
      await screenshot(page, "workers-runtime-down-light");

      await page.goto(`${be.url}/workers/new`);
      const beta = page.getByLabel(/^Beta/);
      assert.equal(await beta.isDisabled(), true, "a runtime that is down cannot be chosen");
      const reason = await page.locator("#rt-beta-reason").textContent();
      assert.match(reason!, /^Cannot create workers\. Runtime "?beta"?/);
      const described = await beta.getAttribute("aria-describedby");
      assert.equal(described, "rt-beta-reason", "the reason is the radio's description");
      assert.equal(await page.getByLabel(/^Embedded runtime/).isChecked(), true);
      await expectNoSeriousA11y(page, "/workers/new (runtime down)");
      await screenshot(page, "workers-new-runtime-down-light");
      await dark.goto(`${be.url}/workers/new`);
      await expectNoSeriousA11y(dark, "/workers/new (dark)");
      await screenshot(dark, "workers-new-dark");

      // An unknown worker: the typed error as a sentence, with its status.
      const missing = await page.goto(`${be.url}/runtimes/embedded/workers/${UNKNOWN_WORKER}`);
      assert.equal(missing?.status(), 404);
      assert.equal(await page.title(), "Worker not found · yoi workspace");
      const alert = (await page.getByRole("alert").textContent())!;
      assert.match(alert, /does not exist/);
      assert.match(alert, /worker_not_found/);
      await expectNoSeriousA11y(page, "unknown worker");
    } finally {
      await rt.kill("SIGKILL");
    }
  },
);

browserTest(
  "workers: the console shows the remote stream reconnecting and resumed, nothing twice",
  async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "yoi-web-rt-" });
    let rt = await RuntimeProcess.start({
      id: "beta",
      store: "fs",
      dataDir,
      config: REMOTE_CONFIG,
    });
    const port = rt.port;
    try {
      await using be = await startBackend(rt);
      const { worker } = await be.client.createWorker("beta", {
        profile: "slow",
        display_name: "Remote console",
      });
      const wid = worker.worker_id;
      await using browser = await launchBrowser();
      const page = await browser.newPage({ colorScheme: "dark" });
      await page.goto(`${be.url}/runtimes/beta/workers/${wid}`);
      await waitForConn(page, "live");
      const input = page.getByLabel("Input", { exact: true });
      const log = page.getByRole("log", { name: "Transcript" });

      await input.fill("y".repeat(160)); // 80 chunks × 40 ms ≈ 3.2 s
      await input.press("Enter");
      await page.waitForFunction(() => {
        const outs = document.querySelectorAll(".console-block.output");
        return (outs[outs.length - 1]?.textContent ?? "").length >= 20;
      });
      await rt.kill("SIGKILL");
      await waitForConn(page, "upstream-reconnecting");
      assert.match((await page.locator(".console-conn").textContent())!, /^Reconnecting…/);
      await screenshot(page, "worker-console-reconnecting-dark");
      rt = await RuntimeProcess.restartOnPort({
        id: "beta",
        store: "fs",
        dataDir,
        config: REMOTE_CONFIG,
        port,
      });
      await waitForConn(page, "resumed");
      assert.match((await page.locator(".console-conn").textContent())!, /^Resumed/);

      // The interrupted turn was marked failed by the restart; the worker takes input again.
      await log.getByText(/Turn 1 failed: the runtime restarted/).waitFor({ timeout: WAIT });
      await waitForStatus(page, "idle");
      await input.fill("second turn");
      await input.press("Enter");
      await log.getByText("Turn 2 completed.").waitFor({ timeout: WAIT });
      await waitIdle(be.client, "beta", wid);
      await assertConsoleMatchesTranscript(page, be.client, "beta", wid);
      await expectNoSeriousA11y(page, "console (dark)");
      await screenshot(page, "worker-console-dark");
    } finally {
      await rt.kill("SIGKILL");
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
);

browserTest(
  "workers: the console reconnects by itself when the Backend restarts, from its last seq",
  async () => {
    const stateDir = await Deno.makeTempDir({ prefix: "yoi-web-be-" });
    const rt = await RuntimeProcess.start({ id: "beta", config: REMOTE_CONFIG });
    let be = await startBackend(rt, { stateDir, embeddedStore: "fs" });
    const port = be.port;
    try {
      const { worker } = await be.client.createWorker("embedded", { profile: "slow" });
      const wid = worker.worker_id;
      await be.client.input("embedded", wid, "before the restart");
      await waitIdle(be.client, "embedded", wid);
      await using browser = await launchBrowser();
      const page = await browser.newPage({ colorScheme: "light" });
      await page.goto(`${be.url}/runtimes/embedded/workers/${wid}`);
      await waitForConn(page, "live");
      const log = page.getByRole("log", { name: "Transcript" });
      await log.getByText("Turn 1 completed.").waitFor();

      await be.kill("SIGTERM");
      await waitForConn(page, "reconnecting");
      assert.match((await page.locator(".console-conn").textContent())!, /^Reconnecting…/);
      for (let i = 0;; i++) {
        try {
          be = await startBackend(rt, { stateDir, embeddedStore: "fs", port });
          break;
        } catch (e) {
          if (i >= 20) throw e;
          await sleep(100);
        }
      }
      await waitForConn(page, "resumed");

      await page.getByLabel("Input", { exact: true }).fill("after the restart");
      await page.getByRole("button", { name: "Send" }).click();
      await log.getByText("Turn 2 completed.").waitFor({ timeout: WAIT });
      await waitIdle(be.client, "embedded", wid);
      await assertConsoleMatchesTranscript(page, be.client, "embedded", wid);
    } finally {
      await be.kill("SIGKILL");
      await rt.kill("SIGKILL");
      await Deno.remove(stateDir, { recursive: true }).catch(() => {});
    }
  },
);
