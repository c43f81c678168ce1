/**
 * `deno task screenshots`: drives Debian's chromium through the main pages against a real
 * Backend process and a real remote runtime (with a few workers), in light and dark at
 * desktop (1280×800) and phone (390×844) size, and writes PNGs to the git-ignored
 * `tests/screenshots/pages/`. The README shows a few of them, copied into `docs/`.
 * @module
 */
import { BackendProcess } from "../tests/support/backend_process.ts";
import { RuntimeProcess } from "../tests/support/runtime_process.ts";
import { browserMissing, launchBrowser, SCREENSHOT_DIR } from "../tests/support/browser.ts";

if (browserMissing) {
  console.error(`screenshots need a browser: ${browserMissing}`);
  Deno.exit(1);
}

const OUT = `${SCREENSHOT_DIR}pages/`;
const VIEWPORTS = [
  { name: "desktop", width: 1280, height: 800 },
  { name: "phone", width: 390, height: 844 },
];

await using rt = await RuntimeProcess.start({ id: "build-box" });
await using be = await BackendProcess.start({
  config: `[[runtimes.remote]]\nid = "build-box"\nendpoint = "${rt.url}"\n` +
    `display_name = "Build box"\n`,
});
const { worker } = await be.client.createWorker("build-box", { display_name: "Release notes" });
await be.client.createWorker("embedded", { display_name: "Scratchpad" });
const { worker: old } = await be.client.createWorker("embedded", {
  display_name: "Old experiment",
});
await be.client.stop("embedded", old.worker_id);
await be.client.input("build-box", worker.worker_id, "Summarise the changes since v1.2");

const pages: [string, string][] = [
  ["workers", "/workers"],
  ["console", `/runtimes/build-box/workers/${worker.worker_id}`],
  ["new-worker", "/workers/new"],
  ["connections", "/settings/runtime-connections"],
  ["inventory", "/settings/runtimes"],
  ["overview", "/settings"],
];

await Deno.mkdir(OUT, { recursive: true });
await using browser = await launchBrowser();
for (const scheme of ["light", "dark"] as const) {
  const page = await browser.newPage({ colorScheme: scheme });
  for (const vp of VIEWPORTS) {
    await page.setViewportSize({ width: vp.width, height: vp.height });
    for (const [name, path] of pages) {
      await page.goto(`${be.url}${path}`);
      await page.waitForFunction(
        () => {
          const text = document.querySelector(".live-sidebar")?.textContent;
          return text !== undefined && !text.includes("Connecting");
        },
        undefined,
        { timeout: 10_000 },
      ).catch(() => {});
      const file = `${OUT}${name}-${vp.name}-${scheme}.png`;
      await page.screenshot({ path: file });
      console.log(file.slice(file.indexOf("tests/")));
    }
  }
  await page.close();
}
