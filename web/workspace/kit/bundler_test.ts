import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { IslandBundler } from "./bundler.ts";

// Inside the repo so the islands resolve `preact` from the project's node_modules.
const WEB_DIR = fileURLToPath(new URL("..", import.meta.url));

async function islandText(b: IslandBundler, name: string): Promise<string> {
  const r = await b.get();
  const url = r.entries.get(name)!;
  const files = [url, ...(r.imports.get(name) ?? [])];
  return files.map((f) => new TextDecoder().decode(r.assets.get(f)!.body)).join("\n");
}

async function writeIsland(dir: string, text: string, mtime: Date) {
  const f = `${dir}/probe.tsx`;
  await Deno.writeTextFile(f, `export default function Probe() { return <p>${text}</p>; }\n`);
  await Deno.utime(f, mtime, mtime);
}

Deno.test("dev bundler picks up an edited island without a manual rebuild; prod keeps its bundle", async () => {
  const dir = await Deno.makeTempDir({ dir: WEB_DIR, prefix: ".tmp-islands-" });
  const dev = new IslandBundler({ dev: true, islandsDir: dir });
  const prod = new IslandBundler({ islandsDir: dir });
  try {
    await writeIsland(dir, "first version", new Date(Date.now() - 60_000));
    assert.match(await islandText(dev, "probe"), /first version/);
    assert.match(await islandText(prod, "probe"), /first version/);

    await writeIsland(dir, "second version", new Date(Date.now() + 60_000));
    const edited = await islandText(dev, "probe");
    assert.match(edited, /second version/);
    assert.doesNotMatch(edited, /first version/);
    assert.match(await islandText(prod, "probe"), /first version/, "prod bundles once");

    const r = await dev.get();
    assert.match(r.entries.get("probe")!, /^\/_islands\/probe-[A-Z0-9]+\.js$/, "content-hashed");
  } finally {
    await dev.close();
    await Deno.remove(dir, { recursive: true });
  }
});
