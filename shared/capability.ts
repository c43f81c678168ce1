/**
 * Capability tokens (DESIGN §8): the format both sides agree on. The Backend signs short-lived
 * Ed25519 JWTs (through `jose`, never hand-rolled crypto) bound to one runtime id and, for
 * mutating requests, to one method and path; a runtime started with `--trust-key` verifies
 * them. Not exported from `shared/mod.ts`: the browser bundle never needs it.
 * @module
 */
import { calculateJwkThumbprint } from "jose";

/** JWS algorithm (WebCrypto Ed25519). */
export const CAPABILITY_ALG = "Ed25519";
/** `typ` header of a capability token, so no other JWT signed by the key is accepted. */
export const CAPABILITY_TYP = "yoi-cap+jwt";
/** Longest accepted life (`exp - iat`), seconds. */
export const CAPABILITY_MAX_LIFE_SEC = 60;
/** Clock skew tolerated between Backend and runtime, seconds. */
export const CAPABILITY_SKEW_SEC = 30;
/** Prefix of a public key as `GET /api/backend` shows it and `--trust-key` takes it. */
export const PUBLIC_KEY_PREFIX = "ed25519:";

/** `ed25519:` + the base64url raw public key: one pasteable string. */
export function formatPublicKey(x: string): string {
  return `${PUBLIC_KEY_PREFIX}${x}`;
}

/**
 * The base64url raw key (`x`) of a public key string; throws a plain Error naming the expected
 * form (the value is a public key, echoing it is harmless but not needed).
 */
export function parsePublicKey(s: string): string {
  const t = s.trim();
  const x = t.startsWith(PUBLIC_KEY_PREFIX) ? t.slice(PUBLIC_KEY_PREFIX.length) : "";
  if (!/^[A-Za-z0-9_-]{43}$/.test(x)) {
    throw new Error(`a trust key looks like "${PUBLIC_KEY_PREFIX}" + 43 base64url characters`);
  }
  return x;
}

/** The key id (`kid`, and the token's `iss`): the RFC 7638 thumbprint of the public key. */
export function keyIdOf(x: string): Promise<string> {
  return calculateJwkThumbprint({ kty: "OKP", crv: "Ed25519", x });
}
