// Rate limiting enabled (docs/auth-wire.md §7): /sign-in* and
// /sign-up* allow 3 requests per 10 s per client and path; the 4th answers 429
// with X-Retry-After and a JSON body.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PASSWORD, makeClient, raw, signUpFresh, startServer } from "../lib/harness.mjs";

const TOO_MANY = "Too many requests. Please try again later.";

let server;
before(async () => {
  server = await startServer({ env: { RATE_LIMIT_ENABLED: "true" } });
});
after(async () => {
  await server?.stop();
});

describe("rate limiting", () => {
  it("the 4th sign-in within 10 s answers 429 with X-Retry-After; other paths are unaffected", async () => {
    const started = Date.now();
    const u = await signUpFresh(makeClient(server)); // /sign-up/email: 1 of 3

    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const c = makeClient(server);
      const { error } = await c.client.signIn.email({ email: u.email, password: i === 1 ? PASSWORD : "wrong-password" });
      statuses.push(error?.status ?? 200);
    }
    assert.deepEqual(statuses, [401, 200, 401], "first three sign-ins are processed");

    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: u.email, password: PASSWORD });
    assert.equal(data, null);
    assert.equal(error.status, 429);
    assert.equal(error.message, TOO_MANY);
    assert.equal(error.code, undefined, "no code in the 429 body");
    const ex = c.last();
    assert.deepEqual(JSON.parse(ex.text), { message: TOO_MANY });
    assert.match(ex.headers.get("content-type") ?? "", /^application\/json/);
    const retry = ex.headers.get("x-retry-after");
    assert.match(retry ?? "", /^\d+$/, `X-Retry-After is an integer number of seconds (got ${retry})`);
    assert.ok(Number(retry) >= 1 && Number(retry) <= 10, `X-Retry-After in 1..10 (got ${retry})`);
    assert.deepEqual(ex.setCookies, [], "no session cookie");
    assert.ok(Date.now() - started < 10_000, "all within the 10 s window");

    // Rejections keep counting nothing but stay rejected inside the window.
    const again = await makeClient(server).client.signIn.email({ email: u.email, password: PASSWORD });
    assert.equal(again.error?.status, 429);

    // The key is per path: sign-up (2nd request) and the default-rule paths still pass.
    const up = await makeClient(server).client.signUp.email({ name: "x", email: `rl-${Date.now()}@example.com`, password: PASSWORD });
    assert.equal(up.error, null, JSON.stringify(up.error));
    const ok = await raw(server, "/api/auth/ok");
    assert.equal(ok.status, 200);
    const gs = await raw(server, "/api/auth/get-session");
    assert.equal(gs.status, 200);
  });
});
