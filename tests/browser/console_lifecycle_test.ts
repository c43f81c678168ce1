/**
 * The worker console's lifecycle controls in a real browser, by keyboard only (issue 17):
 * Enter sends, Ctrl+C pauses, Enter resumes, Escape leaves the input, Ctrl+X cancels, and a
 * stopped worker is restored from its console; the shortcuts are listed in a help popover.
 * Also: the Runtime Inventory's counts per status, the create form's first instruction, and
 * ANSI colours of command output rendered as classes on escaped text.
 * Real Backend process with a slow echo profile on its embedded runtime.
 * @module
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { BackendProcess } from "../support/backend_process.ts";
import {
  browserTest,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from "../support/browser.ts";

const SLOW = `[profiles.slow]\nengine="echo"\nchunk_chars=1\ndelay_ms=40\n`;
// printf reads the backslash escapes (a TOML literal string keeps them as typed).
const COLORS = `[profiles.colors]\nengine="command"\nargv=["printf", ` +
  `'\\033[31mred\\033[0m plain \\033[1;32m<b>bold</b>\\033[0m\\n']\n`;
const WAIT = 30_000;

async function waitForStatus(page: Page, status: string) {
  await page.locator(".console-status .badge", { hasText: status }).waitFor({ timeout: WAIT });
}

/** Presses Tab until `isTarget` holds for the focused element (bounded). */
async function tabTo(page: Page, what: string, isTarget: () => boolean) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate(isTarget)) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

/** Length of the console's last output block. */
function outputLength(page: Page): Promise<number> {
  return page.evaluate(() => {
    const outs = document.querySelectorAll(".console-block.output");
    return (outs[outs.length - 1]?.textContent ?? "").length;
  });
}

browserTest("console: keyboard-only pause, resume, cancel and restore", async () => {
  await using be = await BackendProcess.start({ embeddedConfig: SLOW + COLORS });
  await using browser = await launchBrowser();
  const page = await browser.newPage();
  const { worker } = await be.client.createWorker("embedded", {
    profile: "slow",
    display_name: "Keys",
  });
  const wid = worker.worker_id;
  await page.goto(`${be.url}/runtimes/embedded/workers/${wid}`);
  await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
  const log = page.getByRole("log", { name: "Transcript" });

  // The help popover lists the shortcuts; it opens with the keyboard.
  await tabTo(page, "the shortcuts help", () => document.activeElement?.tagName === "SUMMARY");
  await page.keyboard.press("Enter");
  const help = page.locator(".console-help dl");
  await help.waitFor();
  const helpText = (await help.textContent())!;
  for (const k of ["Ctrl+C", "Ctrl+X", "Enter", "Escape"]) {
    assert.ok(helpText.includes(k), `help lists ${k}: ${helpText}`);
  }
  const v = await seriousA11yViolations(page);
  assert.deepEqual(v, [], `console with help: ${JSON.stringify(v)}`);
  await screenshot(page, "worker-console-shortcuts-light");
  await page.keyboard.press("Enter"); // closes it again

  // Type and send with Enter; Send becomes Cancel turn while the turn runs.
  await tabTo(page, "the input", () => document.activeElement?.id === "console-input");
  const text = "abcdefghijklmnopqrstuvwxyz".repeat(4);
  await page.keyboard.type(text);
  await page.keyboard.press("Enter");
  await waitForStatus(page, "busy");
  await page.getByRole("button", { name: "Cancel turn" }).waitFor();
  assert.equal(await page.getByRole("button", { name: "Send" }).count(), 0);
  await page.waitForFunction(() => {
    const outs = document.querySelectorAll(".console-block.output");
    return (outs[outs.length - 1]?.textContent ?? "").length >= 3;
  });

  // Ctrl+C pauses (the input is empty: nothing selected to copy).
  await page.keyboard.press("Control+c");
  await waitForStatus(page, "paused");
  await log.getByText("Turn 1 paused.").waitFor();
  await page.getByRole("button", { name: "Resume" }).waitFor();
  const held = await outputLength(page);
  await new Promise((r) => setTimeout(r, 1_000));
  assert.equal(await outputLength(page), held, "no output shown while paused");
  assert.equal(await log.locator(".console-block").last().textContent(), "Turn 1 paused.");
  assert.ok(held > 0);

  // Enter resumes; output continues.
  await page.keyboard.press("Enter");
  await waitForStatus(page, "busy");
  await log.getByText("Turn 1 resumed.").waitFor();
  await page.waitForFunction(() => {
    const outs = document.querySelectorAll(".console-block.output");
    return (outs[outs.length - 1]?.textContent ?? "").length >= 2;
  });

  // Escape leaves the input for the transcript; Ctrl+X cancels from there.
  await page.keyboard.press("Escape");
  assert.equal(
    await page.evaluate(() => document.activeElement?.getAttribute("aria-label")),
    "Transcript",
  );
  await page.keyboard.press("Control+x");
  await log.getByText("Turn 1 cancelled.").waitFor({ timeout: WAIT });
  await waitForStatus(page, "idle");

  // Stopped elsewhere: the console offers Restore, reached and pressed by keyboard.
  await be.client.stop("embedded", wid);
  await waitForStatus(page, "stopped");
  await tabTo(
    page,
    "Restore worker",
    () => document.activeElement?.textContent === "Restore worker",
  );
  await page.keyboard.press("Enter");
  await waitForStatus(page, "idle");
  await log.getByText("Worker restored: it takes input again.").waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "console-input");
  await page.keyboard.type("again");
  await page.keyboard.press("Enter");
  await log.getByText("Turn 2 completed.").waitFor({ timeout: WAIT });
  await screenshot(page, "worker-console-restored-light");

  const types: string[] = (await be.client.transcript("embedded", wid, 0, 500)).entries.map((e) =>
    e.type
  );
  for (const t of ["turn.paused", "turn.resumed", "turn.cancelled", "worker.restored"]) {
    assert.ok(types.includes(t), `${t} recorded: ${types.join(",")}`);
  }

  // The Runtime Inventory shows the counts per status (one idle worker here).
  await page.goto(`${be.url}/settings/runtimes`);
  const counts = (await page.locator("[data-worker-counts]").first().textContent())!;
  assert.match(counts, /1 \(1 idle, 0 busy, 0 paused, 0 stopped\)/);

  // The create form takes a first instruction: the console opens on its running turn.
  await page.goto(`${be.url}/workers/new`);
  await page.getByLabel("Profile").selectOption("slow");
  await page.getByLabel("First instruction").fill("first words");
  await page.getByRole("button", { name: "Create worker" }).press("Enter");
  await page.waitForURL(/\/runtimes\/embedded\/workers\/[0-9a-f-]{36}$/, { timeout: WAIT });
  await page.getByRole("log", { name: "Transcript" }).getByText("Turn 1 completed.").waitFor({
    timeout: WAIT,
  });
  const created = page.url().split("/").at(-1)!;
  const t2 = (await be.client.transcript("embedded", created, 0, 500)).entries;
  assert.equal(t2.filter((e) => e.type === "input.accepted").length, 1);
  assert.equal(t2.find((e) => e.type === "input.accepted")?.data.text, "first words");

  // ANSI colours: coloured spans around plain text; the "<b>" in the output is text, not markup.
  const { worker: cw } = await be.client.createWorker("embedded", {
    profile: "colors",
    input: "x",
  });
  await page.goto(`${be.url}/runtimes/embedded/workers/${cw.worker_id}`);
  const out = page.locator(".console-output");
  await out.getByText("Turn 1 completed").waitFor({ timeout: WAIT });
  await out.locator(".ansi-red").waitFor();
  assert.equal(await out.locator(".ansi-red").textContent(), "red");
  assert.equal(await out.locator(".ansi-green.ansi-bold").textContent(), "<b>bold</b>");
  assert.equal(await out.locator("b").count(), 0, "no element made from the output");
  assert.ok(!(await out.textContent())!.includes("\u001b"), "no escape characters shown");
  const [red, plain] = await out.locator(".ansi-red").evaluate((el) => [
    getComputedStyle(el).color,
    getComputedStyle(el.parentElement!).color,
  ]);
  assert.notEqual(red, plain, "red is coloured");
  const v2 = await seriousA11yViolations(page);
  assert.deepEqual(v2, [], `console with ANSI output: ${JSON.stringify(v2)}`);
  await screenshot(page, "worker-console-ansi-light");
});
