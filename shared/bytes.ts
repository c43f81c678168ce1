/**
 * Byte helpers shared by the runtime's store, the Backend's audit log and HTTP pool, and the
 * bench: one copy instead of one per module.
 * @module
 */

/** The parts as one array; the one part itself when there is one (no copy). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out;
}
