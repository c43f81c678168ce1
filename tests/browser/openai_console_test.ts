/**
 * Engine `openai` end to end in a real browser: a real runtime process with an
 * `openai` profile, registered in a real Backend, driven from the worker
 * console. The one fake is the LLM provider (tests/support/fake_openai.ts):
 * no model runs on these machines.
 * @module
 */
import assert from "node:assert/strict";
import { FakeOpenAI, textAnswer, toolCalls } from "../support/fake_openai.ts";
import { BackendProcess } from "../support/backend_process.ts";
import { RuntimeProcess } from "../support/runtime_process.ts";
import {
  browserTest,
  launchBrowser,
  screenshot,
  seriousA11yViolations,
} from "../support/browser.ts";

const CANARY = "sk-canary-browser-5a1e";
const WAIT = 30_000;

browserTest("openai worker: console shows tool blocks, Markdown answer and usage", async () => {
  await using fake = new FakeOpenAI();
  const dir = await Deno.makeTempDir({ prefix: "openai_console_test_" });
  try {
    await using rt = await RuntimeProcess.start({
      id: "agents",
      store: "fs",
      dataDir: dir,
      env: { YOI_TEST_OPENAI_KEY: CANARY },
      config: `[profiles.coder]
engine = "openai"
base_url = "${fake.url}"
model = "scripted-model"
api_key_ref = "env:YOI_TEST_OPENAI_KEY"
`,
    });
    await using be = await BackendProcess.start({
      config: `[[runtimes.remote]]\nid = "agents"\nendpoint = "${rt.url}"\n`,
      extraArgs: ["--remote-timeout-ms", "5000"],
    });
    const { worker } = await be.client.createWorker("agents", {
      profile: "coder",
      display_name: "Agent",
    });
    fake.script.push(
      {
        stream: toolCalls([
          { id: "w1", name: "write_file", args: { path: "notes/plan.md", content: "# Plan" } },
          { id: "r1", name: "read_file", args: { path: "../../etc/passwd" } },
        ]),
      },
      {
        stream: textAnswer([
          "**Done**: wrote `notes/plan.md`.\n\n",
          "- one\n- two\n\n<script>window.pwned = 1</script>",
          '<img src=x onerror="window.pwned = 2">',
        ]),
      },
    );

    await using browser = await launchBrowser();
    const page = await browser.newPage({ colorScheme: "light" });
    await page.goto(`${be.url}/runtimes/agents/workers/${worker.worker_id}`);
    await page.locator('.console-conn[data-conn="live"]').waitFor({ timeout: WAIT });
    await page.getByLabel("Input").fill("write a plan");
    await page.getByRole("button", { name: "Send" }).click();

    const note = page.locator(".console-block.note", { hasText: "completion tokens" });
    await note.waitFor({ timeout: WAIT });
    assert.match(
      await note.textContent() ?? "",
      /Turn 1 completed · 16 prompt \+ 10 completion tokens\./,
    );

    const ok = page.locator("details.console-block.tool.ok");
    const failed = page.locator("details.console-block.tool.failed");
    assert.equal(await ok.count(), 1);
    assert.equal(await failed.count(), 1);
    assert.match(await ok.locator("summary").textContent() ?? "", /write_file\s+ok/);
    assert.equal(await ok.locator("pre").first().isVisible(), false, "collapsed by default");
    await ok.locator("summary").click();
    assert.match(await ok.locator("pre").first().textContent() ?? "", /notes\/plan\.md/);
    await failed.locator("summary").click();
    assert.match(await failed.locator("pre").nth(1).textContent() ?? "", /refused/);

    const md = page.locator(".console-block.output .md");
    assert.equal(await md.locator("strong").textContent(), "Done");
    assert.equal(await md.locator("code").first().textContent(), "notes/plan.md");
    assert.equal(await md.locator("li").count(), 2);
    assert.equal(await page.locator(".console-output script, .console-output img").count(), 0);
    assert.equal(await page.evaluate(() => (window as { pwned?: number }).pwned), undefined);
    assert.match(await md.textContent() ?? "", /<script>window\.pwned = 1<\/script>/);

    assert.equal(
      await Deno.readTextFile(`${dir}/workspaces/${worker.worker_id}/notes/plan.md`),
      "# Plan",
    );
    const v = await seriousA11yViolations(page);
    assert.deepEqual(v, [], JSON.stringify(v));
    await screenshot(page, "openai-console-light");
    assert.ok(!(await page.content()).includes(CANARY));
    assert.ok(!be.output.includes(CANARY) && !rt.output.includes(CANARY));
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
