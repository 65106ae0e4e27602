// Session management through the client: listSessions, revokeSession,
// revokeOtherSessions, revokeSessions (docs/auth-wire.md §3.5, §5).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { COOKIE, ISO_MS, PASSWORD, errorShape, makeClient, raw, signUpFresh, startServer } from "../lib/harness.mjs";

const SESSION_KEYS = ["createdAt", "expiresAt", "id", "ipAddress", "token", "updatedAt", "userAgent", "userId"];
const UNAUTHORIZED = { code: "UNAUTHORIZED", message: "Unauthorized", status: 401 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Is this client's session still alive in the database? (bypasses the cookie cache) */
async function alive(c) {
  const { data, error } = await c.client.getSession({ query: { disableCookieCache: true } });
  assert.equal(error, null);
  return data !== null;
}

async function signedInClients(n) {
  const a = makeClient(server);
  const u = await signUpFresh(a);
  const clients = [a];
  const tokens = [u.token];
  for (let i = 1; i < n; i++) {
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: u.email, password: PASSWORD });
    assert.equal(error, null);
    clients.push(c);
    tokens.push(data.token);
  }
  return { u, clients, tokens };
}

describe("session management", () => {
  it("listSessions returns all live sessions of the user with tokens and Date fields", async () => {
    const { u, clients, tokens } = await signedInClients(3);
    // another user's session must not show up
    await signUpFresh(makeClient(server));
    const { data, error } = await clients[0].client.listSessions();
    assert.equal(error, null);
    assert.ok(Array.isArray(data));
    assert.equal(data.length, 3);
    assert.deepEqual(data.map((s) => s.token).sort(), [...tokens].sort());
    for (const s of data) {
      assert.deepEqual(Object.keys(s).sort(), SESSION_KEYS);
      assert.equal(s.userId, u.user.id);
      for (const f of ["expiresAt", "createdAt", "updatedAt"]) assert.ok(s[f] instanceof Date, `${f} is a Date`);
    }
    const body = JSON.parse(clients[0].last().text);
    for (const s of body) for (const f of ["expiresAt", "createdAt", "updatedAt"]) assert.match(s[f], ISO_MS);
  });

  it("revokeSession kills exactly that session; the revoked client is signed out", async () => {
    const { clients, tokens } = await signedInClients(3);
    const [a, b, c] = clients;
    const { data, error } = await a.client.revokeSession({ token: tokens[1] });
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    assert.ok(findNoSessionTokenExpiry(a), "revoke-session does not clear the caller's cookies");

    // Sensitive endpoints read the database, even while b still holds a cookie cache.
    const sensitive = await b.client.revokeOtherSessions();
    assert.deepEqual(errorShape(sensitive.error), UNAUTHORIZED);

    assert.equal(await alive(b), false, "revoked session is gone");
    assert.equal(b.jar.has(COOKIE.sessionToken), false, "get-session on a dead session expires the cookie");
    const after = await b.client.getSession();
    assert.equal(after.data, null);
    assert.equal(after.error, null);
    const me = await raw(server, "/api/me", { jar: b.jar });
    assert.equal(me.status, 401);

    assert.equal(await alive(a), true);
    assert.equal(await alive(c), true);
    const list = await a.client.listSessions();
    assert.deepEqual(list.data.map((s) => s.token).sort(), [tokens[0], tokens[2]].sort());
  });

  it("revokeSession with an unknown token still answers {status:true}", async () => {
    const { clients } = await signedInClients(1);
    const { data, error } = await clients[0].client.revokeSession({ token: "x".repeat(32) });
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    assert.equal(await alive(clients[0]), true);
  });

  it("revokeSession cannot revoke another user's session", async () => {
    const victim = await signedInClients(1);
    const attacker = await signedInClients(1);
    const { data } = await attacker.clients[0].client.revokeSession({ token: victim.tokens[0] });
    assert.deepEqual(data, { status: true });
    assert.equal(await alive(victim.clients[0]), true, "victim's session survives");
  });

  it("revokeOtherSessions keeps the caller's session and kills the others", async () => {
    const { clients, tokens } = await signedInClients(3);
    const [a, b, c] = clients;
    const { data, error } = await a.client.revokeOtherSessions();
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    assert.equal(await alive(a), true);
    assert.equal(await alive(b), false);
    assert.equal(await alive(c), false);
    const list = await a.client.listSessions();
    assert.deepEqual(list.data.map((s) => s.token), [tokens[0]]);
  });

  it("revokeSessions kills every session including the caller's", async () => {
    const { clients } = await signedInClients(2);
    const [a, b] = clients;
    const { data, error } = await a.client.revokeSessions();
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    const again = await a.client.revokeSessions();
    assert.deepEqual(errorShape(again.error), UNAUTHORIZED, "the caller's session is gone too");
    assert.equal(await alive(a), false);
    assert.equal(await alive(b), false);
    const s = await a.client.getSession();
    assert.equal(s.data, null);
    assert.equal(s.error, null);
  });

  it("session endpoints without a session answer 401 UNAUTHORIZED through the client", async () => {
    const c = makeClient(server);
    for (const call of [
      () => c.client.listSessions(),
      () => c.client.revokeSession({ token: "x" }),
      () => c.client.revokeSessions(),
      () => c.client.revokeOtherSessions(),
    ]) {
      const { data, error } = await call();
      assert.equal(data, null);
      assert.deepEqual(errorShape(error), UNAUTHORIZED);
    }
  });
});

function findNoSessionTokenExpiry(c) {
  return !c.last().setCookies.some((sc) => sc.startsWith(`${COOKIE.sessionToken}=;`));
}
