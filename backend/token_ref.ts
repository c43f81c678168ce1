/**
 * `token_ref` values: references to secrets, never secrets. Only `env:NAME` exists.
 * @module
 */
import { ApiError } from "../shared/mod.ts";
import { Secret } from "./secret.ts";

/** `env:` followed by a portable environment variable name. */
export const TOKEN_REF_PATTERN = /^env:[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export function isTokenRef(s: unknown): s is string {
  return typeof s === "string" && TOKEN_REF_PATTERN.test(s);
}

/**
 * Resolves a ref from the Backend's environment at connect time. Fails closed:
 * an unset or empty variable throws `token_ref_unresolved` and nothing connects.
 */
export function resolveTokenRef(
  ref: string,
  env: (name: string) => string | undefined = (n) => Deno.env.get(n),
): Secret {
  if (!isTokenRef(ref)) {
    throw new ApiError("invalid_token_ref", 'token_ref must look like "env:NAME".');
  }
  const name = ref.slice(4);
  const value = env(name);
  if (!value) {
    throw new ApiError(
      "token_ref_unresolved",
      `token_ref ${ref} is not set in the Backend's environment; not connecting without it.`,
    );
  }
  return new Secret(value);
}
