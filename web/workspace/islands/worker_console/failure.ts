/**
 * How the console explains a failed request: the error's code, message and HTTP status, and
 * one sentence per code. The sentences are loaded with the first error (a separate chunk), so
 * they stay out of the page's JavaScript budget.
 * @module
 */
import { ApiClientError } from "../../../../shared/browser_client.ts";
import type { ErrorCode } from "../../../../shared/error_codes.ts";

/** A failed request as the console shows it. */
export interface Failure {
  message: string;
  code?: ErrorCode;
  /** 0 when the Backend did not answer at all. */
  status?: number;
}

/** What `e` says about the failure; anything but an API error is "failed unexpectedly". */
export function failure(e: unknown): Failure {
  if (e instanceof ApiClientError) {
    return { message: e.message, code: e.code, status: e.httpStatus };
  }
  return { message: "The request failed unexpectedly." };
}

/** The sentence per code: empty until `loadSentences` resolved. */
let sentence: (code: string | undefined, runtimeId: string) => string = () => "";

/** Loads the sentences once they are needed (a failed load leaves them empty). */
export const loadSentences = (): Promise<unknown> =>
  import("../../components/error_text.ts").then((m) => sentence = m.errorSentence, () => {});

/** The code's own sentence and the server's message. */
export async function explain(e: ApiClientError, runtimeId: string): Promise<string> {
  await loadSentences();
  return `${sentence(e.code, runtimeId)} ${e.message}`;
}

/** The headline of a failure notice: no answer at all, the code's sentence, or a generic one. */
export function failureTitle(f: Failure, runtimeId: string): string {
  return f.status === 0
    ? "The Backend could not be reached."
    : sentence(f.code, runtimeId) || "That did not succeed.";
}
