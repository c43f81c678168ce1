/**
 * One assertion for typed API errors seen through the shared client.
 * @module
 */
import assert from "node:assert/strict";
import { ApiClientError } from "../../shared/client.ts";

/** Asserts that `p` rejects with an ApiClientError of `status` and `code`. */
export async function rejectsWith(
  p: Promise<unknown>,
  status: number,
  code: string,
  what: string,
): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof ApiClientError, `${what}: ${e}`);
    assert.equal(e.httpStatus, status, `${what}: ${e.code} ${e.message}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    return true;
  });
}
