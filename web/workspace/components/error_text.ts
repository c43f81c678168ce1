/**
 * One sentence per error code, for people: the console and its page name what went wrong
 * (a malformed id is not "the runtime could not be reached"). Zod-free and small, because
 * the console island ships it; the server's own message is shown beside it.
 * @module
 */

/** Sentences with `{r}` for the runtime id; codes not listed fall back to a generic one. */
const SENTENCES: Record<string, string> = {
  invalid_id: "That is not a valid runtime or worker id.",
  body_too_large: "The input is too large to send.",
  runtime_not_found: "There is no runtime {r} on this Backend.",
  worker_not_found: "There is no such worker on runtime {r}.",
  worker_busy: "The worker is busy with a turn.",
  worker_stopped: "The worker is stopped; restore it first.",
  worker_not_stopped: "The worker is not stopped.",
  worker_not_busy: "No turn is running.",
  worker_not_paused: "The turn is not paused.",
  unsupported_operation: "Runtime {r} does not support that.",
  runtime_stopping: "Runtime {r} is shutting down.",
  runtime_at_capacity: "Runtime {r} is at capacity; try again shortly.",
  store_unavailable: "Runtime {r} cannot save to its store.",
  remote_runtime_auth_failed: "Runtime {r} refused this Backend's token.",
  remote_runtime_timeout: "Runtime {r} did not answer in time.",
  remote_runtime_unavailable: "Runtime {r} is unreachable.",
  remote_runtime_malformed_response: "Runtime {r} sent an unreadable answer.",
  remote_runtime_unsupported: "Runtime {r} does not support that.",
  remote_runtime_error: "Runtime {r} reported an error.",
  admin_token_required: "Log in again.",
  csrf_rejected: "Reload the page and try again.",
  internal_error: "The Backend hit an unexpected error.",
};

/** The sentence for `code` about runtime `runtimeId` (a generic one for unlisted codes). */
export function errorSentence(code: string | undefined, runtimeId: string): string {
  return (SENTENCES[code!] ?? "That did not succeed.").replace("{r}", runtimeId);
}
