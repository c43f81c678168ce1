/**
 * The worker console page's JavaScript, gzip: its island plus the chunks it
 * imports. The Markdown lexer (`marked`) is most of it, so this pins what the
 * console costs a browser (measured 2026-11: 3.3 KB island before Markdown,
 * 19.7 KB with it; 27.9 KB with the shared Preact chunk; 30.2 KB once the Backend client
 * took its paths from the route table, which ships as data: 0.25 KB more, so 31 KB).
 * @module
 */
import assert from "node:assert/strict";
import { bundleIslands } from "./bundler.ts";

const BUDGET = 31 * 1024;

async function gzipSize(bytes: Uint8Array): Promise<number> {
  const s = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(s).arrayBuffer()).byteLength;
}

Deno.test("the worker console page ships at most 31 KB of JavaScript (gzip)", async () => {
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
  // The ANSI parser is a separate chunk, fetched only when command output has ANSI colours.
  const dec = new TextDecoder();
  const hasParser = (u: string) => dec.decode(assets.get(u)!.body).includes("ansi-palette-");
  assert.ok(!urls.some(hasParser), "anser is not in the console's initial JavaScript");
  const lazy = [...assets.keys()].filter((u) => !urls.includes(u) && hasParser(u));
  assert.equal(lazy.length, 1, "one lazily loaded ANSI chunk");
  const lazySize = await gzipSize(assets.get(lazy[0])!.body);
  console.log(`ANSI parser chunk (loaded on first ANSI output): ${lazySize} bytes gzip`);
});
