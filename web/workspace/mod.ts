/**
 * The Workspace Browser's public surface: the Hono app the Backend mounts.
 * @module
 */
export { createWebApp, PAGES, STYLESHEET, type WebApp, type WebAppOptions } from "./app.tsx";
export { ISLAND_PREFIX } from "./kit/mod.ts";
