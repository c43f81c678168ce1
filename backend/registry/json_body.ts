/**
 * A JSON answer body passed on as the bytes a remote Runtime sent (the lean proxy path of
 * issue 15): checked at the protocol level, never parsed and re-serialised by the Backend.
 * @module
 */

/** Pre-serialised JSON, ready to be a response body. */
export class JsonBody {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** The answer as `application/json` with `status`. */
  response(status: number): Response {
    return new Response(this.bytes as Uint8Array<ArrayBuffer>, {
      status,
      headers: { "content-type": "application/json" },
    });
  }
}
