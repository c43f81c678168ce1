/**
 * The browser-facing surface: the Hono app and its middleware order, the `/api` and settings
 * handlers, guards (Host, CSRF, admin token, login), audit, the log, the event and live
 * sockets. Imports `registry/`, `settings/` and `shared/`.
 * @module
 */
export { AdminSessions, LoginLimiter } from "./admin_session.ts";
export { type Backend, BACKEND_VERSION, type BackendOptions, createBackend } from "./app.ts";
export { log } from "./log.ts";
export { assertListenAllowed } from "./security.ts";
