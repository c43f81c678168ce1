import assert from "node:assert/strict";
import { ApiClientError, BrowserClient, listConnectionsIfChanged } from "./browser_client.ts";

const LIST = {
  connections: [],
  config_ok: true,
  restart_required: false,
  restart_required_keys: [],
  diagnostics: [],
};

Deno.test("listConnectionsIfChanged: sends If-None-Match, null on 304, list + ETag on 200", async () => {
  const seen: { inm: string | null; cache?: RequestCache }[] = [];
  let answer: Response;
  const client = new BrowserClient("http://b", {
    fetch: (input, init) => {
      const req = new Request(input, init);
      seen.push({ inm: req.headers.get("if-none-match"), cache: init?.cache });
      return Promise.resolve(answer);
    },
  });
  answer = Response.json(LIST, { headers: { etag: '"v1"' } });
  assert.deepEqual(await listConnectionsIfChanged(client, null), { list: LIST, etag: '"v1"' });
  answer = new Response(null, { status: 304, headers: { etag: '"v1"' } });
  assert.equal(await listConnectionsIfChanged(client, '"v1"'), null);
  assert.deepEqual(seen, [{ inm: null, cache: "no-store" }, { inm: '"v1"', cache: "no-store" }]);

  answer = Response.json(
    { error: { code: "internal_error", message: "boom" }, diagnostics: [] },
    { status: 500 },
  );
  await assert.rejects(listConnectionsIfChanged(client, '"v1"'), ApiClientError);
});
