/**
 * The Runtime Connections screen in a real browser, against a real Backend
 * process and a real remote runtime process: add (mouse and keyboard only),
 * inline typed errors that save nothing, the negotiation test with its
 * operations matrix, delete with an inline confirmation, a config file that
 * does not parse, and axe in light and dark on every settings page.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import {
  browserTest,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from "../support/browser.ts";

const PATH = "/settings/runtime-connections";
const HAND_WRITTEN =
  `# hand-written; edits must keep this comment\n[server]\nlisten = "127.0.0.1:8787"\n`;
const TOKEN = "runtime-token-5d1e";

const configText = (bp: BackendProcess) =>
  Deno.readTextFile(`${bp.stateDir}/workspace-backend.local.toml`);

/** Resolves after the next full page load (the islands reload after a save). */
function nextLoad(page: Page): Promise<unknown> {
  return page.waitForEvent("load");
}

async function fillAddForm(
  page: Page,
  f: { id: string; endpoint: string; display_name?: string; token_ref?: string },
) {
  await page.getByLabel("Id", { exact: true }).fill(f.id);
  await page.getByLabel("Display name").fill(f.display_name ?? "");
  await page.getByLabel("Endpoint").fill(f.endpoint);
  await page.getByLabel("Token reference").fill(f.token_ref ?? "");
}

async function assertNoSeriousViolations(page: Page, what: string) {
  const v = await seriousA11yViolations(page);
  assert.deepEqual(v, [], `${what}: ${JSON.stringify(v, null, 2)}`);
}

/** A port nothing listens on (bound, then released). */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  l.close();
  return (l.addr as Deno.NetAddr).port;
}

async function focusedId(page: Page): Promise<string> {
  return await page.evaluate(() => document.activeElement?.id ?? "");
}

browserTest("runtime connections: add, inline errors, test, delete (real processes)", async () => {
  await using rt = await RuntimeProcess.start({ id: "build-box", token: TOKEN });
  await using bp = await BackendProcess.start({
    config: HAND_WRITTEN,
    env: { BUILD_BOX_TOKEN: TOKEN },
  });
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // The expected 4xx answers are logged by the browser as failed loads; anything else counts.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      pageErrors.push(m.text());
    }
  });

  await page.goto(bp.url + PATH);
  await page.getByRole("button", { name: "Add connection" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Add connection" }).isEnabled(), true);

  // The built-in runtime: a badge, no delete control.
  const embedded = page.getByRole("region", { name: "Embedded runtime" });
  assert.equal(await embedded.locator(".badge", { hasText: "built-in" }).count(), 1);
  assert.equal(await embedded.getByRole("button", { name: /delete/i }).count(), 0);

  // Add: saved, the row appears with "restart required", the notice shows and has focus.
  // The API answer is held back a moment so the progress state can be seen.
  await page.route("**/api/settings/runtime-connections", async (route) => {
    if (route.request().method() === "POST") await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  await fillAddForm(page, {
    id: "build-box",
    display_name: "Build box",
    endpoint: rt.url,
    token_ref: "env:BUILD_BOX_TOKEN",
  });
  let loaded = nextLoad(page);
  await page.getByRole("button", { name: "Add connection" }).click();
  const saving = page.getByRole("button", { name: "Saving…" });
  await saving.waitFor();
  assert.equal(await saving.isDisabled(), true);
  assert.equal(await saving.getAttribute("aria-busy"), "true");
  await loaded;
  await page.unroute("**/api/settings/runtime-connections");
  const notice = page.getByRole("status").filter({
    hasText: "Saved — restart the Backend to apply",
  });
  await notice.waitFor();
  assert.match(await notice.innerText(), /build-box was added/);
  assert.equal(await focusedId(page), "saved-notice");
  assert.equal(new URL(page.url()).search, "", "the ?saved= query is dropped after showing");
  const row = page.getByRole("region", { name: "Build box" });
  for (const badge of ["persisted", "not active", "restart required"]) {
    assert.equal(await row.locator(".badge", { hasText: badge }).count(), 1, badge);
  }
  assert.match(await row.innerText(), /env:BUILD_BOX_TOKEN/);
  assert.match(await row.innerText(), new RegExp(rt.url.replaceAll(".", "\\.")));
  const afterAdd = await configText(bp);
  assert.ok(afterAdd.startsWith(HAND_WRITTEN), "hand-written part kept");
  assert.match(afterAdd, /id = "build-box"/);
  assert.doesNotMatch(afterAdd, new RegExp(TOKEN), "the token never reaches the file");

  // SSR alone (no JavaScript) already shows the row and its badges.
  const ssr = await (await fetch(bp.url + PATH)).text();
  assert.match(ssr, /Build box/);
  assert.match(ssr, /restart required/);

  // Invalid endpoint: an inline error on the endpoint field, focus there, nothing saved.
  await fillAddForm(page, { id: "bad-one", endpoint: "ftp://x" });
  await page.getByRole("button", { name: "Add connection" }).click();
  const endpoint = page.getByLabel("Endpoint");
  await page.locator("#add-endpoint[aria-invalid=true]").waitFor();
  const endpointError = page.locator("#add-endpoint-error");
  assert.match(await endpointError.innerText(), /http/i);
  assert.match(String(await endpoint.getAttribute("aria-describedby")), /add-endpoint-error/);
  assert.equal(await page.getByLabel("Id", { exact: true }).getAttribute("aria-invalid"), null);
  assert.equal(await focusedId(page), "add-endpoint");
  assert.equal(await configText(bp), afterAdd, "an invalid add changes nothing");
  await screenshot(page, "runtime-connections-invalid-endpoint");

  // Typing in the field clears its error.
  await endpoint.fill(rt.url);
  assert.equal(await endpoint.getAttribute("aria-invalid"), null);

  // A server-side error (duplicate id) is a sentence next to the id field, never raw JSON.
  await fillAddForm(page, { id: "build-box", endpoint: rt.url });
  await page.getByRole("button", { name: "Add connection" }).click();
  await page.locator("#add-id[aria-invalid=true]").waitFor();
  const idError = await page.locator("#add-id-error").innerText();
  assert.match(idError, /already exists/);
  assert.doesNotMatch(idError, /[{}]|"error"|duplicate_runtime_id/);
  assert.equal(await focusedId(page), "add-id");
  assert.doesNotMatch(await page.locator("main").innerText(), /\{"error"/);
  assert.equal(await configText(bp), afterAdd);

  // Several problems at once: each field gets its own message; focus goes to the first.
  await fillAddForm(page, {
    id: "Not Valid",
    display_name: "x".repeat(81),
    endpoint: "http://u:p@host",
    token_ref: "plain-token-value",
  });
  await page.getByRole("button", { name: "Add connection" }).click();
  await page.locator("#add-token_ref[aria-invalid=true]").waitFor();
  for (const f of ["id", "display_name", "endpoint", "token_ref"]) {
    assert.equal(await page.locator(`#add-${f}`).getAttribute("aria-invalid"), "true", f);
    assert.ok((await page.locator(`#add-${f}-error`).innerText()).length > 0, f);
  }
  assert.equal(await focusedId(page), "add-id");
  assert.equal(await configText(bp), afterAdd);
  await assertNoSeriousViolations(page, "form with errors");

  // Test: progress while it runs, then compatible with the operations matrix.
  await page.route("**/build-box/test", async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });
  await row.getByRole("button", { name: "Test connection build-box" }).click();
  const testing = row.getByRole("button", { name: /Testing…/ });
  await testing.waitFor();
  assert.equal(await row.locator("[aria-busy=true]").count(), 1);
  const result = row.locator(".probe-result");
  await result.waitFor();
  assert.equal(await row.locator("[aria-busy=true]").count(), 0);
  assert.equal(await result.locator(".badge", { hasText: /^compatible$/ }).count(), 1);
  assert.equal(await result.locator(".badge", { hasText: /^reachable$/ }).count(), 1);
  assert.match(await result.innerText(), /protocol yoi-worker-runtime\/1 negotiated/);
  const matrix = result.getByRole("table", { name: "Operations of build-box" });
  assert.equal(await matrix.locator("tbody tr").count(), 8);
  const listWorkers = matrix.getByRole("row", { name: /list_workers/ });
  assert.match(await listWorkers.innerText(), /supported/);
  await screenshot(page, "runtime-connections-tested");

  // Delete: inline confirmation (keyboard: Escape cancels), then gone from page and file.
  await row.getByRole("button", { name: "Delete Build box" }).click();
  const confirm = row.getByRole("group", { name: "Delete Build box?" });
  await confirm.waitFor();
  assert.equal(await focusedId(page), "", "focus is on the Cancel button (no id)");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel");
  await page.keyboard.press("Escape");
  await row.getByRole("button", { name: "Delete Build box" }).waitFor();
  assert.equal(
    await page.evaluate(() => document.activeElement?.textContent),
    "Delete Build box",
  );
  assert.equal(await confirm.count(), 0);
  await row.getByRole("button", { name: "Delete Build box" }).click();
  await screenshot(page, "runtime-connections-confirm-delete");
  loaded = nextLoad(page);
  await confirm.getByRole("button", { name: "Confirm" }).click();
  await loaded;
  const deleted = page.getByRole("status").filter({
    hasText: "Saved — restart the Backend to apply",
  });
  await deleted.waitFor();
  assert.match(await deleted.innerText(), /build-box was removed/);
  assert.equal(await page.getByRole("region", { name: "Build box" }).count(), 0);
  assert.equal(await configText(bp), HAND_WRITTEN, "the file is back to what it was");

  assert.deepEqual(pageErrors, []);
});

browserTest(
  "runtime connections: the add form and delete work with the keyboard only",
  async () => {
    await using bp = await BackendProcess.start();
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.goto(bp.url + PATH);
    await page.getByRole("button", { name: "Add connection" }).waitFor();
    await page.waitForFunction(() =>
      !document.querySelector<HTMLButtonElement>("form button[type=submit]")?.disabled
    );

    // Tab from the top of the page to the first field.
    let steps = 0;
    while ((await focusedId(page)) !== "add-id") {
      await page.keyboard.press("Tab");
      assert.ok(++steps < 40, "the id field is reachable with Tab");
    }
    await page.keyboard.type("lab-box");
    await page.keyboard.press("Tab");
    assert.equal(await focusedId(page), "add-display_name");
    await page.keyboard.type("Lab box");
    await page.keyboard.press("Tab");
    assert.equal(await focusedId(page), "add-endpoint");
    await page.keyboard.type(`http://127.0.0.1:${closedPort()}`);
    await page.keyboard.press("Tab");
    assert.equal(await focusedId(page), "add-token_ref");
    await page.keyboard.type("env:LAB_TOKEN");
    const loaded = nextLoad(page);
    await page.keyboard.press("Enter");
    await loaded;
    await page.getByRole("status").filter({ hasText: "Saved — restart the Backend to apply" })
      .waitFor();
    const row = page.getByRole("region", { name: "Lab box" });
    await row.waitFor();
    assert.equal(await row.locator(".badge", { hasText: "restart required" }).count(), 1);
    assert.match(await configText(bp), /id = "lab-box"/);

    // Delete with the keyboard: Enter on Delete, focus lands on Cancel, Shift+Tab to Confirm.
    await row.getByRole("button", { name: "Delete Lab box" }).focus();
    await page.keyboard.press("Enter");
    await row.getByRole("group", { name: "Delete Lab box?" }).waitFor();
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Confirm");
    const reloaded = nextLoad(page);
    await page.keyboard.press("Enter");
    await reloaded;
    await page.getByRole("status").filter({ hasText: "was removed" }).waitFor();
    assert.equal(await page.getByRole("region", { name: "Lab box" }).count(), 0);
    assert.doesNotMatch(await configText(bp), /lab-box/);
  },
);

browserTest("runtime connections: an unparsable config file disables adding", async () => {
  const broken = `[[runtimes.remote]]\nid = "x"\nendpoint = \n`;
  await using bp = await BackendProcess.start({ config: broken });
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(bp.url + PATH);
  const alert = page.getByRole("alert").filter({ hasText: "The config file does not parse" });
  await alert.waitFor();
  assert.ok((await alert.locator("ul.diagnostics li").count()) >= 1, "diagnostic shown");
  await page.waitForFunction(() => document.querySelector("[data-island] button") !== null);
  assert.equal(await page.getByRole("button", { name: "Add connection" }).isDisabled(), true);
  assert.equal(await page.getByLabel("Endpoint").isDisabled(), true);
  await assertNoSeriousViolations(page, "unparsable config");
  await screenshot(page, "runtime-connections-config-broken");
  assert.equal(await configText(bp), broken);
});

browserTest("settings screens: no serious axe violations in light and dark", async () => {
  await using rt = await RuntimeProcess.start({ id: "lab" });
  await using bp = await BackendProcess.start({
    config:
      `[[runtimes.remote]]\nid = "lab"\ndisplay_name = "Lab runtime"\nendpoint = "${rt.url}"\n`,
  });
  await using browser = await launchBrowser();
  for (const scheme of ["light", "dark"] as const) {
    const page = await browser.newPage({ colorScheme: scheme });
    // One active remote (from the file) and one pending add, with a test result open.
    await page.goto(bp.url + PATH);
    if (scheme === "light") {
      await fillAddForm(page, { id: "pending", endpoint: `http://127.0.0.1:${closedPort()}` });
      const loaded = nextLoad(page);
      await page.getByRole("button", { name: "Add connection" }).click();
      await loaded;
    }
    const lab = page.getByRole("region", { name: "Lab runtime" });
    assert.equal(await lab.locator(".badge", { hasText: /^active$/ }).count(), 1);
    await lab.getByRole("button", { name: "Test connection lab" }).click();
    await lab.locator(".probe-result").waitFor();
    const pending = page.getByRole("region", { name: "pending" });
    await pending.getByRole("button", { name: "Test connection pending" }).click();
    await pending.locator(".probe-result").waitFor();
    assert.equal(
      await pending.locator(".badge", { hasText: /^not reachable$/ }).count(),
      1,
    );
    await assertNoSeriousViolations(page, `runtime connections (${scheme})`);
    await screenshot(page, `runtime-connections-${scheme}`);
    for (
      const [path, name] of [
        ["/settings", "settings-overview"],
        ["/settings/runtimes", "settings-runtimes"],
        ["/settings/backend", "settings-backend"],
      ]
    ) {
      await page.goto(bp.url + path);
      await page.locator("main h1").waitFor();
      await assertNoSeriousViolations(page, `${path} (${scheme})`);
      await screenshot(page, `${name}-${scheme}`);
    }
    await page.close();
  }
});
