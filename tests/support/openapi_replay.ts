/**
 * Checks live answers against an OpenAPI document: the operation is found by method and
 * path among the document's path templates, the status must be one it documents, and a JSON
 * body must validate (ajv) against the schema documented for that status. A known path with
 * an undocumented method must be 405 with `Allow` naming exactly the documented methods; an
 * unknown path 404 `not_found`. Every check is counted per operationId and status.
 * @module
 */
import assert from "node:assert/strict";
import { Ajv, type ValidateFunction } from "ajv";
import { ErrorBodySchema } from "../../shared/errors.ts";

type Json = Record<string, unknown>;
interface Op {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}
/** An OpenAPI document as far as this checker reads it. */
export interface Doc {
  paths: Record<string, Record<string, Op>>;
  components?: Json;
}

const METHODS = ["get", "post", "patch", "put", "delete"];
/** Where answers to paths or methods the document does not have are counted. */
export const UNROUTED = "(unrouted)";

/** OpenAPI 3.0's boolean `exclusiveMinimum` as JSON Schema draft 7 spells it. */
function toDraft7(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toDraft7);
  if (typeof v !== "object" || v === null) return v;
  const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toDraft7(x)])) as Json;
  for (const [flag, bound] of [["exclusiveMinimum", "minimum"], ["exclusiveMaximum", "maximum"]]) {
    if (o[flag] === true) {
      o[flag] = o[bound];
      delete o[bound];
    } else if (o[flag] === false) delete o[flag];
  }
  return o;
}

function segmentsMatch(template: string, path: string): number {
  const t = template.split("/"), p = path.split("/");
  if (t.length !== p.length) return -1;
  let literals = 0;
  for (let i = 0; i < t.length; i++) {
    if (t[i].startsWith("{")) {
      if (p[i] === "") return -1;
    } else if (t[i] === p[i]) literals++;
    else return -1;
  }
  return literals;
}

/** One document's checker with its coverage. */
export class Replay {
  readonly name: string;
  readonly #doc: Doc;
  readonly #ajv = new Ajv({ strict: false, allErrors: true });
  readonly #validators = new Map<Json, ValidateFunction>();
  /** operationId → statuses answered. */
  readonly seen = new Map<string, Set<number>>();
  /** `METHOD path → status` of every answer checked, for the report. */
  readonly log: string[] = [];

  constructor(name: string, doc: Doc) {
    this.name = name;
    this.#doc = doc;
  }

  /** Every operationId of the document. */
  get operations(): string[] {
    return Object.values(this.#doc.paths).flatMap((ops) =>
      Object.entries(ops).filter(([m]) => METHODS.includes(m)).map(([, op]) => op.operationId)
    );
  }

  #validator(schema: Json): ValidateFunction {
    let v = this.#validators.get(schema);
    if (!v) {
      // `#/components/...` refs resolve against the root, so the components ride along.
      const root = toDraft7({ ...schema, components: this.#doc.components ?? {} }) as Json;
      this.#validators.set(schema, v = this.#ajv.compile(root));
    }
    return v;
  }

  /** Checks one answer; returns its parsed body. */
  check(
    method: string,
    url: string,
    res: { status: number; headers: Headers; body: string },
  ): unknown {
    const { pathname } = new URL(url, "http://x");
    const where = `${this.name}: ${method} ${pathname} → ${res.status}`;
    this.log.push(where);
    const body = res.body === "" ? undefined : JSON.parse(res.body);
    let best: { op: Op; score: number } | undefined;
    const methodsHere = new Set<string>();
    for (const [template, ops] of Object.entries(this.#doc.paths)) {
      const score = segmentsMatch(template, pathname);
      if (score < 0) continue;
      for (const m of Object.keys(ops)) if (METHODS.includes(m)) methodsHere.add(m);
      const op = ops[method.toLowerCase()];
      if (op && (!best || score > best.score)) best = { op, score };
    }
    if (!best) {
      const error = ErrorBodySchema.parse(body).error;
      if (methodsHere.size > 0) {
        assert.equal(res.status, 405, where);
        assert.equal(error.code, "method_not_allowed", where);
        const allow = (res.headers.get("allow") ?? "").split(/,\s*/).map((m) => m.toLowerCase());
        assert.deepEqual(allow.sort(), [...methodsHere].sort(), `${where}: Allow`);
      } else {
        assert.equal(res.status, 404, where);
        assert.equal(error.code, "not_found", where);
      }
      const statuses = this.seen.get(UNROUTED) ?? new Set();
      this.seen.set(UNROUTED, statuses.add(res.status));
      return body;
    }
    const { op } = best;
    const documented = op.responses[String(res.status)];
    assert.ok(
      documented,
      `${where}: ${op.operationId} does not document ${res.status} (body ${
        res.body.slice(0, 300)
      })`,
    );
    const schema = documented.content?.["application/json"]?.schema;
    if (schema) {
      const validate = this.#validator(schema);
      assert.ok(
        validate(body),
        `${where}: body does not match ${op.operationId}'s ${res.status} schema: ` +
          `${JSON.stringify(validate.errors?.slice(0, 3))} in ${res.body.slice(0, 300)}`,
      );
    } else {
      assert.equal(body, undefined, `${where}: ${res.status} is documented without a body`);
    }
    const statuses = this.seen.get(op.operationId) ?? new Set();
    this.seen.set(op.operationId, statuses.add(res.status));
    return body;
  }

  /** Records an answer seen by other means (a WebSocket that opened: 101). */
  opened(method: string, url: string): void {
    this.check(method, url, { status: 101, headers: new Headers(), body: "" });
  }
}
