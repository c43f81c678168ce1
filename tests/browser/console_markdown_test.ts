/**
 * The Markdown lexer is loaded on first use: a console page whose transcript holds a model
 * answer keeps the server's Markdown through hydration (never a flash of plain text), then
 * renders the same elements itself once `marked` is in; a console without a model answer never
 * fetches the lexer. Real runtime and Backend processes; the one fake is the LLM provider
 * (tests/support/fake_openai.ts): no model runs on these machines.
 * @module
 */
import assert from "node:assert/strict";
import { FakeOpenAI, textAnswer } from "../support/fake_openai.ts";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import { browserTest, launchBrowser } from "../support/browser.ts";
import { waitUntil } from "../support/wait.ts";

const WAIT = 30_000;
/** A string only the `marked` chunk holds. */
const LEXER_MARK = "Infinite loop on byte";

/** Watches the first answer's `<strong>` from the start of parsing: was it ever gone? */
const WATCH = `(() => {
  const w = window.__md = { first: null, lost: false };
  const sel = ".console-block.output .md strong";
  new MutationObserver(() => {
    const el = document.querySelector(sel);
    if (!w.first) w.first = el;
    else if (!el) w.lost = true;
  }).observe(document, { childList: true, subtree: true, characterData: true });
})();`;

interface Watch {
  first: Element | null;
  lost: boolean;
}

browserTest(
  "console: server Markdown survives hydration; marked loads only for model answers",
  async () => {
    await using fake = new FakeOpenAI();
    await using rt = await RuntimeProcess.start({
      id: "agents",
      env: { YOI_TEST_OPENAI_KEY: "sk-test-md" },
      config: `[profiles.coder]
engine = "openai"
base_url = "${fake.url}"
model = "scripted-model"
api_key_ref = "env:YOI_TEST_OPENAI_KEY"
`,
    });
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "agents"\nendpoint = "${rt.url}"\n`,
    });
    const { worker } = await be.client.createWorker("agents", { profile: "coder" });
    const { worker: quiet } = await be.client.createWorker("agents", { profile: "coder" });
    fake.script.push({ stream: textAnswer(["**Done**: wrote `plan.md`.\n\n- one\n- two\n"]) });
    await be.client.input("agents", worker.worker_id, "write a plan");
    await waitUntil("the answer's turn to complete", async () => {
      const page = await be.client.transcript("agents", worker.worker_id, 0, 100);
      return page.entries.some((e) => e.type === "turn.completed");
    }, WAIT);

    await using browser = await launchBrowser();
    const page = await browser.newPage();
    await page.addInitScript(WATCH);
    const scripts: Promise<string>[] = [];
    page.on("response", (r) => {
      if (new URL(r.url()).pathname.startsWith("/_islands/")) scripts.push(r.text());
    });
    const lexerLoaded = async () =>
      (await Promise.all(scripts)).some((s) => s.includes(LEXER_MARK));

    // A console without a model answer: live, and no lexer fetched.
    await page.goto(`${be.url}/runtimes/agents/workers/${quiet.worker_id}`);
    await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
    await page.waitForLoadState("networkidle");
    assert.equal(await lexerLoaded(), false, "no Markdown, no lexer");

    // A console with an answer: the server's elements stay until the island renders its own.
    scripts.length = 0;
    await page.goto(`${be.url}/runtimes/agents/workers/${worker.worker_id}`);
    await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
    await waitUntil("the lexer chunk", lexerLoaded, WAIT);
    await page.waitForFunction(
      () => {
        const w = (window as unknown as { __md: Watch }).__md;
        const now = document.querySelector(".console-block.output .md strong");
        return w.first !== null && now !== null && now !== w.first;
      },
      undefined,
      { timeout: WAIT },
    );
    const w = await page.evaluate(() => ({
      ssr: (window as unknown as { __md: Watch }).__md.first !== null,
      lost: (window as unknown as { __md: Watch }).__md.lost,
    }));
    assert.deepEqual(
      w,
      { ssr: true, lost: false },
      "the server's Markdown was never replaced by plain text",
    );
    const md = page.locator(".console-block.output .md");
    assert.equal(await md.locator("strong").textContent(), "Done");
    assert.equal(await md.locator("code").textContent(), "plan.md");
    assert.equal(await md.locator("li").count(), 2);
  },
);
