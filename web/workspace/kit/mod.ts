/**
 * The project's own small island layer (Fresh cannot be installed here):
 * SSR with Preact, islands hydrated in place, esbuild bundles with a shared chunk.
 * @module
 */
export { collectIslands, island } from "./island.tsx";
export {
  type Asset,
  bundleIslands,
  type BundleResult,
  ISLAND_PREFIX,
  IslandBundler,
  islandNames,
} from "./bundler.ts";
export { type PageHead, renderDocument } from "./render.tsx";
