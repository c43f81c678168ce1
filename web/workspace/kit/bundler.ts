/**
 * Bundles every file in `islands/` with esbuild: one entry per island, one
 * shared chunk (Preact, the boot code, shared client), content-hashed file
 * names, kept in memory. In dev mode a changed source is rebuilt on the next
 * request, so an edited island is picked up without a manual build.
 * @module
 */
import * as esbuild from "esbuild";
import { basename, join } from "node:path";
import { fileURLToPath as fromFileUrl } from "node:url";

export interface Asset {
  body: Uint8Array;
  type: string;
}

export interface BundleResult {
  /** URL path of each island's entry script, by island name. */
  entries: Map<string, string>;
  /** URL paths of the chunks each island entry imports (for modulepreload). */
  imports: Map<string, string[]>;
  /** Every file served under `/_islands/`, by URL path. */
  assets: Map<string, Asset>;
}

const WEB_DIR = fromFileUrl(new URL("..", import.meta.url));
const ISLANDS_DIR = join(WEB_DIR, "islands");
const BOOT = join(WEB_DIR, "kit", "boot.ts");
export const ISLAND_PREFIX = "/_islands/";

/** Island names: the `.tsx` files in `islands/`. */
export async function islandNames(islandsDir = ISLANDS_DIR): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(islandsDir)) {
    if (e.isFile && e.name.endsWith(".tsx") && !e.name.endsWith("_test.tsx")) {
      names.push(e.name.slice(0, -4));
    }
  }
  return names.sort();
}

/** Newest modification time of the web sources the bundle depends on. */
async function sourceStamp(islandsDir: string): Promise<number> {
  let newest = 0;
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (/\.(tsx?|css)$/.test(e.name)) {
        newest = Math.max(newest, (await Deno.stat(p)).mtime?.getTime() ?? 0);
      }
    }
  };
  await walk(islandsDir);
  for (const d of ["components", "kit"]) await walk(join(WEB_DIR, d));
  for await (const e of Deno.readDir(join(WEB_DIR, "..", "..", "shared"))) {
    if (e.isFile) {
      const st = await Deno.stat(join(WEB_DIR, "..", "..", "shared", e.name));
      newest = Math.max(newest, st.mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

/** Builds all islands once. */
export async function bundleIslands(islandsDir = ISLANDS_DIR): Promise<BundleResult> {
  const names = await islandNames(islandsDir);
  const plugin: esbuild.Plugin = {
    name: "yoi-islands",
    setup(build) {
      build.onResolve(
        { filter: /^island:/ },
        (a) => ({ path: a.path.slice(7), namespace: "island" }),
      );
      build.onLoad({ filter: /.*/, namespace: "island" }, (a) => ({
        contents: `import C from ${JSON.stringify(join(islandsDir, `${a.path}.tsx`))};\n` +
          `import { boot } from ${JSON.stringify(BOOT)};\n` +
          `boot(${JSON.stringify(a.path)}, C);\n`,
        resolveDir: WEB_DIR,
        loader: "ts",
      }));
    },
  };
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(names.map((n) => [n, `island:${n}`])),
    bundle: true,
    splitting: true,
    format: "esm",
    minify: true,
    write: false,
    metafile: true,
    outdir: "/out",
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    jsx: "automatic",
    jsxImportSource: "preact",
    target: "es2022",
    absWorkingDir: join(WEB_DIR, "..", ".."),
    plugins: [plugin],
    logLevel: "silent",
  });
  const assets = new Map<string, Asset>();
  for (const f of result.outputFiles) {
    assets.set(ISLAND_PREFIX + basename(f.path), {
      body: f.contents,
      type: "text/javascript; charset=utf-8",
    });
  }
  const entries = new Map<string, string>();
  const imports = new Map<string, string[]>();
  for (const [out, meta] of Object.entries(result.metafile!.outputs)) {
    if (!meta.entryPoint) continue;
    const name = meta.entryPoint.replace(/^island:/, "");
    const url = ISLAND_PREFIX + basename(out);
    entries.set(name, url);
    imports.set(
      name,
      meta.imports.filter((i) => i.kind === "import-statement").map((i) =>
        ISLAND_PREFIX + basename(i.path)
      ),
    );
  }
  return { entries, imports, assets };
}

/** Keeps a bundle; in dev mode rebuilds it when a source file changed. */
export class IslandBundler {
  #dev: boolean;
  #current: Promise<BundleResult> | null = null;
  #stamp = -1;

  #islandsDir: string;

  /** `islandsDir` exists for tests; the app always uses `web/workspace/islands`. */
  constructor(opts: { dev?: boolean; islandsDir?: string } = {}) {
    this.#islandsDir = opts.islandsDir ?? ISLANDS_DIR;
    this.#dev = opts.dev ?? false;
  }

  async get(): Promise<BundleResult> {
    if (this.#dev) {
      const stamp = await sourceStamp(this.#islandsDir);
      if (stamp !== this.#stamp) {
        this.#stamp = stamp;
        this.#current = bundleIslands(this.#islandsDir);
      }
    }
    this.#current ??= bundleIslands(this.#islandsDir);
    return await this.#current;
  }

  /** Stops esbuild's service so the process (or a test) can exit cleanly. */
  async close(): Promise<void> {
    await esbuild.stop();
  }
}
