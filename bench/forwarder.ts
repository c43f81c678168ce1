/**
 * Anchor: the smallest reverse proxy Deno offers out of the box — `Deno.serve`
 * plus `fetch` — so the table shows what one extra hop costs on this runtime
 * before any routing, guards or validation. Not product code.
 *
 *   deno run --allow-net=127.0.0.1 bench/forwarder.ts http://127.0.0.1:PORT
 * @module
 */
const upstream = Deno.args[0];
if (!upstream?.startsWith("http://127.0.0.1:")) throw new Error("usage: forwarder.ts UPSTREAM");

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => console.log(`forwarder listening on http://127.0.0.1:${port}`),
}, async (req) => {
  const { pathname, search } = new URL(req.url);
  const res = await fetch(upstream + pathname + search, {
    method: req.method,
    headers: req.headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
    redirect: "manual",
  });
  return new Response(res.body, { status: res.status, headers: res.headers });
});
