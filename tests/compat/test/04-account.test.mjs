// Account operations through the client: updateUser, changePassword,
// changeEmail, deleteUser, listAccounts (docs/auth-wire.md §3.6–3.9, §1.3), and
// the app route GET /api/me (docs/app-api.md §7).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  COOKIE,
  ISO_MS,
  PASSWORD,
  errorShape,
  findSetCookie,
  makeClient,
  raw,
  signUpFresh,
  splitSigned,
  startServer,
  uniqueEmail,
} from "../lib/harness.mjs";
import { parseSetCookie } from "../lib/cookie-jar.mjs";

const UNAUTHORIZED = { code: "UNAUTHORIZED", message: "Unauthorized", status: 401 };
const USER_KEYS = ["createdAt", "email", "emailVerified", "id", "image", "name", "updatedAt"];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

async function signIn(email, password) {
  const c = makeClient(server);
  const res = await c.client.signIn.email({ email, password });
  return { c, ...res };
}

async function dbSession(c) {
  const { data, error } = await c.client.getSession({ query: { disableCookieCache: true } });
  assert.equal(error, null);
  return data;
}

describe("updateUser", () => {
  it("updates the name, answers {status:true} and re-sets the session cookie", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { name: "Old Name" });
    const before = (await c.client.getSession()).data.user.updatedAt;
    await new Promise((r) => setTimeout(r, 5));
    const { data, error } = await c.client.updateUser({ name: "New Name" });
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    const sc = findSetCookie(c.last().setCookies, COOKIE.sessionToken);
    assert.ok(sc, "update-user re-sets session_token");
    assert.equal(splitSigned(parseSetCookie(sc).value).value, u.token, "same token");
    assert.equal(parseSetCookie(sc).maxAge, 604800);

    // Both the cookie-cache path and the database path see the change.
    const cached = await c.client.getSession();
    assert.equal(cached.data.user.name, "New Name");
    const fromDb = await dbSession(c);
    assert.equal(fromDb.user.name, "New Name");
    assert.ok(fromDb.user.updatedAt.getTime() >= before.getTime(), "updatedAt moves forward");
  });

  it("updates the image", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const image = "https://cdn.example.com/a.png";
    const { error } = await c.client.updateUser({ image });
    assert.equal(error, null);
    assert.equal((await dbSession(c)).user.image, image);
  });

  it("email in update-user answers 400 EMAIL_CAN_NOT_BE_UPDATED", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const { error } = await c.client.updateUser({ email: uniqueEmail() });
    assert.deepEqual(errorShape(error), {
      code: "EMAIL_CAN_NOT_BE_UPDATED",
      message: "Email can not be updated",
      status: 400,
    });
  });

  it("an empty update answers 400 'No fields to update'", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const r = await raw(server, "/api/auth/update-user", { method: "POST", body: {}, jar: c.jar });
    assert.equal(r.status, 400);
    assert.equal(r.json?.message, "No fields to update");
  });

  it("without a session answers 401", async () => {
    const c = makeClient(server);
    const { error } = await c.client.updateUser({ name: "x" });
    assert.deepEqual(errorShape(error), UNAUTHORIZED);
  });
});

describe("changePassword", () => {
  it("wrong current password answers 400 INVALID_PASSWORD", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const { data, error } = await c.client.changePassword({ currentPassword: "not-my-password", newPassword: "newpassword456" });
    assert.equal(data, null);
    assert.deepEqual(errorShape(error), { code: "INVALID_PASSWORD", message: "Invalid password", status: 400 });
  });

  it("a too short new password answers 400 PASSWORD_TOO_SHORT", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const { error } = await c.client.changePassword({ currentPassword: PASSWORD, newPassword: "short" });
    assert.deepEqual(errorShape(error), { code: "PASSWORD_TOO_SHORT", message: "Password too short", status: 400 });
  });

  it("changes the password: new one signs in, old one fails; other sessions survive", async () => {
    const a = makeClient(server);
    const u = await signUpFresh(a, { name: "Pw User" });
    const other = await signIn(u.email, PASSWORD);
    assert.equal(other.error, null);

    const newPassword = "brand-new-password-1";
    const { data, error } = await a.client.changePassword({ currentPassword: PASSWORD, newPassword });
    assert.equal(error, null);
    assert.deepEqual(Object.keys(data).sort(), ["token", "user"]);
    assert.equal(data.token, null);
    assert.deepEqual(Object.keys(data.user).filter((k) => k !== "image").sort(), USER_KEYS.filter((k) => k !== "image"));
    assert.equal(data.user.id, u.user.id);
    assert.ok(data.user.createdAt instanceof Date);
    for (const f of ["createdAt", "updatedAt"]) assert.match(JSON.parse(a.last().text).user[f], ISO_MS);

    assert.ok(await dbSession(a), "caller stays signed in");
    assert.ok(await dbSession(other.c), "without revokeOtherSessions other sessions survive");

    const oldTry = await signIn(u.email, PASSWORD);
    assert.deepEqual(errorShape(oldTry.error), {
      code: "INVALID_EMAIL_OR_PASSWORD",
      message: "Invalid email or password",
      status: 401,
    });
    const newTry = await signIn(u.email, newPassword);
    assert.equal(newTry.error, null);
    assert.equal(newTry.data.user.id, u.user.id);
  });

  it("with revokeOtherSessions:true returns a new token, re-sets the cookie and kills the other sessions", async () => {
    const a = makeClient(server);
    const u = await signUpFresh(a);
    const other = await signIn(u.email, PASSWORD);
    assert.equal(other.error, null);

    const newPassword = "another-new-password-2";
    const { data, error } = await a.client.changePassword({
      currentPassword: PASSWORD,
      newPassword,
      revokeOtherSessions: true,
    });
    assert.equal(error, null);
    assert.equal(typeof data.token, "string");
    assert.notEqual(data.token, u.token);
    assert.equal(data.user.id, u.user.id);
    const sc = findSetCookie(a.last().setCookies, COOKIE.sessionToken);
    assert.ok(sc, "new session cookie set");
    assert.equal(splitSigned(parseSetCookie(sc).value).value, data.token);

    const mine = await dbSession(a);
    assert.ok(mine, "caller is signed in with the new session");
    assert.equal(mine.session.token, data.token);
    assert.equal(await dbSession(other.c), null, "other session revoked");
    const list = await a.client.listSessions();
    assert.deepEqual(list.data.map((s) => s.token), [data.token]);

    assert.equal((await signIn(u.email, PASSWORD)).error?.status, 401);
    assert.equal((await signIn(u.email, newPassword)).error, null);
  });

  it("without a session answers 401", async () => {
    const c = makeClient(server);
    const { error } = await c.client.changePassword({ currentPassword: PASSWORD, newPassword: "whatever-123" });
    assert.deepEqual(errorShape(error), UNAUTHORIZED);
  });
});

describe("changeEmail (unverified user, no verification mail)", () => {
  it("changes the email immediately; sign-in works with the new address only", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const newEmail = uniqueEmail("Changed").replace("@example.com", "@Example.com");
    const { data, error } = await c.client.changeEmail({ newEmail });
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    const s = await dbSession(c);
    assert.equal(s.user.email, newEmail.toLowerCase(), "stored lower-cased");
    assert.equal(s.user.emailVerified, false);
    const cached = await c.client.getSession();
    assert.equal(cached.data.user.email, newEmail.toLowerCase(), "cookie cache refreshed too");

    assert.equal((await signIn(newEmail.toLowerCase(), PASSWORD)).error, null);
    assert.equal((await signIn(u.email, PASSWORD)).error?.code, "INVALID_EMAIL_OR_PASSWORD");
  });

  it("the same email answers 400 'Email is the same'", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const { data, error } = await c.client.changeEmail({ newEmail: u.email });
    assert.equal(data, null);
    assert.equal(error.status, 400);
    assert.equal(error.message, "Email is the same");
  });

  it("an email owned by someone else answers 200 {status:true} without changing anything", async () => {
    const other = await signUpFresh(makeClient(server));
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const { data, error } = await c.client.changeEmail({ newEmail: other.email });
    assert.equal(error, null);
    assert.deepEqual(data, { status: true });
    assert.equal((await dbSession(c)).user.email, u.email, "unchanged");
    assert.equal((await signIn(other.email, PASSWORD)).data?.user.id, other.user.id, "other user untouched");
  });

  it("an invalid email answers 400 VALIDATION_ERROR", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const { error } = await c.client.changeEmail({ newEmail: "not-an-email" });
    assert.deepEqual(errorShape(error), {
      code: "VALIDATION_ERROR",
      message: "[body.newEmail] Invalid email address",
      status: 400,
    });
  });
});

describe("listAccounts", () => {
  it("returns the credential account without secrets", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const { data, error } = await c.client.listAccounts();
    assert.equal(error, null);
    assert.ok(Array.isArray(data));
    assert.equal(data.length, 1);
    const acc = data[0];
    assert.equal(acc.providerId, "credential");
    assert.equal(acc.accountId, u.user.id);
    assert.equal(acc.userId, u.user.id);
    assert.equal(typeof acc.id, "string");
    assert.ok(acc.id.length > 0);
    assert.deepEqual(acc.scopes, []);
    assert.ok(acc.createdAt instanceof Date);
    assert.ok(acc.updatedAt instanceof Date);
    for (const secret of ["password", "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt", "refreshTokenExpiresAt", "scope"]) {
      assert.equal(secret in acc, false, `${secret} must not be exposed`);
    }
    const rawAcc = JSON.parse(c.last().text)[0];
    assert.match(rawAcc.createdAt, ISO_MS);
    assert.match(rawAcc.updatedAt, ISO_MS);
  });

  it("without a session answers 401", async () => {
    const c = makeClient(server);
    const { error } = await c.client.listAccounts();
    assert.deepEqual(errorShape(error), UNAUTHORIZED);
  });
});

describe("deleteUser", () => {
  it("a wrong password answers 400 INVALID_PASSWORD and deletes nothing", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const { error } = await c.client.deleteUser({ password: "not-my-password" });
    assert.deepEqual(errorShape(error), { code: "INVALID_PASSWORD", message: "Invalid password", status: 400 });
    assert.equal((await signIn(u.email, PASSWORD)).error, null);
  });

  it("with the password: deletes the user, its sessions and cookies", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const other = await signIn(u.email, PASSWORD);
    const { data, error } = await c.client.deleteUser({ password: PASSWORD });
    assert.equal(error, null);
    assert.deepEqual(data, { success: true, message: "User deleted" });
    const sc = findSetCookie(c.last().setCookies, COOKIE.sessionToken);
    assert.ok(sc, "session cookie expired");
    assert.equal(parseSetCookie(sc).maxAge, 0);
    assert.equal(c.jar.has(COOKIE.sessionToken), false);

    const s = await c.client.getSession();
    assert.equal(s.data, null);
    assert.equal(s.error, null);
    assert.equal(await dbSession(other.c), null, "other sessions deleted");
    assert.equal((await signIn(u.email, PASSWORD)).error?.code, "INVALID_EMAIL_OR_PASSWORD");
    // the address is free again
    const again = await makeClient(server).client.signUp.email({ name: "Again", email: u.email, password: PASSWORD });
    assert.equal(again.error, null);
    assert.notEqual(again.data.user.id, u.user.id);
  });

  it("without a password on a fresh session deletes the user", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const { data, error } = await c.client.deleteUser();
    assert.equal(error, null);
    assert.deepEqual(data, { success: true, message: "User deleted" });
    assert.equal((await signIn(u.email, PASSWORD)).error?.status, 401);
  });

  it("without a session answers 401", async () => {
    const c = makeClient(server);
    const { error } = await c.client.deleteUser({ password: PASSWORD });
    assert.deepEqual(errorShape(error), UNAUTHORIZED);
  });
});

describe("GET /api/me", () => {
  it("returns the session user and a lazily created free profile", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { name: "Me User" });
    const r = await raw(server, "/api/me", { jar: c.jar });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(Object.keys(r.json).sort(), ["profile", "user"]);
    const { user, profile } = r.json;
    assert.equal(user.id, u.user.id);
    assert.equal(user.email, u.email);
    assert.equal(user.name, "Me User");
    assert.equal(user.emailVerified, false);
    assert.equal(user.image ?? null, null);
    assert.match(user.createdAt, ISO_MS);
    assert.match(user.updatedAt, ISO_MS);
    assert.deepEqual(Object.keys(profile).sort(), [
      "accountType",
      "createdAt",
      "creditsAdGraphics",
      "creditsProductShoots",
      "updatedAt",
      "userId",
    ]);
    assert.equal(profile.userId, u.user.id);
    assert.equal(profile.accountType, "free");
    assert.equal(profile.creditsProductShoots, 1);
    assert.equal(profile.creditsAdGraphics, 1);
    assert.match(profile.createdAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/, "whole-second storage → .000");
    assert.match(profile.updatedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);

    const again = await raw(server, "/api/me", { jar: c.jar });
    assert.equal(again.status, 200);
    assert.deepEqual(again.json.profile, profile, "the profile is created once");
    assert.deepEqual(r.setCookies.filter((s) => !s.startsWith("better-auth.")), [], "no app cookies");
  });

  it("answers 401 after sign-out", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    await c.client.signOut();
    const r = await raw(server, "/api/me", { jar: c.jar });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, "UNAUTHORIZED");
  });
});
