/**
 * The admin session cookie (DESIGN §8), shared by the Backend's guard and the login page:
 * pure helpers, no state. The sessions themselves live in `backend/http/admin_session.ts`.
 * @module
 */

/** The session cookie's name. */
export const SESSION_COOKIE = "yoi_session";

/** The value of cookie `name` in a `Cookie` header. */
export function readCookie(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** `Set-Cookie` for a new session (Secure when the request came over https). */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/` +
    (secure ? "; Secure" : "");
}

/** `Set-Cookie` that removes the session cookie. */
export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` +
    (secure ? "; Secure" : "");
}

/** A `next` target that stays on this origin: a path, never `//host` or a scheme. */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/")) return "/settings";
  // deno-lint-ignore no-control-regex
  if (next.startsWith("//") || /[\u0000-\u001f\\]/.test(next)) {
    return "/settings";
  }
  return next.length > 2000 ? "/settings" : next;
}
