/**
 * The worker console page's JavaScript, gzip: its island plus the chunks it
 * imports. The Markdown lexer (`marked`, ~15.7 KB gzip) and the ANSI parser
 * (`anser`) are separate chunks fetched on first use, so a console that shows
 * no model answer never loads the lexer (measured 2026-11: 30.7 KB with
 * `marked` in the island, 15.4 KB without it; 16.1 KB once the island was split
 * into `islands/worker_console/`).
 * @module
 */
import assert from "node:assert/strict";
import { bundleIslands } from "./bundler.ts";

const BUDGET = 20 * 1024;

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const s = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(s).arrayBuffer()).byteLength;
}

Deno.test("the worker console page ships at most 20 KB of JavaScript (gzip); lexers load lazily", async () => {
  const { entries, imports, assets } = await bundleIslands();
  const entry = entries.get("worker_console");
  assert.ok(entry, "the console island is bundled");
  const urls = [entry, ...(imports.get("worker_console") ?? [])];
  let total = 0;
  for (const u of urls) {
    const a = assets.get(u);
    assert.ok(a, u);
    total += await gzipSize(a.body);
  }
  console.log(`worker console JavaScript: ${total} bytes gzip (${urls.length} files)`);
  assert.ok(total <= BUDGET, `${total} bytes gzip exceeds the ${BUDGET}-byte budget`);
  const dec = new TextDecoder();
  // Each parser is one separate chunk, fetched only when the transcript needs it.
  for (
    const [what, marker] of [
      ["ANSI parser (loaded on first ANSI output)", "ansi-palette-"],
      ["Markdown lexer (loaded on first model answer)", "Infinite loop on byte"],
    ]
  ) {
    const holds = (u: string) => dec.decode(assets.get(u)!.body).includes(marker);
    assert.ok(!urls.some(holds), `the ${what} is not in the console's initial JavaScript`);
    const lazy = [...assets.keys()].filter((u) => !urls.includes(u) && holds(u));
    assert.equal(lazy.length, 1, `one lazily loaded chunk: ${what}`);
    console.log(`${what}: ${await gzipSize(assets.get(lazy[0])!.body)} bytes gzip`);
  }
});
