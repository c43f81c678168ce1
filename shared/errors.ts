/**
 * The one error shape of DESIGN §5 and the closed list of codes.
 * @module
 */
import { z } from "zod";
import { type Diagnostic, ERROR_CODES, type ErrorBody, type ErrorCode } from "./error_codes.ts";

export * from "./error_codes.ts";

export const ErrorCodeSchema = z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]);

export const Severity = z.enum(["info", "warning", "error"]);

/** A typed note attached to a response; never carries secrets, paths or URLs. */
export const DiagnosticSchema: z.ZodType<Diagnostic> = z.object({
  code: ErrorCodeSchema,
  severity: Severity,
  message: z.string(),
  runtime_id: z.string().optional(),
  file: z.string().optional(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
});

/** The body of every non-2xx response. */
export const ErrorBodySchema: z.ZodType<ErrorBody> = z.object({
  error: z.object({ code: ErrorCodeSchema, message: z.string() }),
  diagnostics: z.array(DiagnosticSchema),
});

/** Formats zod issues as one sentence that names fields but never echoes values. */
export function describeZodError(err: z.ZodError): string {
  const parts = err.issues.slice(0, 5).map((i) => {
    const where = i.path.length ? i.path.join(".") : "body";
    return `${where}: ${i.message}`;
  });
  return `Invalid request: ${parts.join("; ")}`;
}
