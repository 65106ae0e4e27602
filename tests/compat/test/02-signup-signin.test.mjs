// Email sign-up, sign-in, get-session, sign-out through better-auth's own client
// (docs/auth-wire.md §1–§5: conventions, error codes, sign-up, sign-in,
// get-session, sign-out, cookies, the cookie cache).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  COOKIE,
  ISO_MS,
  IS_REFERENCE,
  PASSWORD,
  SPA_ORIGIN,
  decodeSessionData,
  errorShape,
  findSetCookie,
  makeClient,
  raw,
  sign,
  signUpFresh,
  splitSigned,
  startServer,
  uniqueEmail,
} from "../lib/harness.mjs";
import { parseSetCookie } from "../lib/cookie-jar.mjs";

const USER_KEYS = ["createdAt", "email", "emailVerified", "id", "name", "updatedAt"];
const SESSION_KEYS = ["createdAt", "expiresAt", "id", "ipAddress", "token", "updatedAt", "userAgent", "userId"];
const DAY = 24 * 60 * 60 * 1000;

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Checks a user object as revived by the client. */
function assertClientUser(user, { email, name }) {
  const keys = Object.keys(user).filter((k) => k !== "image").sort();
  assert.deepEqual(keys, USER_KEYS, "user fields (image aside)");
  assert.equal(user.image ?? null, null, "image is null");
  assert.equal(typeof user.id, "string");
  assert.ok(user.id.length > 0);
  assert.equal(user.email, email);
  assert.equal(user.name, name);
  assert.equal(user.emailVerified, false);
  assert.ok(user.createdAt instanceof Date, "createdAt revived into a Date");
  assert.ok(user.updatedAt instanceof Date, "updatedAt revived into a Date");
  assert.ok(Math.abs(user.createdAt.getTime() - Date.now()) < 120_000, "createdAt is recent");
  assert.equal("password" in user, false, "never a password");
}

/** Checks that every date field of a raw JSON user/session object is Date.toJSON() formatted. */
function assertRawDates(obj, fields, label) {
  for (const f of fields) assert.match(obj[f], ISO_MS, `${label}.${f} = ${obj[f]}`);
}

function assertSessionCookie(setCookies, token, { maxAge = 604800 } = {}) {
  const rawCookie = findSetCookie(setCookies, COOKIE.sessionToken);
  assert.ok(rawCookie, `Set-Cookie ${COOKIE.sessionToken} present; got ${JSON.stringify(setCookies)}`);
  const c = parseSetCookie(rawCookie);
  const { value, signature } = splitSigned(c.value);
  assert.equal(value, token, "cookie carries the token from the body");
  assert.equal(signature, sign(token), "cookie signature = base64(HMAC-SHA256(secret, token))");
  assert.ok(!/[+/=]/.test(c.value), "signed value is percent-encoded on the wire");
  if (maxAge === null) assert.equal(c.maxAge, undefined, "no Max-Age (browser-session cookie)");
  else assert.equal(c.maxAge, maxAge, "Max-Age");
  assert.equal(c.path, "/");
  assert.equal(c.httpOnly, true, "HttpOnly");
  assert.equal(c.secure, false, "no Secure with an http baseURL");
  assert.equal(c.sameSite, "Lax");
  return c;
}

describe("sign-up", () => {
  it("signUp.email returns {token, user} with revived dates and sets a signed session cookie", async () => {
    const c = makeClient(server);
    const email = uniqueEmail("signup");
    const { data, error } = await c.client.signUp.email({ name: "Ann", email, password: PASSWORD });
    assert.equal(error, null);
    assert.equal(typeof data.token, "string");
    assert.ok(data.token.length >= 32, "token length");
    assertClientUser(data.user, { email, name: "Ann" });

    const ex = c.last();
    assert.equal(ex.status, 200);
    assert.match(ex.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(ex.headers.get("location"), null, "no redirect on sign-up");
    const body = JSON.parse(ex.text);
    assertRawDates(body.user, ["createdAt", "updatedAt"], "user");
    if (!IS_REFERENCE) assert.equal(body.user.image, null, "image is JSON null (SQL storage)");
    assertSessionCookie(ex.setCookies, data.token);
    assert.equal(findSetCookie(ex.setCookies, COOKIE.dontRemember), undefined, "no dont_remember by default");
    assert.ok(c.jar.has(COOKIE.sessionToken));
  });

  it("lower-cases the email", async () => {
    const c = makeClient(server);
    const email = uniqueEmail("MixedCase").replace("mixedcase", "MixedCase").replace("@example.com", "@Example.COM");
    const { data, error } = await c.client.signUp.email({ name: "Mixed", email, password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.user.email, email.toLowerCase());
  });

  it("stores image, ignores unknown keys, allows an empty name", async () => {
    const c = makeClient(server);
    const email = uniqueEmail("extras");
    const image = "https://cdn.example.com/avatar.png";
    const { data, error } = await c.client.signUp.email({ name: "", email, password: PASSWORD, image, favouriteColour: "blue" });
    assert.equal(error, null, JSON.stringify(error));
    assert.equal(data.user.name, "");
    assert.equal(data.user.image, image);
    assert.equal("favouriteColour" in data.user, false);
    const s = await c.client.getSession({ query: { disableCookieCache: true } });
    assert.equal(s.data.user.image, image);
  });

  it("an empty password answers 400 VALIDATION_ERROR", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signUp.email({ name: "x", email: uniqueEmail(), password: "" });
    assert.deepEqual(errorShape(error), {
      code: "VALIDATION_ERROR",
      message: "[body.password] Too small: expected string to have >=1 characters",
      status: 400,
    });
  });

  it("duplicate email answers 422 USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL (also with other letter case)", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    for (const email of [u.email, u.email.toUpperCase()]) {
      const d = makeClient(server);
      const { data, error } = await d.client.signUp.email({ name: "Dup", email, password: PASSWORD });
      assert.equal(data, null);
      assert.deepEqual(errorShape(error), {
        code: "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
        message: "User already exists. Use another email.",
        status: 422,
      });
    }
  });

  it("password shorter than 8 answers 400 PASSWORD_TOO_SHORT", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signUp.email({ name: "Short", email: uniqueEmail(), password: "1234567" });
    assert.equal(data, null);
    assert.deepEqual(errorShape(error), { code: "PASSWORD_TOO_SHORT", message: "Password too short", status: 400 });
    assert.equal(c.jar.header(), "", "no cookies set");
  });

  it("password longer than 128 answers 400 PASSWORD_TOO_LONG", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signUp.email({ name: "Long", email: uniqueEmail(), password: "x".repeat(129) });
    assert.deepEqual(errorShape(error), { code: "PASSWORD_TOO_LONG", message: "Password too long", status: 400 });
  });

  it("password length is counted in UTF-16 code units (8 and 128 are accepted)", async () => {
    // 4 emoji = 8 UTF-16 code units (4 code points): accepted.
    const c1 = makeClient(server);
    const r1 = await c1.client.signUp.email({ name: "Emoji", email: uniqueEmail(), password: "😀😀😀😀" });
    assert.equal(r1.error, null, JSON.stringify(r1.error));
    // 7 x "é" = 7 code units (14 UTF-8 bytes): too short.
    const c2 = makeClient(server);
    const r2 = await c2.client.signUp.email({ name: "Accents", email: uniqueEmail(), password: "ééééééé" });
    assert.equal(r2.error?.code, "PASSWORD_TOO_SHORT");
    // exactly 128: accepted.
    const c3 = makeClient(server);
    const r3 = await c3.client.signUp.email({ name: "Max", email: uniqueEmail(), password: "y".repeat(128) });
    assert.equal(r3.error, null, JSON.stringify(r3.error));
    // the emoji password works for sign-in
    const c4 = makeClient(server);
    const r4 = await c4.client.signIn.email({ email: r1.data.user.email, password: "😀😀😀😀" });
    assert.equal(r4.error, null, JSON.stringify(r4.error));
  });

  it("invalid email answers 400 VALIDATION_ERROR '[body.email] Invalid email address'", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signUp.email({ name: "Bad", email: "not-an-email", password: PASSWORD });
    assert.deepEqual(errorShape(error), {
      code: "VALIDATION_ERROR",
      message: "[body.email] Invalid email address",
      status: 400,
    });
  });

  it("missing name answers 400 VALIDATION_ERROR", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signUp.email({ email: uniqueEmail(), password: PASSWORD });
    assert.deepEqual(errorShape(error), {
      code: "VALIDATION_ERROR",
      message: "[body.name] Invalid input: expected string, received undefined",
      status: 400,
    });
  });
});

describe("sign-in", () => {
  let user;
  before(async () => {
    user = await signUpFresh(makeClient(server), { name: "Signin User" });
  });

  it("signIn.email returns {redirect:false, token, user} and sets the session cookie", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: user.email, password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.redirect, false);
    assert.equal("url" in data, false, "no url without callbackURL");
    assert.equal(typeof data.token, "string");
    assert.notEqual(data.token, user.token, "a new session per sign-in");
    assertClientUser(data.user, { email: user.email, name: "Signin User" });
    const ex = c.last();
    assertRawDates(JSON.parse(ex.text).user, ["createdAt", "updatedAt"], "user");
    assertSessionCookie(ex.setCookies, data.token);
  });

  it("email lookup is case-insensitive", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: user.email.toUpperCase(), password: PASSWORD });
    assert.equal(error, null);
    assert.equal(data.user.email, user.email);
  });

  it("wrong password answers 401 INVALID_EMAIL_OR_PASSWORD", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: user.email, password: "wrong-password" });
    assert.equal(data, null);
    assert.deepEqual(errorShape(error), {
      code: "INVALID_EMAIL_OR_PASSWORD",
      message: "Invalid email or password",
      status: 401,
    });
    assert.equal(c.jar.header(), "", "no cookies set");
  });

  it("unknown email answers the same 401 INVALID_EMAIL_OR_PASSWORD", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signIn.email({ email: uniqueEmail("nobody"), password: PASSWORD });
    assert.deepEqual(errorShape(error), {
      code: "INVALID_EMAIL_OR_PASSWORD",
      message: "Invalid email or password",
      status: 401,
    });
  });

  it("malformed email answers 400 INVALID_EMAIL", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signIn.email({ email: "nope", password: PASSWORD });
    assert.deepEqual(errorShape(error), { code: "INVALID_EMAIL", message: "Invalid email", status: 400 });
  });

  it("password longer than 128 answers 400 PASSWORD_TOO_LONG, known email or not", async () => {
    for (const email of [user.email, uniqueEmail("nobody")]) {
      const c = makeClient(server);
      const { error } = await c.client.signIn.email({ email, password: "x".repeat(129) });
      assert.deepEqual(errorShape(error), { code: "PASSWORD_TOO_LONG", message: "Password too long", status: 400 });
    }
  });

  it("a trusted callbackURL gives {redirect:true, url}", async () => {
    const c = makeClient(server);
    const callbackURL = `${SPA_ORIGIN}/studio`;
    const { data, error } = await c.client.signIn.email({ email: user.email, password: PASSWORD, callbackURL });
    assert.equal(error, null);
    assert.equal(data.redirect, true);
    assert.equal(data.url, callbackURL);
    assert.equal(typeof data.token, "string");
  });

  it("a safe relative callbackURL is accepted and returned as is", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: user.email, password: PASSWORD, callbackURL: "/dashboard?tab=1" });
    assert.equal(error, null);
    assert.equal(data.redirect, true);
    assert.equal(data.url, "/dashboard?tab=1");
  });

  it("a protocol-relative callbackURL answers 403 INVALID_CALLBACK_URL", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signIn.email({ email: user.email, password: PASSWORD, callbackURL: "//evil.com" });
    assert.deepEqual(errorShape(error), { code: "INVALID_CALLBACK_URL", message: "Invalid callbackURL", status: 403 });
  });

  it("a non-string callbackURL answers 400 'Invalid callbackURL: expected a string'", async () => {
    const r = await raw(server, "/api/auth/sign-in/email", {
      method: "POST",
      body: { email: user.email, password: PASSWORD, callbackURL: 5 },
    });
    assert.equal(r.status, 400);
    assert.equal(r.json?.message, "Invalid callbackURL: expected a string");
  });

  it("missing password answers 400 VALIDATION_ERROR", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signIn.email({ email: user.email });
    assert.deepEqual(errorShape(error), {
      code: "VALIDATION_ERROR",
      message: "[body.password] Invalid input: expected string, received undefined",
      status: 400,
    });
  });

  it("an untrusted callbackURL answers 403 INVALID_CALLBACK_URL", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signIn.email({
      email: user.email,
      password: PASSWORD,
      callbackURL: "https://evil.example.com/steal",
    });
    assert.deepEqual(errorShape(error), { code: "INVALID_CALLBACK_URL", message: "Invalid callbackURL", status: 403 });
  });
});

describe("get-session and sign-out", () => {
  it("signed out: getSession gives data === null and error === null", async () => {
    const c = makeClient(server);
    const res = await c.client.getSession();
    assert.equal(res.data, null);
    assert.equal(res.error, null);
    assert.equal(c.last().text, "null");
  });

  it("signed in: getSession gives {session, user} with Date objects and ISO millisecond dates on the wire", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { name: "Session User" });
    for (const query of [undefined, { disableCookieCache: true }]) {
      const { data, error } = await c.client.getSession(query ? { query } : undefined);
      assert.equal(error, null);
      assert.ok(data, "session data present");
      assert.deepEqual(Object.keys(data).sort(), ["session", "user"]);
      assertClientUser(data.user, { email: u.email, name: "Session User" });
      const s = data.session;
      assert.deepEqual(Object.keys(s).sort(), SESSION_KEYS);
      assert.equal(s.token, u.token);
      assert.equal(s.userId, data.user.id);
      assert.equal(data.user.id, u.user.id);
      for (const f of ["expiresAt", "createdAt", "updatedAt"]) assert.ok(s[f] instanceof Date, `session.${f} is a Date`);
      const ttl = s.expiresAt.getTime() - Date.now();
      assert.ok(Math.abs(ttl - 7 * DAY) < 5 * 60_000, `expiresAt ≈ now + 7 days (ttl ${ttl} ms)`);
      assert.equal(s.userAgent, "node", "userAgent is the request's User-Agent");
      assert.ok(s.ipAddress === null || typeof s.ipAddress === "string");

      const ex = c.last();
      assert.equal(ex.status, 200);
      assert.match(ex.headers.get("cache-control") ?? "", /no-store/);
      const body = JSON.parse(ex.text);
      assertRawDates(body.session, ["expiresAt", "createdAt", "updatedAt"], "session");
      assertRawDates(body.user, ["createdAt", "updatedAt"], "user");
    }
  });

  it("a session_data cookie, if set, has the cookie-cache attributes", async () => {
    const c = makeClient(server);
    await signUpFresh(c);
    const rawCookie = findSetCookie(c.last().setCookies, COOKIE.sessionData);
    if (!rawCookie) return; // the cookie cache is optional (docs/auth-wire.md §5.3)
    const sd = parseSetCookie(rawCookie);
    assert.equal(sd.maxAge, 300);
    assert.equal(sd.path, "/");
    assert.equal(sd.httpOnly, true);
    assert.equal(sd.secure, false);
    assert.equal(sd.sameSite, "Lax");
  });

  it("a session_data cookie, if set, is the signed compact format better-auth reads (docs/auth-wire.md §5.3)", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { name: "Cache User" });
    const rawCookie = findSetCookie(c.last().setCookies, COOKIE.sessionData);
    if (!rawCookie) return; // the cookie cache is optional (docs/auth-wire.md §5.3)
    const d = decodeSessionData(parseSetCookie(rawCookie).value);
    assert.deepEqual(d.keys, ["session", "expiresAt", "signature"]);
    assert.equal(d.signatureValid, true, "HMAC over the session member with expiresAt appended");
    assert.deepEqual(Object.keys(d.payload), ["session", "user", "updatedAt", "version"]);
    assert.equal(d.payload.version, "1");
    assert.equal(d.payload.session.token, u.token);
    assert.equal(d.payload.user.id, u.user.id);
    assert.equal(d.payload.user.email, u.email);
    assert.ok(Math.abs(d.payload.updatedAt - Date.now()) < 60_000, "updatedAt is now (ms)");
    assert.ok(Math.abs(d.expiresAt - (Date.now() + 300_000)) < 60_000, "expiresAt = now + maxAge (ms)");
    for (const f of ["expiresAt", "createdAt", "updatedAt"]) assert.match(d.payload.session[f], ISO_MS, `session.${f}`);
    for (const f of ["createdAt", "updatedAt"]) assert.match(d.payload.user[f], ISO_MS, `user.${f}`);
  });

  it("getSession with the literal query value 'false' still bypasses the cookie cache (Boolean(string))", async () => {
    const a = makeClient(server);
    const u = await signUpFresh(a);
    const b = makeClient(server);
    const bIn = await b.client.signIn.email({ email: u.email, password: PASSWORD });
    assert.equal(bIn.error, null);
    const rev = await a.client.revokeSession({ token: bIn.data.token });
    assert.deepEqual(rev.data, { status: true });
    const r = await b.client.getSession({ query: { disableCookieCache: "false" } });
    assert.match(b.last().url, /disableCookieCache=false/);
    assert.equal(r.error, null);
    assert.equal(r.data, null, "database consulted: the revoked session is gone");
  });

  it("with dont_remember, a database get-session writes no cookies (no refresh)", async () => {
    const u = await signUpFresh(makeClient(server));
    const c = makeClient(server);
    await c.client.signIn.email({ email: u.email, password: PASSWORD, rememberMe: false });
    const r = await c.client.getSession({ query: { disableCookieCache: true } });
    assert.equal(r.error, null);
    assert.ok(r.data);
    assert.deepEqual(c.last().setCookies, []);
  });

  it("signOut answers {success:true}, expires the cookies, and getSession is null afterwards", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const before = c.jar.clone();
    const { data, error } = await c.client.signOut();
    assert.equal(error, null);
    assert.deepEqual(data, { success: true });
    const ex = c.last();
    for (const name of [COOKIE.sessionToken, COOKIE.sessionData, COOKIE.dontRemember]) {
      const rc = findSetCookie(ex.setCookies, name);
      assert.ok(rc, `sign-out expires ${name}; got ${JSON.stringify(ex.setCookies)}`);
      const p = parseSetCookie(rc);
      assert.equal(p.value, "");
      assert.equal(p.maxAge, 0);
      assert.equal(p.path, "/");
    }
    assert.equal(c.jar.has(COOKIE.sessionToken), false);
    const after = await c.client.getSession();
    assert.equal(after.data, null);
    assert.equal(after.error, null);

    // The old session token itself is dead (the row was deleted), even when replayed.
    before.cookies.delete(COOKIE.sessionData);
    const replay = makeClient(server, { jar: before });
    const r = await replay.client.getSession({ query: { disableCookieCache: true } });
    assert.equal(r.data, null);
    assert.equal(r.error, null);
    const me = await raw(server, "/api/me", { headers: { cookie: `${COOKIE.sessionToken}=${encodeURIComponent(`${u.token}.${sign(u.token)}`)}` } });
    assert.equal(me.status, 401);
  });

  it("signOut without a session still answers 200 {success:true}", async () => {
    const c = makeClient(server);
    const { data, error } = await c.client.signOut();
    assert.equal(error, null);
    assert.deepEqual(data, { success: true });
  });

  it("a session cookie signed with the shared secret is accepted; a bad signature is treated as absent", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const good = encodeURIComponent(`${u.token}.${sign(u.token)}`);
    const ok = await raw(server, "/api/auth/get-session", { headers: { cookie: `${COOKIE.sessionToken}=${good}` } });
    assert.equal(ok.status, 200);
    assert.equal(ok.json?.session?.token, u.token);

    const bad = encodeURIComponent(`${u.token}.${sign(u.token, "another-secret-another-secret-another")}`);
    const r1 = await raw(server, "/api/auth/get-session", { headers: { cookie: `${COOKIE.sessionToken}=${bad}` } });
    assert.equal(r1.status, 200);
    assert.equal(r1.text, "null");
    const r2 = await raw(server, "/api/auth/get-session", { headers: { cookie: `${COOKIE.sessionToken}=${u.token}` } });
    assert.equal(r2.status, 200);
    assert.equal(r2.text, "null");
  });

  it("an undecodable session_data cookie is ignored, not treated as signed out", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const good = encodeURIComponent(`${u.token}.${sign(u.token)}`);
    const r = await raw(server, "/api/auth/get-session", {
      headers: { cookie: `${COOKIE.sessionToken}=${good}; ${COOKIE.sessionData}=not-a-valid-cache-value` },
    });
    assert.equal(r.status, 200);
    assert.equal(r.json?.session?.token, u.token);
  });

  it("another session's session_data cookie never overrides the session_token", async () => {
    const a = makeClient(server);
    const ua = await signUpFresh(a, { name: "Alice" });
    const b = makeClient(server);
    const ub = await signUpFresh(b, { name: "Bob" });
    const aData = a.jar.get(COOKIE.sessionData);
    const bToken = b.jar.get(COOKIE.sessionToken);
    const cookie = [`${COOKIE.sessionToken}=${bToken.value}`, aData ? `${COOKIE.sessionData}=${aData.value}` : ""]
      .filter(Boolean)
      .join("; ");
    const r = await raw(server, "/api/auth/get-session", { headers: { cookie } });
    assert.equal(r.status, 200);
    assert.equal(r.json?.session?.token, ub.token);
    assert.equal(r.json?.user?.id, ub.user.id);
    assert.notEqual(r.json?.user?.id, ua.user.id);
  });
});

describe("rememberMe:false", () => {
  it("sign-in sets a signed dont_remember cookie and session cookies without Max-Age; session lasts 1 day", async () => {
    const u = await signUpFresh(makeClient(server));
    const c = makeClient(server);
    const { data, error } = await c.client.signIn.email({ email: u.email, password: PASSWORD, rememberMe: false });
    assert.equal(error, null);
    const ex = c.last();
    assertSessionCookie(ex.setCookies, data.token, { maxAge: null });
    const dr = findSetCookie(ex.setCookies, COOKIE.dontRemember);
    assert.ok(dr, `dont_remember cookie set; got ${JSON.stringify(ex.setCookies)}`);
    const drc = parseSetCookie(dr);
    assert.deepEqual(splitSigned(drc.value), { value: "true", signature: sign("true") });
    assert.equal(drc.maxAge, undefined, "dont_remember has no Max-Age");
    assert.equal(drc.httpOnly, true);
    assert.equal(drc.sameSite, "Lax");
    const sd = findSetCookie(ex.setCookies, COOKIE.sessionData);
    if (sd) assert.equal(parseSetCookie(sd).maxAge, undefined, "session_data has no Max-Age");

    const s = await c.client.getSession({ query: { disableCookieCache: true } });
    assert.equal(s.error, null);
    const ttl = s.data.session.expiresAt.getTime() - Date.now();
    assert.ok(Math.abs(ttl - DAY) < 5 * 60_000, `expiresAt ≈ now + 1 day (ttl ${ttl} ms)`);
  });

  it("sign-up with rememberMe:false also sets dont_remember", async () => {
    const c = makeClient(server);
    const { error } = await c.client.signUp.email({
      name: "Forgetful",
      email: uniqueEmail(),
      password: PASSWORD,
      rememberMe: false,
    });
    assert.equal(error, null);
    assert.ok(findSetCookie(c.last().setCookies, COOKIE.dontRemember), "dont_remember set");
    assert.equal(parseSetCookie(findSetCookie(c.last().setCookies, COOKIE.sessionToken)).maxAge, undefined);
  });
});
