// Origin / CSRF checks (docs/auth-wire.md §6.1–6.3): cookie-carrying POSTs need a
// trusted Origin; sign-in/up need one whenever Fetch-Metadata headers are present.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  COOKIE,
  PASSWORD,
  SECOND_SPA_ORIGIN,
  SPA_ORIGIN,
  UNTRUSTED_ORIGIN,
  errorShape,
  makeClient,
  raw,
  rawHttp,
  signUpFresh,
  startServer,
} from "../lib/harness.mjs";

const INVALID_ORIGIN = { code: "INVALID_ORIGIN", message: "Invalid origin", status: 403 };
const MISSING_ORIGIN = { code: "MISSING_OR_NULL_ORIGIN", message: "Missing or null Origin", status: 403 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function alive(jar) {
  const c = makeClient(server, { jar: jar.clone() });
  const { data } = await c.client.getSession({ query: { disableCookieCache: true } });
  return data !== null;
}

describe("cookie-carrying requests", () => {
  it("from an untrusted Origin answer 403 INVALID_ORIGIN and change nothing", async () => {
    const a = makeClient(server);
    await signUpFresh(a, { name: "Victim" });
    const evil = makeClient(server, { jar: a.jar.clone(), origin: UNTRUSTED_ORIGIN });

    const out = await evil.client.signOut();
    assert.equal(out.data, null);
    assert.deepEqual(errorShape(out.error), INVALID_ORIGIN);

    const upd = await evil.client.updateUser({ name: "Hacked" });
    assert.deepEqual(errorShape(upd.error), INVALID_ORIGIN);

    const pw = await evil.client.changePassword({ currentPassword: PASSWORD, newPassword: "hacked-password-1" });
    assert.deepEqual(errorShape(pw.error), INVALID_ORIGIN);

    assert.equal(await alive(a.jar), true, "the session survived the rejected sign-out");
    const s = await a.client.getSession({ query: { disableCookieCache: true } });
    assert.equal(s.data.user.name, "Victim", "the rejected update changed nothing");
  });

  it("without Origin answer 403 MISSING_OR_NULL_ORIGIN", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    const noOrigin = makeClient(server, { jar: a.jar.clone(), origin: null });
    const out = await noOrigin.client.signOut();
    assert.deepEqual(errorShape(out.error), MISSING_ORIGIN);
    const upd = await noOrigin.client.updateUser({ name: "x" });
    assert.deepEqual(errorShape(upd.error), MISSING_ORIGIN);
    assert.equal(await alive(a.jar), true);
  });

  it("with the literal Origin 'null' answer 403 MISSING_OR_NULL_ORIGIN", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    const nul = makeClient(server, { jar: a.jar.clone(), origin: "null" });
    const out = await nul.client.signOut();
    assert.deepEqual(errorShape(out.error), MISSING_ORIGIN);
  });

  it("any cookie at all triggers the check (even one that is not an auth cookie)", async () => {
    const r = await raw(server, "/api/auth/sign-out", {
      method: "POST",
      origin: null,
      headers: { cookie: "unrelated=1" },
      body: {},
    });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, { message: "Missing or null Origin", code: "MISSING_OR_NULL_ORIGIN" });
  });

  it("origins match exactly on scheme, host and port", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    for (const origin of ["http://localhost:5174", "https://localhost:5173", "http://localhost.evil.com:5173"]) {
      const other = makeClient(server, { jar: a.jar.clone(), origin });
      const out = await other.client.signOut();
      assert.deepEqual(errorShape(out.error), INVALID_ORIGIN, origin);
    }
    assert.equal(await alive(a.jar), true);
  });

  it("every entry of TRUSTED_ORIGINS is trusted", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    const second = makeClient(server, { jar: a.jar.clone(), origin: SECOND_SPA_ORIGIN });
    const upd = await second.client.updateUser({ name: "From second origin" });
    assert.equal(upd.error, null);
    assert.deepEqual(upd.data, { status: true });
  });

  it("the API's own origin (BETTER_AUTH_URL) is trusted", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    const self = makeClient(server, { jar: a.jar.clone(), origin: server.baseURL });
    const upd = await self.client.updateUser({ name: "From API origin" });
    assert.equal(upd.error, null);
  });

  it("Referer is the fallback when Origin is absent", async () => {
    const a = makeClient(server);
    await signUpFresh(a);
    const post = (referer) =>
      rawHttp(server, "/api/auth/update-user", {
        method: "POST",
        headers: { cookie: a.jar.header(), referer, "content-type": "application/json" },
        body: JSON.stringify({ name: "Via Referer" }),
      });
    const ok = await post(`${SPA_ORIGIN}/settings/profile`);
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { status: true });
    const bad = await post(`${UNTRUSTED_ORIGIN}/page`);
    assert.equal(bad.status, 403);
    assert.deepEqual(bad.json, { message: "Invalid origin", code: "INVALID_ORIGIN" });
  });

  it("GET requests are not origin-checked", async () => {
    const a = makeClient(server);
    const u = await signUpFresh(a);
    const evil = makeClient(server, { jar: a.jar.clone(), origin: UNTRUSTED_ORIGIN });
    const { data, error } = await evil.client.getSession();
    assert.equal(error, null);
    assert.equal(data.user.id, u.user.id);
  });
});

describe("sign-in / sign-up without cookies (Fetch-Metadata present, as from a browser)", () => {
  it("from an untrusted Origin answer 403 INVALID_ORIGIN", async () => {
    const u = await signUpFresh(makeClient(server));
    const evil = makeClient(server, { origin: UNTRUSTED_ORIGIN });
    const si = await evil.client.signIn.email({ email: u.email, password: PASSWORD });
    assert.deepEqual(errorShape(si.error), INVALID_ORIGIN);
    assert.equal(evil.jar.has(COOKIE.sessionToken), false);
    const su = await evil.client.signUp.email({ name: "x", email: `evil-${Date.now()}@example.com`, password: PASSWORD });
    assert.deepEqual(errorShape(su.error), INVALID_ORIGIN);
  });

  it("a cross-site form navigation to sign-in answers 403 CROSS_SITE_NAVIGATION_LOGIN_BLOCKED", async () => {
    const u = await signUpFresh(makeClient(server));
    // Node's fetch forces Sec-Fetch-Mode: cors, so send this one with node:http.
    const r = await rawHttp(server, "/api/auth/sign-in/email", {
      method: "POST",
      headers: {
        origin: UNTRUSTED_ORIGIN,
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "navigate",
        "sec-fetch-dest": "document",
      },
      body: new URLSearchParams({ email: u.email, password: PASSWORD }).toString(),
    });
    assert.equal(r.status, 403);
    assert.deepEqual(r.json, {
      message: "Cross-site navigation login blocked. This request appears to be a CSRF attack.",
      code: "CROSS_SITE_NAVIGATION_LOGIN_BLOCKED",
    });
    assert.deepEqual(r.setCookies, []);
  });
});
