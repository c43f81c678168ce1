/**
 * The Runtime Connections screen in a real browser, against a real Backend
 * process and real remote runtime processes. Everything happens on one
 * loaded page (a marker set on `window` must survive every step): add with
 * Save & test (a good candidate saves at once, a bad one shows its four
 * answers and saves only on "Save anyway"), inline typed errors, edit, Test
 * and Test all, delete stating the worker count and "Delete anyway" on 409,
 * the state badge following a runtime that is killed and restarted, hand
 * edits of the config file, keyboard only, and axe in light and dark.
 * @module
 */
import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { AddConnectionResponseSchema } from "../../shared/settings_dto.ts";
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
/** What the page said before connections applied live; only `[server]` keys may ask for it. */
const NO_RESTART_TEXT = /restart the Backend|restart required|after a restart/i;
/** The page must reflect any change within this (the bound). */
const LIVE_MS = 5000;

const configFile = (bp: BackendProcess) => `${bp.stateDir}/workspace-backend.local.toml`;
const configText = (bp: BackendProcess) => Deno.readTextFile(configFile(bp));

/** Marks the loaded document; `assertNotReloaded` fails if the page was reloaded since. */
async function markDocument(page: Page) {
  await page.evaluate(() => ((globalThis as unknown as { __mark: number }).__mark = 1));
}
async function assertNotReloaded(page: Page) {
  assert.equal(
    await page.evaluate(() => (globalThis as unknown as { __mark?: number }).__mark),
    1,
    "the page was not reloaded",
  );
}

function addForm(page: Page): Locator {
  return page.getByRole("region", { name: "Add a remote runtime" });
}

async function fillForm(
  scope: Locator,
  f: { id?: string; endpoint: string; display_name?: string; token_ref?: string },
) {
  if (f.id !== undefined) await scope.getByLabel("Id", { exact: true }).fill(f.id);
  await scope.getByLabel("Display name").fill(f.display_name ?? "");
  await scope.getByLabel("Endpoint").fill(f.endpoint);
  await scope.getByLabel("Token reference").fill(f.token_ref ?? "");
}

/** The row of a connection, by its display name. */
function row(page: Page, name: string): Locator {
  return page.getByRole("region", { name, exact: true });
}

/** Waits until the row's live state is `state` (the badge's `data-state`). */
async function waitState(page: Page, name: string, state: string, timeout = LIVE_MS) {
  await row(page, name).locator(`.row-head [data-state="${state}"]`).waitFor({ timeout });
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
async function focusedText(page: Page): Promise<string> {
  return await page.evaluate(() => document.activeElement?.textContent ?? "");
}

function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  // The expected 4xx answers are logged by the browser as failed loads; anything else counts.
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
      errors.push(m.text());
    }
  });
  return errors;
}

async function gotoLive(page: Page, bp: BackendProcess) {
  await page.goto(bp.url + PATH);
  await addForm(page).getByRole("button", { name: "Save & test" }).waitFor();
  await page.waitForFunction(() =>
    !document.querySelector<HTMLButtonElement>("#add-id")?.form?.querySelector("button")?.disabled
  );
  await markDocument(page);
}

browserTest(
  "runtime connections: add with Save & test, inline errors, edit, Test all, delete with workers — no reload",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "build-box", token: TOKEN });
    await using bp = await BackendProcess.start({
      config: HAND_WRITTEN,
      env: { YOI_BUILD_BOX_TOKEN: TOKEN },
    });
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    const pageErrors = collectPageErrors(page);
    await gotoLive(page, bp);

    // The built-in runtime: ready, a badge, no edit or delete control.
    const embedded = row(page, "Embedded runtime");
    assert.equal(await embedded.locator(".badge", { hasText: "built-in" }).count(), 1);
    assert.equal(await embedded.locator('.row-head [data-state="ready"]').count(), 1);
    assert.equal(await embedded.getByRole("button", { name: /delete|edit/i }).count(), 0);
    assert.doesNotMatch(await page.locator("main").innerText(), NO_RESTART_TEXT);

    // Save & test, good candidate: tested, then saved at once; the row is live and ready.
    const form = addForm(page);
    await fillForm(form, {
      id: "build-box",
      display_name: "Build box",
      endpoint: rt.url,
      token_ref: "env:YOI_BUILD_BOX_TOKEN",
    });
    await form.getByRole("button", { name: "Save & test" }).click();
    const notice = page.locator("#saved-notice");
    await notice.waitFor();
    assert.match(await notice.innerText(), /build-box was added and applied; no restart needed/);
    assert.equal(await focusedId(page), "saved-notice");
    await waitState(page, "Build box", "ready");
    const box = row(page, "Build box");
    assert.match(await box.innerText(), /env:YOI_BUILD_BOX_TOKEN/);
    assert.match(await box.innerText(), /reachable/, "the Save & test answers are on the row");
    assert.equal(await form.getByLabel("Id", { exact: true }).inputValue(), "", "form cleared");
    const afterAdd = await configText(bp);
    assert.ok(afterAdd.startsWith(HAND_WRITTEN), "hand-written part kept");
    assert.match(afterAdd, /id = "build-box"/);
    assert.doesNotMatch(afterAdd, new RegExp(TOKEN), "the token never reaches the file");
    assert.doesNotMatch(await page.content(), new RegExp(TOKEN), "nor the page");

    // The row's facts: latency, worker count, a focusable relative time with the absolute one.
    const checked = box.locator(".checked time.rel").first();
    assert.match(await checked.innerText(), /^(just now|\d+ s ago)$/);
    assert.ok(await checked.getAttribute("datetime"));
    assert.match(String(await checked.getAttribute("title")), /\d{2}:\d{2}:\d{2}/);
    assert.equal(await checked.getAttribute("tabindex"), "0");
    assert.match(await box.locator(".latency").innerText(), /^\d+ ms$/);
    assert.equal(await box.locator(".worker-count").innerText(), "0");

    // Save & test, bad candidate: the four answers, nothing saved until "Save anyway".
    const port = closedPort();
    await fillForm(form, { id: "lab", display_name: "Lab", endpoint: `http://127.0.0.1:${port}` });
    await form.getByRole("button", { name: "Save & test" }).click();
    const problem = form.getByRole("group", { name: "Not saved: the test found a problem" });
    await problem.waitFor();
    const answers = await problem.locator(".probe-answers").innerText();
    assert.match(answers, /Reachable\s+no answer/);
    assert.match(answers, /Authenticated\s+not asked/);
    assert.match(answers, /Identity\s+unknown/);
    assert.match(answers, /Latency\s+none/);
    assert.doesNotMatch(await configText(bp), /id = "lab"/, "a failed test saves nothing");
    assert.equal(await problem.evaluate((el) => el === document.activeElement), true);
    await screenshot(page, "runtime-connections-save-and-test-failed");
    await problem.getByRole("button", { name: "Save anyway" }).click();
    await page.locator("#saved-notice", { hasText: "lab was added" }).waitFor();
    assert.match(await configText(bp), /id = "lab"/);
    await waitState(page, "Lab", "unreachable");

    // Inline errors: an invalid endpoint, focus there, nothing saved.
    const saved = await configText(bp);
    await fillForm(form, { id: "bad-one", endpoint: "ftp://x" });
    await form.getByRole("button", { name: "Save & test" }).click();
    await page.locator("#add-endpoint[aria-invalid=true]").waitFor();
    assert.match(await page.locator("#add-endpoint-error").innerText(), /http/i);
    assert.equal(await focusedId(page), "add-endpoint");
    // A duplicate id is a sentence next to the id field, never raw JSON.
    // (A good candidate, so the save is attempted and the Backend refuses it.)
    await fillForm(form, {
      id: "build-box",
      endpoint: rt.url,
      token_ref: "env:YOI_BUILD_BOX_TOKEN",
    });
    await form.getByRole("button", { name: "Save & test" }).click();
    await page.locator("#add-id[aria-invalid=true]").waitFor();
    const idError = await page.locator("#add-id-error").innerText();
    assert.match(idError, /already exists/);
    assert.doesNotMatch(idError, /[{}]|"error"|duplicate_runtime_id/);
    assert.equal(await focusedId(page), "add-id");
    assert.equal(await configText(bp), saved);
    await assertNoSeriousViolations(page, "form with errors");

    // Edit: id read-only, new display name saved and applied; focus back on Edit.
    await box.getByRole("button", { name: "Edit Build box" }).click();
    const edit = box.getByRole("group", { name: "Edit Build box" });
    assert.equal(await edit.getByLabel("Id").getAttribute("readonly"), "");
    assert.equal(await edit.getByLabel("Endpoint").inputValue(), rt.url);
    await edit.getByLabel("Display name").fill("Build box two");
    await edit.getByRole("button", { name: "Save & test" }).click();
    await page.locator("#saved-notice", { hasText: "build-box was saved and applied" }).waitFor();
    const box2 = row(page, "Build box two");
    await box2.waitFor();
    assert.match(await configText(bp), /display_name = "Build box two"/);
    assert.equal(await focusedText(page), "Edit Build box two");
    await waitState(page, "Build box two", "ready");

    // Test all: every row gets its probe answers.
    await page.getByRole("button", { name: "Test all" }).click();
    for (const name of ["Embedded runtime", "Build box two", "Lab"]) {
      await row(page, name).locator(".probe-result").waitFor();
    }
    assert.equal(
      await box2.locator(".probe-result .badge", { hasText: /^compatible$/ }).count(),
      1,
    );
    assert.equal(
      await row(page, "Lab").locator(".probe-result .badge", { hasText: /^not reachable$/ })
        .count(),
      1,
    );
    const matrix = box2.getByRole("table", { name: "Operations of build-box" });
    assert.match(await matrix.getByRole("row", { name: /list_workers/ }).innerText(), /supported/);

    // Delete with a worker there: the confirmation gives the count; 409 → "Delete anyway".
    await bp.client.createWorker("build-box", {});
    await waitState(page, "Build box two", "ready");
    await box2.getByRole("button", { name: "Delete Build box two" }).click();
    const confirm = box2.getByRole("group", { name: "Delete Build box two?" });
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /1 worker that is not stopped runs there/);
    assert.equal(await focusedText(page), "Cancel");
    await page.keyboard.press("Escape");
    await box2.getByRole("button", { name: "Delete Build box two" }).waitFor();
    assert.equal(await focusedText(page), "Delete Build box two");
    await box2.getByRole("button", { name: "Delete Build box two" }).click();
    await confirm.getByRole("button", { name: "Confirm" }).click();
    const inUse = box2.getByRole("group", { name: /although workers run there/ });
    await inUse.waitFor();
    assert.match(await inUse.innerText(), /1/);
    assert.match(await configText(bp), /id = "build-box"/, "409: nothing deleted");
    await screenshot(page, "runtime-connections-delete-in-use");
    await inUse.getByRole("button", { name: "Delete anyway" }).click();
    await page.locator("#saved-notice", { hasText: "build-box was deleted" }).waitFor();
    assert.equal(await box2.count(), 0);
    assert.doesNotMatch(await configText(bp), /build-box/);
    assert.equal(await focusedId(page), "saved-notice");

    // The idle runtime with no workers: confirm says so and deletes without force.
    const lab = row(page, "Lab");
    await lab.getByRole("button", { name: "Delete Lab" }).click();
    assert.match(await lab.getByRole("group", { name: "Delete Lab?" }).innerText(), /could not|No/);
    await lab.getByRole("button", { name: "Confirm" }).click();
    await page.locator("#saved-notice", { hasText: "lab was deleted" }).waitFor();
    assert.equal(await configText(bp), HAND_WRITTEN, "the file is back to what it was");

    await assertNotReloaded(page);
    assert.doesNotMatch(await page.locator("main").innerText(), NO_RESTART_TEXT);
    assert.deepEqual(pageErrors, []);
  },
);

browserTest(
  "runtime connections: badges follow a killed and restarted runtime, hand edits and another tab — no reload",
  async () => {
    await using rt = await RuntimeProcess.start({ id: "lab" });
    const port = rt.port;
    await using bp = await BackendProcess.start({
      config:
        `[[runtimes.remote]]\nid = "lab"\ndisplay_name = "Lab runtime"\nendpoint = "${rt.url}"\n`,
      extraArgs: ["--health-interval-ms", "500"],
    });
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    const pageErrors = collectPageErrors(page);
    await gotoLive(page, bp);
    await waitState(page, "Lab runtime", "ready");
    const live = page.locator(".connection-list > p[role=status]");

    // Killed: unreachable within the bound, announced once, without any click.
    await rt.kill("SIGKILL");
    await waitState(page, "Lab runtime", "unreachable");
    assert.match(await live.innerText(), /Lab runtime is now unreachable/);
    assert.equal(
      await row(page, "Lab runtime").locator('.row-head [data-state="unreachable"] .badge')
        .innerText(),
      "unreachable",
      "the state is a word, not only a colour",
    );
    await screenshot(page, "runtime-connections-unreachable");
    // Restarted on the same port: ready again.
    await using rt2 = await RuntimeProcess.restartOnPort({ id: "lab", port });
    await waitState(page, "Lab runtime", "ready");
    assert.match(await live.innerText(), /Lab runtime is now ready/);
    const history = row(page, "Lab runtime").locator("details.history");
    await history.locator("summary").click();
    assert.ok(await history.locator('li [data-state="unreachable"]').count() >= 1, "history");

    // A hand edit adding an entry appears; removing it makes it go.
    const before = await configText(bp);
    await Deno.writeTextFile(
      configFile(bp),
      before + `\n[[runtimes.remote]]\nid = "by-hand"\nendpoint = "${rt2.url}"\n`,
    );
    await row(page, "by-hand").waitFor({ timeout: LIVE_MS });
    await Deno.writeTextFile(configFile(bp), before);
    await row(page, "by-hand").waitFor({ state: "detached", timeout: LIVE_MS });

    // A file that stops parsing: the alert shows, adding is disabled; fixed: both go.
    await Deno.writeTextFile(configFile(bp), before + "\n[[runtimes.remote]]\nid = \n");
    const alert = page.getByRole("alert").filter({ hasText: "The config file does not parse" });
    await alert.waitFor({ timeout: LIVE_MS });
    assert.match(await alert.innerText(), /line \d+/);
    assert.equal(
      await addForm(page).getByRole("button", { name: "Save & test" }).isDisabled(),
      true,
    );
    await Deno.writeTextFile(configFile(bp), before);
    await alert.waitFor({ state: "detached", timeout: LIVE_MS });

    // Another tab (here: the API) adds a connection: it appears here too.
    await bp.client.send("POST", "/api/settings/runtime-connections", {
      id: "other-tab",
      endpoint: rt2.url,
    }, AddConnectionResponseSchema);
    await row(page, "other-tab").waitFor({ timeout: LIVE_MS });

    await assertNotReloaded(page);
    assert.deepEqual(pageErrors, []);
  },
);

browserTest(
  "runtime connections: add (Save anyway) and delete with the keyboard only",
  async () => {
    await using bp = await BackendProcess.start();
    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await gotoLive(page, bp);

    let steps = 0;
    while ((await focusedId(page)) !== "add-id") {
      await page.keyboard.press("Tab");
      assert.ok(++steps < 60, "the id field is reachable with Tab");
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
    await page.keyboard.type("env:YOI_LAB_TOKEN");
    await page.keyboard.press("Enter");
    // Not reachable: the answers get focus; Tab reaches "Save anyway".
    await addForm(page).getByRole("group", { name: /Not saved/ }).waitFor();
    while ((await focusedText(page)) !== "Save anyway") {
      await page.keyboard.press("Tab");
      assert.ok(++steps < 120, "Save anyway is reachable with Tab");
    }
    await page.keyboard.press("Enter");
    await page.locator("#saved-notice", { hasText: "lab-box was added" }).waitFor();
    const box = row(page, "Lab box");
    await box.waitFor();
    assert.match(await configText(bp), /id = "lab-box"/);

    await box.getByRole("button", { name: "Delete Lab box" }).focus();
    await page.keyboard.press("Enter");
    await box.getByRole("group", { name: "Delete Lab box?" }).waitFor();
    await page.keyboard.press("Shift+Tab");
    assert.equal(await focusedText(page), "Confirm");
    await page.keyboard.press("Enter");
    await page.locator("#saved-notice", { hasText: "lab-box was deleted" }).waitFor();
    assert.equal(await box.count(), 0);
    assert.doesNotMatch(await configText(bp), /lab-box/);
    await assertNotReloaded(page);
  },
);

browserTest("runtime connections: an unparsable config file disables saving", async () => {
  const broken = `[[runtimes.remote]]\nid = "x"\nendpoint = \n`;
  await using bp = await BackendProcess.start({ config: broken });
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  await page.goto(bp.url + PATH);
  const alert = page.getByRole("alert").filter({ hasText: "The config file does not parse" });
  await alert.waitFor();
  assert.ok((await alert.locator("ul.diagnostics li").count()) >= 1, "diagnostic shown");
  await page.getByRole("button", { name: "Test all" }).waitFor();
  await page.waitForFunction(() =>
    !document.querySelector<HTMLButtonElement>(".list-head button")?.disabled
  );
  assert.equal(await addForm(page).getByRole("button", { name: "Save & test" }).isDisabled(), true);
  assert.equal(await addForm(page).getByLabel("Endpoint").isDisabled(), true);
  await assertNoSeriousViolations(page, "unparsable config");
  await screenshot(page, "runtime-connections-config-broken");
  assert.equal(await configText(bp), broken);
});

browserTest("settings screens: no serious axe violations in light and dark", async () => {
  await using rt = await RuntimeProcess.start({ id: "lab" });
  await using bp = await BackendProcess.start({
    config:
      `[[runtimes.remote]]\nid = "lab"\ndisplay_name = "Lab runtime"\nendpoint = "${rt.url}"\n` +
      `\n[[runtimes.remote]]\nid = "gone"\nendpoint = "http://127.0.0.1:${closedPort()}"\n`,
  });
  await using browser = await launchBrowser();
  for (const scheme of ["light", "dark"] as const) {
    const page = await browser.newPage({ colorScheme: scheme });
    await gotoLive(page, bp);
    await waitState(page, "Lab runtime", "ready", 10_000);
    await waitState(page, "gone", "unreachable", 10_000);
    // Everything open at once: test results, an edit form, a delete question, history.
    await page.getByRole("button", { name: "Test all" }).click();
    await row(page, "gone").locator(".probe-result").waitFor();
    await row(page, "Lab runtime").locator(".probe-result").waitFor();
    await row(page, "Lab runtime").getByRole("button", { name: "Edit Lab runtime" }).click();
    await row(page, "gone").getByRole("button", { name: "Delete gone" }).click();
    await row(page, "gone").getByRole("group", { name: "Delete gone?" }).waitFor();
    for (const summary of await page.locator("details.history summary").all()) {
      await summary.click();
    }
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
    // The inventory and the overview show the same live states.
    await page.goto(bp.url + "/settings/runtimes");
    assert.equal(
      await page.getByRole("region", { name: "Lab runtime" }).locator('[data-state="ready"]')
        .count(),
      1,
    );
    assert.equal(
      await page.getByRole("region", { name: "gone" }).locator(
        '.row-head [data-state="unreachable"]',
      )
        .count(),
      1,
    );
    await page.goto(bp.url + "/settings");
    assert.match(await page.locator("main").innerText(), /1 unreachable/);
    await page.close();
  }
});
