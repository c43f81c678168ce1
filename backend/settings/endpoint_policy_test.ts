import assert from "node:assert/strict";
import { ApiError } from "../../shared/mod.ts";
import {
  addressProblem,
  assertEndpointAllowed,
  EndpointGuard,
  parseIPv4,
  parseIPv6,
} from "./endpoint_policy.ts";
import { REFUSED_ENDPOINTS } from "../../tests/support/refused_endpoints.ts";

const code = async (p: Promise<unknown>) => {
  try {
    await p;
    return null;
  } catch (e) {
    return e instanceof ApiError ? e.code : String(e);
  }
};

Deno.test("parseIPv4 reads decimal, octal, hex and short forms", () => {
  const meta = 169 * 2 ** 24 + 254 * 2 ** 16 + 169 * 256 + 254;
  for (
    const s of [
      "169.254.169.254",
      "2852039166",
      "0251.0376.0251.0376",
      "0xa9fea9fe",
      "0xa9.0xfe.0xa9.0xfe",
      "169.254.43518",
    ]
  ) {
    assert.equal(parseIPv4(s), meta, s);
  }
  assert.equal(parseIPv4("127.1"), 127 * 2 ** 24 + 1);
  for (const s of ["256.1.1.1", "1.2.3.4.5", "example", "08.1.1.1", "4294967296"]) {
    assert.equal(parseIPv4(s), null, s);
  }
});

Deno.test("parseIPv6 reads compressed, bracketed and dotted-tail forms", () => {
  assert.deepEqual([...parseIPv6("[::1]")!], [...new Array(15).fill(0), 1]);
  assert.deepEqual(
    [...parseIPv6("::ffff:169.254.169.254")!],
    [...parseIPv6("::ffff:a9fe:a9fe")!],
  );
  for (const s of ["1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "127.0.0.1"]) {
    assert.equal(parseIPv6(s), null, s);
  }
});

Deno.test("addressProblem: link-local, unspecified, multicast, metadata refused; loopback and private allowed", () => {
  for (
    const bad of [
      "169.254.169.254",
      "169.254.1.1",
      "100.100.100.200",
      "0.0.0.0",
      "0",
      "224.0.0.1",
      "255.255.255.255",
      "::",
      "fe80::1",
      "febf::1",
      "ff02::1",
      "fd00:ec2::254",
      "::ffff:169.254.169.254",
      "::ffff:a9fe:a9fe",
      "64:ff9b::a9fe:a9fe",
      "::169.254.169.254",
    ]
  ) {
    assert.notEqual(addressProblem(bad), null, bad);
  }
  for (
    const ok of [
      "127.0.0.1",
      "10.0.0.5",
      "192.168.1.2",
      "172.16.0.1",
      "100.64.0.1",
      "::1",
      "fd12::1",
      "::ffff:127.0.0.1",
      "8.8.8.8",
    ]
  ) {
    assert.equal(addressProblem(ok), null, ok);
  }
});

Deno.test("assertEndpointAllowed: every spelling of the metadata address is refused", async () => {
  for (const url of [...REFUSED_ENDPOINTS, "http://169.254.169.254./"]) {
    assert.equal(await code(assertEndpointAllowed(url)), "endpoint_not_allowed", url);
  }
  assert.equal(await code(assertEndpointAllowed("http://127.0.0.1:8790")), null);
  assert.equal(await code(assertEndpointAllowed("http://[::1]:8790")), null);
});

Deno.test("assertEndpointAllowed: a name is refused when any resolved address is", async () => {
  const table: Record<string, string[]> = {
    "meta.test": ["169.254.169.254"],
    "mixed.test": ["10.0.0.5", "fe80::1"],
    "fine.test": ["10.0.0.5", "::1"],
  };
  const lookup = (h: string) =>
    table[h] ? Promise.resolve(table[h]) : Promise.reject(new Error("ENOTFOUND"));
  assert.equal(
    await code(assertEndpointAllowed("http://meta.test/", { lookup })),
    "endpoint_not_allowed",
  );
  assert.equal(
    await code(assertEndpointAllowed("http://mixed.test/", { lookup })),
    "endpoint_not_allowed",
  );
  assert.equal(await code(assertEndpointAllowed("http://fine.test/", { lookup })), null);
  // A name that does not resolve: saved (checked again later), refused before connecting.
  assert.equal(await code(assertEndpointAllowed("http://gone.test/", { lookup })), null);
  assert.equal(
    await code(assertEndpointAllowed("http://gone.test/", { lookup, unresolvable: "refuse" })),
    "remote_runtime_unavailable",
  );
  // The system resolver is used by default: localhost (hosts file) is loopback, allowed.
  assert.equal(await code(assertEndpointAllowed("http://localhost:1/")), null);
});

Deno.test("EndpointGuard re-checks a name after its ttl and refuses a literal at once", async () => {
  let answer = ["10.0.0.5"];
  let lookups = 0;
  const lookup = () => {
    lookups++;
    return Promise.resolve(answer);
  };
  const g = new EndpointGuard(new URL("http://rebind.test/"), { lookup, ttlMs: 0 });
  await g.check();
  answer = ["169.254.169.254"]; // the name now points at the metadata service
  assert.equal(await code(g.check()), "endpoint_not_allowed");
  assert.equal(lookups, 2);
  assert.throws(
    () => new EndpointGuard(new URL("http://2852039166/")),
    (e) => e instanceof ApiError && e.code === "endpoint_not_allowed",
  );
});
