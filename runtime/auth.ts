/**
 * How a request proves itself to a Runtime (DESIGN §4, §8): the static bearer token, or a
 * capability token from a trusted Backend key. The two travel in the same header and are told
 * apart by form — a capability token is a compact JWS — so each request pays for one check:
 * a capability token is never hashed for the bearer comparison first (issue 15: that was most
 * of the runtime's CPU per request from a Backend), and a bearer token never goes to the
 * signature check unless it has the form of one.
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { ApiError, bearerToken, errorResponse } from "../shared/mod.ts";
import { type CapabilityVerifier, pathWithQuery } from "./capability.ts";

const JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A compact JWS (three base64url parts): the form of a capability token. */
export function looksLikeJws(s: string): boolean {
  return JWS.test(s);
}

/**
 * A constant-time comparison with the configured bearer token: both sides are hashed
 * (SHA-256, so neither length nor content leaks through timing) and compared with
 * `timingSafeEqual`; the configured token's hash is made once.
 */
export function bearerMatcher(token: string): (presented: string) => boolean {
  const want = createHash("sha256").update(token).digest();
  return (presented) => timingSafeEqual(createHash("sha256").update(presented).digest(), want);
}

/**
 * The auth middleware: either credential is enough — the bearer token or a capability token
 * bound to this very request (DESIGN §8). A refusal is a plain 401 with no detail.
 */
export function runtimeAuth(token?: string, trust?: CapabilityVerifier): MiddlewareHandler {
  const matches = token !== undefined ? bearerMatcher(token) : undefined;
  return async (c, next) => {
    const bearer = bearerToken(c.req.header("authorization"));
    let ok = false;
    if (bearer !== null) {
      const jws = trust !== undefined && looksLikeJws(bearer);
      if (jws) ok = await trust.verify(bearer, c.req.method, pathWithQuery(c.req.url));
      if (!ok && matches) ok = matches(bearer);
    }
    if (!ok) {
      return errorResponse(
        new ApiError("unauthorized", "A valid bearer token is required."),
        { "www-authenticate": "Bearer" },
      );
    }
    await next();
  };
}
