/**
 * The last-resort handler for promise rejections nobody handled (DESIGN §11):
 * log one line with a fixed marker and keep serving, instead of the default
 * of exiting the process. Test support fails any test whose child process
 * prints the marker, so a rejection that reaches here is a bug that CI sees.
 * @module
 */

/** Printed (on stderr) each time the handler fires; tests look for it. */
export const UNHANDLED_REJECTION_MARKER = "YOI_UNHANDLED_REJECTION";

let installed = false;

/** Installs the handler once per process; `label` prefixes the log line. */
export function installLastResortHandler(label: string): void {
  if (installed) return;
  installed = true;
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault(); // keep serving
    const r = e.reason;
    const what = r instanceof Error ? `${r.name}: ${r.message}` : String(r);
    console.error(`${label}: ${UNHANDLED_REJECTION_MARKER}: ${what}`);
    if (r instanceof Error && r.stack) console.error(r.stack);
  });
}
