/**
 * The Workspace Browser: SSR pages, island bundles and the stylesheet, as a
 * Hono app the Backend mounts. Pages read data through the typed client in
 * `shared/`, calling the Backend's own HTTP surface in-process.
 * @module
 */
import { Hono } from "hono";
import { fileURLToPath as fromFileUrl } from "node:url";
import { ApiClientError } from "../../shared/api_request.ts";
import { WorkspaceClient } from "../../shared/client.ts";
import { isApiPath } from "../../shared/routes/backend_paths.ts";
import { AppLayout } from "./components/layout.tsx";
import { ErrorNotice } from "./components/diagnostics.tsx";
import { ISLAND_PREFIX, IslandBundler, renderDocument } from "./kit/mod.ts";
import type { PageResult, Route, RouteContext } from "./route.ts";
import settingsOverview from "./routes/settings/index.tsx";
import runtimeConnections from "./routes/settings/runtime_connections.tsx";
import runtimeInventory from "./routes/settings/runtimes.tsx";
import backendSettings from "./routes/settings/backend.tsx";
import workersList from "./routes/workers/index.tsx";
import workersNew from "./routes/workers/new.tsx";
import workerConsole from "./routes/runtimes/worker_console.tsx";
import { LoginPage } from "./routes/login.tsx";
import {
  clearedSessionCookie,
  readCookie,
  safeNext,
  SESSION_COOKIE,
  sessionCookie,
} from "../../shared/session_cookie.ts";
import { secretsEqual } from "../../shared/http.ts";
import { ApiError, ERROR_CODES, type ErrorBody } from "../../shared/error_codes.ts";

export interface WebAppOptions {
  /** The Backend's own fetch handler; SSR calls it in-process. */
  api: (req: Request) => Response | Promise<Response>;
  /** The Backend's origin, e.g. `http://127.0.0.1:8787` (used as SSR Host). */
  origin: string;
  adminToken?: string;
  /** Browser login (DESIGN §8): set with an admin token; serves `/login` and `/logout`. */
  login?: LoginOptions;
  /** Rebuild islands when sources change (for `deno task dev`). */
  dev?: boolean;
}

/** What `/login` and `/logout` need: the Backend's session store and login limiter. */
export interface LoginOptions {
  token: string;
  sessions: {
    create(): Promise<string>;
    touch(id: string | undefined): Promise<string | null>;
    revoke(id: string | undefined): Promise<void>;
  };
  limiter: { blocked(addr: string): boolean; fail(addr: string): void };
}

/** Largest accepted login form body. */
const LOGIN_BODY_MAX = 8192;

/** Every page, by path: the one place to find a page's handler. */
export const PAGES: [string, Route][] = [
  ["/settings", settingsOverview],
  ["/settings/runtime-connections", runtimeConnections],
  ["/settings/runtimes", runtimeInventory],
  ["/settings/backend", backendSettings],
  ["/workers", workersList],
  ["/workers/new", workersNew],
  ["/runtimes/:runtime_id/workers/:worker_id", workerConsole],
];

const STYLES = await Deno.readFile(fromFileUrl(new URL("./static/styles.css", import.meta.url)));
const STYLES_HASH = Array.from(
  new Uint8Array(await crypto.subtle.digest("SHA-256", STYLES)).slice(0, 6),
  (b) => b.toString(16).padStart(2, "0"),
).join("");
/** The stylesheet's content-hashed URL. */
export const STYLESHEET = `/static/styles.${STYLES_HASH}.css`;
const IMMUTABLE = "public, max-age=31536000, immutable";

export interface WebApp {
  app: Hono;
  bundler: IslandBundler;
}

export function createWebApp(opts: WebAppOptions): WebApp {
  const app = new Hono();
  const bundler = new IslandBundler({ dev: opts.dev });
  const host = new URL(opts.origin).host;
  const client = new WorkspaceClient(opts.origin, {
    adminToken: opts.adminToken,
    fetch: (input, init) => {
      const req = new Request(input, init);
      req.headers.set("host", host);
      return Promise.resolve(opts.api(req));
    },
  });

  app.get(STYLESHEET, () =>
    new Response(STYLES, {
      headers: { "content-type": "text/css; charset=utf-8", "cache-control": IMMUTABLE },
    }));

  app.get(`${ISLAND_PREFIX}:file`, async (c) => {
    const asset = (await bundler.get()).assets.get(c.req.path);
    if (!asset) return c.text("Not found", 404);
    return new Response(asset.body as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": asset.type, "cache-control": IMMUTABLE },
    });
  });

  app.get("/", (c) => c.redirect("/settings", 302));

  if (opts.login) registerLogin(app, opts.login, bundler);

  const render = async (page: PageResult) => {
    const { html } = renderDocument(
      { title: `${page.title} · yoi workspace`, stylesheet: STYLESHEET },
      page.body,
      await bundler.get(),
    );
    return new Response(html, {
      status: page.status ?? 200,
      headers: {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": CSP,
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
      },
    });
  };

  for (const [path, route] of PAGES) {
    app.get(path, async (c) => {
      const ctx: RouteContext = { client, params: c.req.param(), url: new URL(c.req.url) };
      let page: PageResult;
      try {
        page = await route(ctx);
      } catch (e) {
        if (wantsJson(c.req.header("accept"))) return jsonError(e);
        page = errorPage(e);
      }
      if (wantsJson(c.req.header("accept")) && page.error) {
        return jsonError(page.error, page.status);
      }
      return await render(page);
    });
  }

  // A page that does not exist is a page too: HTML for people, JSON stays for the APIs.
  app.get("*", async (c, next) => {
    const path = c.req.path;
    if (isApiPath(path) || path.startsWith(ISLAND_PREFIX)) {
      return await next();
    }
    if (wantsJson(c.req.header("accept"))) {
      return jsonError(new ApiError("not_found", `No page or route at ${safePath(path)}.`));
    }
    return await render(notFoundPage());
  });

  return { app, bundler };
}

const PAGE_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/**
 * `GET /login` (the form), `POST /login` (token → session cookie, 303 to `next`; a wrong token
 * is 401 with the form again, the 11th failure of an address within a minute 429) and
 * `POST /logout` (ends the session, 303 to `/login`).
 */
function registerLogin(app: Hono, login: LoginOptions, bundler: IslandBundler): void {
  const page = async (next: string, status: number, error?: string, cookie?: string) => {
    const { html } = renderDocument(
      { title: "Log in · yoi workspace", stylesheet: STYLESHEET },
      <LoginPage next={next} error={error} />,
      await bundler.get(),
    );
    const headers: Record<string, string> = {
      ...PAGE_HEADERS,
      "content-security-policy": CSP,
      "content-type": "text/html; charset=utf-8",
    };
    if (cookie) headers["set-cookie"] = cookie;
    return new Response(html, { status, headers });
  };
  const secure = (req: Request) => new URL(req.url).protocol === "https:";
  const addressOf = (env: unknown) =>
    (env as { remoteAddr?: { hostname?: string } } | undefined)?.remoteAddr?.hostname ?? "local";

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (await login.sessions.touch(readCookie(c.req.header("cookie") ?? null, SESSION_COOKIE))) {
      return new Response(null, { status: 303, headers: { location: next } });
    }
    return page(next, 200);
  });

  app.post("/login", async (c) => {
    const addr = addressOf(c.env);
    let form: FormData | null = null;
    if (Number(c.req.header("content-length") ?? "0") <= LOGIN_BODY_MAX) {
      form = await c.req.raw.formData().catch(() => null);
    }
    const next = safeNext(form?.get("next"));
    if (login.limiter.blocked(addr)) {
      return page(next, 429, "Too many failed attempts from this address; wait a minute.");
    }
    const token = form?.get("token");
    if (typeof token === "string" && token !== "" && await secretsEqual(token, login.token)) {
      const id = await login.sessions.create();
      return new Response(null, {
        status: 303,
        headers: { location: next, "set-cookie": sessionCookie(id, secure(c.req.raw)) },
      });
    }
    login.limiter.fail(addr);
    return page(next, 401, "That is not this Backend's admin token.");
  });

  app.post("/logout", async (c) => {
    await login.sessions.revoke(readCookie(c.req.header("cookie") ?? null, SESSION_COOKIE));
    return new Response(null, {
      status: 303,
      headers: { location: "/login", "set-cookie": clearedSessionCookie(secure(c.req.raw)) },
    });
  });
}

/** Scripts only from this origin (no inline script), API and WS on this origin only. */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/**
 * Whether a client asked for JSON rather than a page (`Accept: application/json` ranked above
 * HTML): scripts and `curl -H 'Accept: application/json'` get the §5 error shape, browsers HTML.
 */
export function wantsJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const q = (type: string) => {
    let best = -1;
    for (const part of accept.split(",")) {
      const [t, ...params] = part.trim().toLowerCase().split(";");
      if (t.trim() !== type) continue;
      const qp = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
      best = Math.max(best, qp ? Number(qp.slice(2)) || 0 : 1);
    }
    return best;
  };
  const json = q("application/json");
  return json > 0 && json >= q("text/html");
}

/** A path echoed in a message: printable ASCII only, bounded. */
function safePath(path: string): string {
  const clean = path.replace(/[^\x21-\x7e]/g, "?");
  return clean.length > 80 ? `${clean.slice(0, 80)}…` : clean;
}

/** The §5 error body for a page URL asked for as JSON. */
function jsonError(e: unknown, status?: number): Response {
  const body: ErrorBody = e instanceof ApiError ? e.toBody() : {
    error: { code: "internal_error", message: "The Backend hit an unexpected error." },
    diagnostics: [],
  };
  const code = status ??
    (e instanceof ApiClientError && e.httpStatus >= 400
      ? e.httpStatus
      : ERROR_CODES[body.error.code] >= 400
      ? ERROR_CODES[body.error.code]
      : 500);
  return new Response(JSON.stringify(body), {
    status: code,
    headers: { ...PAGE_HEADERS, "content-type": "application/json; charset=utf-8", vary: "accept" },
  });
}

function notFoundPage(): PageResult {
  return {
    title: "Page not found",
    status: 404,
    body: (
      <AppLayout area="settings">
        <h1>Page not found</h1>
        <p class="lede">
          There is no page at this address. Try <a href="/workers">Workers</a> or{" "}
          <a href="/settings">Settings</a>.
        </p>
      </AppLayout>
    ),
  };
}

function errorPage(e: unknown): PageResult {
  const known = e instanceof ApiClientError;
  return {
    title: "Error",
    status: known && e.httpStatus >= 400 ? e.httpStatus : 500,
    body: (
      <AppLayout area="settings">
        <h1>This page could not be shown</h1>
        <ErrorNotice
          message={known ? e.message : "The Backend hit an unexpected error."}
          code={known ? e.code : undefined}
          diagnostics={known ? e.diagnostics : undefined}
        />
      </AppLayout>
    ),
  };
}
