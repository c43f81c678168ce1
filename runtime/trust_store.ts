/**
 * Managed trust (DESIGN §8, beyond flags): the Backend keys a runtime accepts capability
 * tokens from, kept in `<data-dir>/trusted-keys.json` (mode 0600) by `deno task runtime --
 * trust add|list|revoke`. Revoked keys are kept as history and can never be trusted again,
 * and replacing the key of a name needs `--replace`, so nothing is overwritten silently.
 * @module
 */
import { dirname } from "node:path";
import { formatPublicKey, keyIdOf, parsePublicKey } from "../shared/capability.ts";

/** The file's name under the runtime's data folder. */
export const TRUST_FILE = "trusted-keys.json";

export interface TrustEntry {
  name: string;
  key: string;
  kid: string;
  added_at: string;
}

export interface RevokedEntry extends TrustEntry {
  revoked_at: string;
  reason: "revoked" | "replaced";
}

export interface TrustFile {
  version: 1;
  keys: TrustEntry[];
  revoked: RevokedEntry[];
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** A refused trust change; its message is for the operator's terminal. */
export class TrustError extends Error {}

/** Reads the trust file (empty when missing); refuses one readable by group or others. */
export async function readTrustFile(path: string): Promise<TrustFile> {
  let text: string;
  try {
    const info = await Deno.stat(path);
    if (info.mode !== null && (info.mode & 0o077) !== 0) {
      throw new TrustError(`${TRUST_FILE} must not be accessible to group or others (chmod 600)`);
    }
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { version: 1, keys: [], revoked: [] };
    throw e;
  }
  const v = JSON.parse(text) as TrustFile;
  if (v?.version !== 1 || !Array.isArray(v.keys) || !Array.isArray(v.revoked)) {
    throw new TrustError(`${TRUST_FILE} is not a trust file this runtime understands`);
  }
  return v;
}

async function writeTrustFile(path: string, v: TrustFile): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  const f = await Deno.open(tmp, { createNew: true, write: true, mode: 0o600 });
  try {
    await f.write(new TextEncoder().encode(JSON.stringify(v, null, 2) + "\n"));
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
}

/**
 * Trusts `keyText` under `name`. Refused: a revoked key, a key already trusted under another
 * name, and a different key for a name in use unless `replace` (the old key is then revoked).
 * Returns what happened, for the terminal.
 */
export async function trustAdd(
  path: string,
  keyText: string,
  opts: { name?: string; replace?: boolean; now?: Date } = {},
): Promise<string> {
  const name = opts.name ?? "backend";
  if (!NAME.test(name)) throw new TrustError("--name must match ^[a-z0-9][a-z0-9_-]{0,62}$");
  let x: string;
  try {
    x = parsePublicKey(keyText);
  } catch (e) {
    throw new TrustError((e as Error).message);
  }
  const key = formatPublicKey(x);
  const kid = await keyIdOf(x);
  const at = (opts.now ?? new Date()).toISOString();
  const v = await readTrustFile(path);
  if (v.revoked.some((r) => r.kid === kid)) {
    throw new TrustError(`key ${kid} was revoked; revoked keys are never trusted again`);
  }
  const sameKey = v.keys.find((k) => k.kid === kid);
  if (sameKey && sameKey.name === name) return `key ${kid} is already trusted as ${name}`;
  if (sameKey) throw new TrustError(`key ${kid} is already trusted as ${sameKey.name}`);
  const current = v.keys.find((k) => k.name === name);
  if (current && !opts.replace) {
    throw new TrustError(
      `${name} already trusts key ${current.kid}; pass --replace to revoke it and trust the new one`,
    );
  }
  if (current) {
    v.keys = v.keys.filter((k) => k !== current);
    v.revoked.push({ ...current, revoked_at: at, reason: "replaced" });
  }
  v.keys.push({ name, key, kid, added_at: at });
  await writeTrustFile(path, v);
  return current
    ? `trusted ${kid} as ${name}; replaced and revoked ${current.kid}`
    : `trusted ${kid} as ${name}`;
}

/** Revokes the key named `nameOrKid`; it stays in the history. */
export async function trustRevoke(
  path: string,
  nameOrKid: string,
  opts: { now?: Date } = {},
): Promise<string> {
  const v = await readTrustFile(path);
  const hit = v.keys.find((k) => k.name === nameOrKid || k.kid === nameOrKid);
  if (!hit) throw new TrustError(`no trusted key named ${nameOrKid}`);
  v.keys = v.keys.filter((k) => k !== hit);
  v.revoked.push({ ...hit, revoked_at: (opts.now ?? new Date()).toISOString(), reason: "revoked" });
  await writeTrustFile(path, v);
  return `revoked ${hit.kid} (${hit.name})`;
}

/** The trust file as lines for the terminal: trusted keys, then the revocation history. */
export async function trustList(path: string): Promise<string> {
  const v = await readTrustFile(path);
  const out = ["trusted:"];
  for (const k of v.keys) out.push(`  ${k.name}  ${k.key}  kid ${k.kid}  since ${k.added_at}`);
  if (!v.keys.length) out.push("  (none)");
  out.push("revoked:");
  for (const r of v.revoked) {
    out.push(
      `  ${r.name}  kid ${r.kid}  ${r.reason} ${r.revoked_at} (trusted since ${r.added_at})`,
    );
  }
  if (!v.revoked.length) out.push("  (none)");
  return out.join("\n");
}
