/**
 * The composition root: the Workspace Backend with the Workspace Browser's pages mounted on
 * it. The only module that sees both sides — `backend/` never imports `web/`, and `web/`
 * reaches the Backend only through the `/api` fetch handler it is given.
 * @module
 */
import { type Backend, type BackendOptions, createBackend, LoginLimiter } from "./backend/mod.ts";
import { createWebApp, ISLAND_PREFIX, STYLESHEET } from "./web/workspace/mod.ts";

/** What the Workspace needs beyond the Backend's own options. */
export interface WorkspaceOptions extends Omit<BackendOptions, "isPublicPage"> {
  /** Rebuild island bundles when web sources change (`deno task dev`). */
  dev?: boolean;
}

/**
 * Starts the Backend and mounts the pages on its app: guards, audit and the 404 rule apply
 * to pages and `/api` alike. `close()` stops both.
 */
export async function createWorkspace(opts: WorkspaceOptions): Promise<Backend> {
  const { dev, ...backendOpts } = opts;
  const backend = await createBackend({
    ...backendOpts,
    isPublicPage: (path, method) =>
      method === "GET" && (path === STYLESHEET || path.startsWith(ISLAND_PREFIX)),
  });
  const web = createWebApp({
    api: (req) => backend.app.fetch(req),
    origin: `http://127.0.0.1:${opts.port}`,
    adminToken: opts.adminToken,
    login: opts.adminToken !== undefined
      ? { token: opts.adminToken, sessions: backend.sessions, limiter: new LoginLimiter() }
      : undefined,
    dev,
  });
  backend.app.route("/", web.app);
  return {
    ...backend,
    async close() {
      await backend.close();
      await web.bundler.close();
    },
  };
}
