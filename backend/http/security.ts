/**
 * Request guards for the Backend's `/api` and pages (DESIGN §8): a Host
 * allow-list against DNS rebinding, a CSRF guard for mutating requests and
 * WebSocket upgrades, and an optional admin bearer token for non-loopback
 * listening. Each refusal is the typed error body of DESIGN §5 and never
 * echoes the offending header value.
 * @module
 */
import type { ErrorHandler, MiddlewareHandler } from "hono";
import { ApiError } from "../../shared/errors.ts";
import { bearerToken, errorResponse, isLoopbackHost, secretsEqual } from "../../shared/http.ts";
import type { AdminSessions } from "./admin_session.ts";
import { readCookie, SESSION_COOKIE } from "../../shared/session_cookie.ts";
import { isApiPath } from "../../shared/routes/mod.ts";

/** Where the Backend listens and which extra host names it answers to. */
export interface HostOptions {
  /** The listen port; every allowed Host carries it unless configured otherwise. */
  port: number;
  /** Extra names, e.g. `"yoi.lan"` (listen port implied) or `"yoi.lan:8443"`. */
  extraHosts?: string[];
  /** The address the Backend listens on; allowed too unless it is a wildcard (0.0.0.0, ::). */
  listenHost?: string;
}

/**
 * The exact `Host` header values (lower-case) the Backend accepts: the
 * loopback names with the listen port, plus the configured extra hosts.
 */
export function allowedHosts(opts: HostOptions): Set<string> {
  const { port } = opts;
  const out = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const listen = opts.listenHost?.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (listen && listen !== "0.0.0.0" && listen !== "::") {
    out.add(listen.includes(":") ? `[${listen}]:${port}` : `${listen}:${port}`);
  }
  for (const raw of opts.extraHosts ?? []) {
    const h = normalizeExtraHost(raw, port);
    if (h) out.add(h);
  }
  return out;
}

function normalizeExtraHost(raw: string, port: number): string | undefined {
  const h = raw.trim().toLowerCase();
  if (h === "") return undefined;
  // Bracketed IPv6, with or without port.
  if (h.startsWith("[")) return /\]:\d+$/.test(h) ? h : `${h}:${port}`;
  // A bare IPv6 address (more than one colon) never carries a port.
  if ((h.match(/:/g) ?? []).length > 1) return `[${h}]:${port}`;
  return /:\d+$/.test(h) ? h : `${h}:${port}`;
}

/** The request's Host header, lower-cased, if it is one of `allowed`. */
function allowedHostOf(req: Request, allowed: Set<string>): string | undefined {
  const raw = req.headers.get("host");
  if (raw === null) return undefined;
  if (allowed.has(raw)) return raw; // the usual case: already exact, no new string
  const host = raw.trim().toLowerCase();
  return host && allowed.has(host) ? host : undefined;
}

/**
 * Refuses any request whose `Host` header is missing or not an allowed host
 * with 403 `host_not_allowed`, so a DNS-rebound foreign name cannot reach the
 * Backend from a browser.
 */
export function hostGuard(opts: HostOptions): MiddlewareHandler {
  const allowed = allowedHosts(opts);
  return async (c, next) => {
    if (!allowedHostOf(c.req.raw, allowed)) {
      return errorResponse(new ApiError("host_not_allowed", "Host header is not allowed."));
    }
    await next();
  };
}

/** What {@link guards} runs besides the Host check. */
export interface GuardChains {
  /** The guards of `/api` requests, in order (CSRF, admin token, audit, body rules…). */
  api: MiddlewareHandler[];
  /** The guards of every other request (pages, the login form). */
  page: MiddlewareHandler[];
  /**
   * A plain read (GET/HEAD, not a WebSocket upgrade) passes none of the chains' checks: true
   * when no admin token is configured (every chained guard then lets reads through).
   */
  readsPass: boolean;
  /** The app's error handler: an error thrown in a chain is answered where it was thrown. */
  onError: ErrorHandler;
}

/**
 * Every guard of the Backend as one middleware (issue 15): the Host allowlist first, then —
 * unless the request is a plain read that nothing else applies to — the chain for its path,
 * in order, the way separate `app.use` layers would run them. A proxied GET so passes one
 * layer instead of seven.
 */
export function guards(hosts: HostOptions, chains: GuardChains): MiddlewareHandler {
  const allowed = allowedHosts(hosts);
  const api = chain(chains.api, chains.onError);
  const page = chain(chains.page, chains.onError);
  return (c, next) => {
    const req = c.req.raw;
    if (!allowedHostOf(req, allowed)) {
      return Promise.resolve(
        errorResponse(new ApiError("host_not_allowed", "Host header is not allowed.")),
      );
    }
    const m = req.method;
    if (chains.readsPass && (m === "GET" || m === "HEAD") && !isWebSocketUpgrade(req)) {
      return next();
    }
    return (isApiPath(c.req.path) ? api : page)(c, next);
  };
}

/** Runs middleware in order as one, with Hono's own rules for answers and errors. */
function chain(mws: MiddlewareHandler[], onError: ErrorHandler): MiddlewareHandler {
  return (c, next) => {
    const step = async (i: number): Promise<void> => {
      if (i === mws.length) {
        await next();
        return;
      }
      let res: Response | void;
      let failed = false;
      try {
        res = await mws[i](c, () => step(i + 1));
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        c.error = e;
        res = await onError(e, c);
        failed = true;
      }
      if (res && (!c.finalized || failed)) c.res = res;
    };
    return step(0);
  };
}

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Plain-form POST routes: exempt from `X-Yoi-Request`, never from the Origin check. */
const FORM_PATHS = new Set(["/login", "/logout"]);

/**
 * CSRF defence. Mutating requests (POST, PUT, PATCH, DELETE) must carry
 * `X-Yoi-Request: 1` (no cross-site form or simple request can set it) and,
 * when `Origin` is present, it must be the Backend's own origin
 * (`http://` + the allowed Host; `Origin: null` counts as foreign). WebSocket
 * upgrades, which cannot carry custom headers, are refused unless `Origin` is
 * absent or own. Refusals are 403 `csrf_rejected`.
 */
export function csrfGuard(opts: HostOptions): MiddlewareHandler {
  const allowed = allowedHosts(opts);
  return async (c, next) => {
    const req = c.req.raw;
    const method = req.method.toUpperCase();
    if (MUTATING.has(method)) {
      // The login and logout forms are plain HTML forms (DESIGN §8): no custom header, but a
      // present Origin must still be the Backend's own.
      const form = method === "POST" && FORM_PATHS.has(new URL(req.url).pathname);
      if (!form && req.headers.get("x-yoi-request")?.trim() !== "1") {
        return reject("Mutating requests must carry the X-Yoi-Request: 1 header.");
      }
      if (!originAllowed(req, allowed)) {
        return reject("Request origin is not the Backend's own origin.");
      }
    } else if (isWebSocketUpgrade(req) && !originAllowed(req, allowed)) {
      return reject("WebSocket origin is not the Backend's own origin.");
    }
    await next();
  };
}

function reject(message: string): Response {
  return errorResponse(new ApiError("csrf_rejected", message));
}

function isWebSocketUpgrade(req: Request): boolean {
  const u = req.headers.get("upgrade");
  return u !== null && u.trim().toLowerCase() === "websocket";
}

/** True when `Origin` is absent, or equals `http://` + the request's allowed Host. */
function originAllowed(req: Request, allowed: Set<string>): boolean {
  const origin = req.headers.get("origin");
  if (origin === null) return true;
  const host = allowedHostOf(req, allowed);
  if (!host) return false;
  return origin.trim().toLowerCase() === `http://${host}`;
}

const PRINCIPALS = new WeakMap<Request, string>();

/**
 * Who made a request, for the audit log: `admin-token`, `session:<hash prefix>`, or
 * `loopback` when no admin token is configured (the Backend then listens on loopback only).
 * Never a token or a session id.
 */
export function principalOf(req: Request): string {
  return PRINCIPALS.get(req) ?? "loopback";
}

/** What the admin guard needs beyond the token: browser sessions and the public paths. */
export interface AdminGuardOptions {
  /** Logged-in browser sessions (DESIGN §8); their cookie counts like the bearer token. */
  sessions?: AdminSessions;
  /** Paths served without auth: the login form and static assets (no data in them). */
  isPublic?: (path: string, method: string) => boolean;
}

/**
 * When an admin token is configured, every request must carry
 * `Authorization: Bearer <token>` (compared in constant time) or a live admin session
 * cookie. Otherwise pages (GET, not `/api`) answer 303 to `/login?next=<path>`, everything
 * else 401 `admin_token_required` with `WWW-Authenticate: Bearer`. Without a token this is a
 * no-op (loopback-only listening, see {@link assertListenAllowed}).
 */
export function adminTokenGuard(
  token: string | undefined,
  opts: AdminGuardOptions = {},
): MiddlewareHandler {
  if (token === undefined) return async (_c, next) => await next();
  return async (c, next) => {
    const req = c.req.raw;
    const path = new URL(req.url).pathname;
    if (opts.isPublic?.(path, req.method)) return await next();
    const bearer = bearerToken(req.headers.get("authorization"));
    let ok = bearer !== null && await secretsEqual(bearer, token);
    if (ok) PRINCIPALS.set(req, "admin-token");
    if (!ok && opts.sessions) {
      const session = await opts.sessions.touch(
        readCookie(req.headers.get("cookie"), SESSION_COOKIE),
      );
      if (session) PRINCIPALS.set(req, session);
      ok = session !== null;
    }
    if (!ok) {
      const page = req.method === "GET" && !isApiPath(path) && !isWebSocketUpgrade(req);
      if (page && opts.sessions) {
        const u = new URL(req.url);
        const next = encodeURIComponent(u.pathname + u.search);
        return new Response(null, { status: 303, headers: { location: `/login?next=${next}` } });
      }
      return errorResponse(
        new ApiError("admin_token_required", "A valid admin bearer token is required."),
        { "www-authenticate": "Bearer" },
      );
    }
    await next();
  };
}

/**
 * Refuses to start the Backend on a non-loopback address without an admin
 * token, since anyone on the network could otherwise drive it.
 * @throws Error when `hostname` is not loopback and `adminToken` is unset or empty
 */
export function assertListenAllowed(hostname: string, adminToken: string | undefined): void {
  if (isLoopbackHost(hostname)) return;
  if (adminToken === undefined || adminToken === "") {
    throw new Error(
      `Refusing to listen on non-loopback address "${hostname}" without an admin token; ` +
        "configure an admin token or listen on 127.0.0.1.",
    );
  }
}
