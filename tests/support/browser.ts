/**
 * Real-browser test support: Debian's chromium driven by playwright-core,
 * axe-core accessibility checks, screenshots into a git-ignored folder.
 * Without chromium, browser tests are reported as ignored with the reason —
 * except under CI, where a missing browser is a failure.
 * @module
 */
import { chromium } from "playwright-core";
import type { BrowserContext, Page } from "playwright-core";

export const CHROMIUM = Deno.env.get("YOI_CHROMIUM") ?? "/usr/bin/chromium";
export const SCREENSHOT_DIR = new URL("../screenshots/", import.meta.url).pathname;

function chromiumPresent(): boolean {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
}

/** Why browser tests cannot run here, or null when they can. */
export const browserMissing: string | null = chromiumPresent()
  ? null
  : `chromium not found at ${CHROMIUM} (apt-get install -y chromium)`;

if (browserMissing) {
  if (Deno.env.get("CI")) throw new Error(`browser tests need a browser in CI: ${browserMissing}`);
  console.warn(`browser tests ignored: ${browserMissing}`);
}

/** `Deno.test` options for a browser test: ignored (with the reason printed) without chromium. */
export function browserTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({
    name: browserMissing ? `${name} (ignored: ${browserMissing})` : name,
    ignore: browserMissing !== null,
    sanitizeOps: false,
    sanitizeResources: false,
    fn,
  });
}

export interface Browser {
  context: BrowserContext;
  newPage(opts?: { colorScheme?: "light" | "dark" }): Promise<Page>;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Launches headless chromium with a fresh profile in a temp dir. */
export async function launchBrowser(): Promise<Browser> {
  const profile = await Deno.makeTempDir({ prefix: "yoi-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const close = async () => {
    await context.close().catch(() => {});
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  };
  return {
    context,
    async newPage(opts = {}) {
      const page = await context.newPage();
      if (opts.colorScheme) await page.emulateMedia({ colorScheme: opts.colorScheme });
      return page;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

// The pinned npm package, installed into node_modules by `"nodeModulesDir": "auto"`.
await import("axe-core");
const AXE_SOURCE = await Deno.readTextFile(
  new URL("../../node_modules/axe-core/axe.min.js", import.meta.url),
);

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  return (await a11yViolations(page)).filter((v) =>
    v.impact === "serious" || v.impact === "critical"
  );
}

/** Runs axe-core in the page; returns every violation, of any impact (issue 14's bar). */
export async function a11yViolations(page: Page): Promise<AxeViolation[]> {
  // Injected through the devtools protocol: the pages' CSP (rightly) refuses inline scripts.
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // deno-lint-ignore no-explicit-any
    const axe = (globalThis as any).axe;
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v: AxeViolation) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  }) as AxeViolation[];
  return result;
}

/** Saves a full-page screenshot as `tests/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await Deno.mkdir(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}${name}.png`;
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Gzip size in bytes of a body (what the wire carries with `Content-Encoding: gzip`). */
export async function gzipSize(body: Uint8Array): Promise<number> {
  const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return (await new Response(stream).arrayBuffer()).byteLength;
}
