// Email verification and confirmed email changes (docs/auth-wire.md §3.12,
// §3.8), driven by better-auth's own client (signUp.email, signIn.email,
// sendVerificationEmail, verifyEmail, changeEmail, getSession) with a real SMTP
// server: the server under test mails through Mailpit, and the tests read the
// links from Mailpit's API. EMAIL_VERIFICATION=send and =required each get
// their own server. Nothing here depends on what is ours: change-email's
// fresh-session rule is met by fresh sign-ups, and no timing is measured.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  PASSWORD,
  SECRET,
  SPA_ORIGIN,
  errorShape,
  makeClient,
  signUpFresh,
  startMailpit,
  startServer,
  uniqueEmail,
} from "../lib/harness.mjs";

const CALLBACK = `${SPA_ORIGIN}/verified`;
const SIGN_IN_CALLBACK = `${SPA_ORIGIN}/signed-in`;
const CHANGED_CALLBACK = `${SPA_ORIGIN}/email-changed`;
const HOUR = 3600;

const err = (status, code, message) => ({ code, message, status });
const INVALID_TOKEN = err(401, "INVALID_TOKEN", "Invalid token");
const TOKEN_EXPIRED = err(401, "TOKEN_EXPIRED", "Token expired");
const EMAIL_NOT_VERIFIED = err(403, "EMAIL_NOT_VERIFIED", "Email not verified");
const EMAIL_ALREADY_VERIFIED = err(400, "EMAIL_ALREADY_VERIFIED", "Email is already verified");
const EMAIL_MISMATCH = err(400, "EMAIL_MISMATCH", "Email mismatch");
const INVALID_CREDENTIALS = err(401, "INVALID_EMAIL_OR_PASSWORD", "Invalid email or password");

let mailpit;
before(async () => {
  mailpit = await startMailpit();
});
after(async () => {
  await mailpit?.stop();
});
beforeEach(async () => {
  await mailpit.clear();
});

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

/** The claims of a compact JWT (not verified). */
function claims(token) {
  return JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));
}

/** An HS256 JWT over `payload`, as better-auth's signJWT makes them. */
function signJWT(payload, secret = SECRET) {
  const input = `${b64url({ alg: "HS256" })}.${b64url(payload)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/**
 * Wait until `count` mails to `to` are in and check the newest: its subject and
 * a link BETTER_AUTH_URL/api/auth/verify-email?token=<JWT>&callbackURL=
 * <encodeURIComponent(callbackURL)>. Returns {token, link, claims, message}.
 */
async function linkMail(srv, to, { count = 1, callbackURL = CALLBACK, subject = /^Verify your email/ } = {}) {
  const msgs = await mailpit.waitFor(to, { count });
  assert.equal(msgs.length, count, `${count} message(s) to ${to}`);
  const m = msgs[count - 1];
  assert.deepEqual(m.To.map((a) => a.Address), [to]);
  assert.equal(m.From.Address, "noreply@example.com");
  assert.match(m.Subject, subject);
  const escaped = srv.authURL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${escaped}/verify-email\\?token=([A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+)&callbackURL=([^\\s"<>]*)`);
  const found = m.Text.match(re);
  assert.ok(found, `a verification link in the mail's text:\n${m.Text}`);
  assert.equal(found[2], encodeURIComponent(callbackURL), "callbackURL is encodeURIComponent(callbackURL)");
  const token = found[1];
  const header = JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString("utf8"));
  assert.equal(header.alg, "HS256");
  const c = claims(token);
  assert.equal(c.exp - c.iat, HOUR, "valid an hour");
  return { token, link: found[0], claims: c, message: m };
}

/**
 * Follow a link as a browser would (GET, no redirect followed), with the
 * cookies of `jar` when given (storing what it sets). Returns {status,
 * location, setCookies, text}.
 */
async function follow(link, { jar } = {}) {
  const headers = new Headers();
  if (jar?.header()) headers.set("cookie", jar.header());
  const res = await fetch(link, { headers, redirect: "manual" });
  const setCookies = res.headers.getSetCookie();
  jar?.store(setCookies);
  const text = await res.text();
  return { status: res.status, location: res.headers.get("location"), setCookies, text };
}

/**
 * Follow a link that must redirect to `location`. A relative callback may come
 * back as is (better-auth) or resolved against the link (this server): both
 * take the browser to the same place, so the Location is compared resolved.
 */
async function expectRedirect(link, location, opts) {
  const r = await follow(link, opts);
  assert.equal(r.status, 302, `GET ${link}: ${r.text}`);
  assert.ok(r.location, "a Location header");
  assert.equal(new URL(r.location, link).href, new URL(location, link).href, `Location: ${r.location}`);
  return r;
}

/** The user of the client's session, read from the database (not the cookie cache). */
async function sessionUser(c) {
  const { data, error } = await c.client.getSession({ query: { disableCookieCache: true } });
  assert.equal(error, null, JSON.stringify(error));
  return data?.user ?? null;
}

describe("EMAIL_VERIFICATION=send", () => {
  let server;
  before(async () => {
    server = await startServer({ env: { ...mailpit.env, EMAIL_VERIFICATION: "send" } });
  });
  after(async () => {
    await server?.stop();
  });

  it("sign-up signs in and mails a link; following it verifies the address, once", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { callbackURL: CALLBACK });
    assert.equal(typeof u.token, "string", "signed in at once");
    assert.ok(u.token.length > 0);
    assert.equal(u.user.emailVerified, false);
    assert.ok(c.jar.header(), "session cookies");

    const { token, link, claims: cl } = await linkMail(server, u.email);
    const { iat, exp, ...rest } = cl;
    assert.deepEqual(rest, { email: u.email, userId: u.user.id });

    const cached = await c.client.getSession();
    assert.equal(cached.data?.user.emailVerified, false);
    assert.equal((await sessionUser(c)).emailVerified, false);

    // A browser following the link (no cookie needed) lands on the callback.
    const first = await expectRedirect(link, CALLBACK);
    assert.deepEqual(first.setCookies, [], "verifying signs nobody in");
    const verified = await sessionUser(c);
    assert.equal(verified.emailVerified, true);
    assert.equal(verified.email, u.email);

    // Again: the same redirect, nothing changes.
    await expectRedirect(link, CALLBACK);
    assert.equal((await sessionUser(c)).emailVerified, true);

    // Without a callback, the answer is JSON.
    const { data, error } = await makeClient(server).client.verifyEmail({ query: { token } });
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data, { status: true, user: null });
  });

  it("tokens it did not issue, or that are too old, fail: a redirect with ?error=, or 401 without a callback", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c, { callbackURL: CALLBACK });
    const { token } = await linkMail(server, u.email);
    const [h, p, s] = token.split(".");
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      // Another address in the claims, the real signature.
      [`${h}.${b64url({ ...claims(token), email: uniqueEmail("other") })}.${s}`, INVALID_TOKEN],
      // The real claims signed with another secret.
      [signJWT(claims(token), `${SECRET}-not`), INVALID_TOKEN],
      // The real claims, the signature cut short.
      [`${h}.${p}.${s.slice(0, 20)}`, INVALID_TOKEN],
      ["not-a-jwt", INVALID_TOKEN],
      // Properly signed, but past its expiry.
      [signJWT({ email: u.email, userId: u.user.id, iat: now - 2 * HOUR, exp: now - HOUR }), TOKEN_EXPIRED],
    ];
    for (const [bad, expected] of cases) {
      await expectRedirect(
        `${server.authURL}/verify-email?token=${encodeURIComponent(bad)}&callbackURL=${encodeURIComponent(CALLBACK)}`,
        `${CALLBACK}?error=${expected.code}`,
      );
      const { data, error } = await makeClient(server).client.verifyEmail({ query: { token: bad } });
      assert.equal(data, null);
      assert.deepEqual(errorShape(error), expected, bad);
    }
    // A properly signed token naming another user id for this address.
    const wrongUser = signJWT({ email: u.email, userId: `${u.user.id}x`, iat: now, exp: now + HOUR });
    await expectRedirect(
      `${server.authURL}/verify-email?token=${wrongUser}&callbackURL=${encodeURIComponent(CALLBACK)}`,
      `${CALLBACK}?error=INVALID_TOKEN`,
    );
    // None of them verified anything.
    assert.equal((await sessionUser(c)).emailVerified, false);
  });

  it("sendVerificationEmail signed in: a fresh link; EMAIL_MISMATCH for another address, EMAIL_ALREADY_VERIFIED once verified", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    await linkMail(server, u.email, { callbackURL: "/" }); // sign-up's mail, no callbackURL given

    const again = await c.client.sendVerificationEmail({ email: u.email, callbackURL: CALLBACK });
    assert.equal(again.error, null, JSON.stringify(again.error));
    assert.deepEqual(again.data, { status: true });
    const { link } = await linkMail(server, u.email, { count: 2 });

    const other = await c.client.sendVerificationEmail({ email: uniqueEmail("other"), callbackURL: CALLBACK });
    assert.equal(other.data, null);
    assert.deepEqual(errorShape(other.error), EMAIL_MISMATCH);

    await expectRedirect(link, CALLBACK);
    assert.equal((await sessionUser(c)).emailVerified, true); // also refreshes the cookie cache

    const done = await c.client.sendVerificationEmail({ email: u.email, callbackURL: CALLBACK });
    assert.equal(done.data, null);
    assert.deepEqual(errorShape(done.error), EMAIL_ALREADY_VERIFIED);
    const mismatch = await c.client.sendVerificationEmail({ email: uniqueEmail("other"), callbackURL: CALLBACK });
    assert.deepEqual(errorShape(mismatch.error), EMAIL_MISMATCH, "the address is checked first");
  });

  it("sendVerificationEmail signed out: {status:true} for any address, a mail only to an unverified account", async () => {
    const verified = makeClient(server);
    const v = await signUpFresh(verified);
    await expectRedirect((await linkMail(server, v.email, { callbackURL: "/" })).link, "/");
    assert.equal((await sessionUser(verified)).emailVerified, true);

    const pending = await signUpFresh(makeClient(server));
    await linkMail(server, pending.email, { callbackURL: "/" });
    const unknown = uniqueEmail("nobody");

    // The ones that must send nothing first, then one that must send: once
    // its mail is in, any mail for the earlier ones would be too.
    for (const email of [unknown, v.email, pending.email]) {
      const { data, error } = await makeClient(server).client.sendVerificationEmail({ email, callbackURL: CALLBACK });
      assert.equal(error, null, `${email}: ${JSON.stringify(error)}`);
      assert.deepEqual(data, { status: true });
    }
    const { link } = await linkMail(server, pending.email, { count: 2 });
    assert.deepEqual(await mailpit.to(unknown), [], "no mail to an unknown address");
    assert.equal((await mailpit.to(v.email)).length, 1, "no second mail to a verified address");

    await expectRedirect(link, CALLBACK);
    const signIn = await makeClient(server).client.signIn.email({ email: pending.email, password: PASSWORD });
    assert.equal(signIn.error, null, JSON.stringify(signIn.error));
    assert.equal(signIn.data.user.emailVerified, true);
  });

  describe("change-email of a verified user", () => {
    it("changes nothing until the link mailed to the new address is followed; the link works once", async () => {
      const c = makeClient(server);
      const u = await signUpFresh(c, { callbackURL: CALLBACK });
      const signUpLink = (await linkMail(server, u.email)).link;
      await expectRedirect(signUpLink, CALLBACK);
      assert.equal((await sessionUser(c)).emailVerified, true);

      const newEmail = uniqueEmail("moved");
      const { data, error } = await c.client.changeEmail({ newEmail, callbackURL: CHANGED_CALLBACK });
      assert.equal(error, null, JSON.stringify(error));
      assert.deepEqual(data, { status: true });
      const still = await sessionUser(c);
      assert.equal(still.email, u.email, "not changed yet");
      assert.equal(still.emailVerified, true);

      const { link, claims: cl } = await linkMail(server, newEmail, {
        callbackURL: CHANGED_CALLBACK,
        subject: /^Confirm your new email/,
      });
      const { iat, exp, ...rest } = cl;
      assert.deepEqual(rest, { email: u.email, updateTo: newEmail, requestType: "change-email-verification", userId: u.user.id });
      assert.equal((await mailpit.to(u.email)).length, 1, "nothing more to the old address");

      // Nothing moves before the link is followed.
      const early = await makeClient(server).client.signIn.email({ email: newEmail, password: PASSWORD });
      assert.deepEqual(errorShape(early.error), INVALID_CREDENTIALS);

      // The owner follows it in the browser where they are signed in.
      const moved = await expectRedirect(link, CHANGED_CALLBACK, { jar: c.jar });
      assert.ok(moved.setCookies.length > 0, "the owner's session cookies are issued again");
      const cached = await c.client.getSession();
      assert.equal(cached.data?.user.email, newEmail, "the cookie cache has the new address");
      const now = await sessionUser(c);
      assert.equal(now.email, newEmail);
      assert.equal(now.emailVerified, true, "still verified");
      assert.equal(now.id, u.user.id);

      // The link named the old address, which the account no longer has.
      await expectRedirect(link, `${CHANGED_CALLBACK}?error=INVALID_TOKEN`, { jar: c.jar });
      await expectRedirect(link, `${CHANGED_CALLBACK}?error=INVALID_TOKEN`);
      // And the old address's verification link finds nobody.
      await expectRedirect(signUpLink, `${CALLBACK}?error=USER_NOT_FOUND`);
      assert.equal((await sessionUser(c)).email, newEmail);

      const signIn = await makeClient(server).client.signIn.email({ email: newEmail, password: PASSWORD });
      assert.equal(signIn.error, null, JSON.stringify(signIn.error));
      assert.equal(signIn.data.user.id, u.user.id);
      assert.equal(signIn.data.user.emailVerified, true);
      const old = await makeClient(server).client.signIn.email({ email: u.email, password: PASSWORD });
      assert.deepEqual(errorShape(old.error), INVALID_CREDENTIALS);
    });

    it("followed signed out, the link moves the account too", async () => {
      const c = makeClient(server);
      const u = await signUpFresh(c);
      await expectRedirect((await linkMail(server, u.email, { callbackURL: "/" })).link, "/");
      assert.equal((await sessionUser(c)).emailVerified, true);

      const newEmail = uniqueEmail("moved");
      const { error } = await c.client.changeEmail({ newEmail, callbackURL: CHANGED_CALLBACK });
      assert.equal(error, null, JSON.stringify(error));
      const { token } = await linkMail(server, newEmail, { callbackURL: CHANGED_CALLBACK, subject: /^Confirm your new email/ });

      const { data, error: e2 } = await makeClient(server).client.verifyEmail({ query: { token } });
      assert.equal(e2, null, JSON.stringify(e2));
      assert.equal(data.status, true);
      assert.equal(data.user.id, u.user.id);
      assert.equal(data.user.email, newEmail);
      assert.equal(data.user.emailVerified, true);

      const signIn = await makeClient(server).client.signIn.email({ email: newEmail, password: PASSWORD });
      assert.equal(signIn.error, null, JSON.stringify(signIn.error));
      assert.equal(signIn.data.user.id, u.user.id);
    });
  });
});

describe("EMAIL_VERIFICATION=required", () => {
  let server;
  before(async () => {
    server = await startServer({ env: { ...mailpit.env, EMAIL_VERIFICATION: "required" } });
  });
  after(async () => {
    await server?.stop();
  });

  it("no session until the mailed link is followed; sign-up does not tell a taken address", async () => {
    const email = uniqueEmail("pending");
    const c = makeClient(server);
    const { data, error } = await c.client.signUp.email({ name: "Pending", email, password: PASSWORD, callbackURL: CALLBACK });
    assert.equal(error, null, JSON.stringify(error));
    assert.equal(data.token, null);
    assert.equal(data.user.email, email);
    assert.equal(data.user.emailVerified, false);
    assert.deepEqual(c.last().setCookies, [], "no session cookie");
    assert.equal(await sessionUser(c), null);
    await linkMail(server, email);

    // The same address again: the same shape, another id, and no mail.
    const dup = makeClient(server);
    const again = await dup.client.signUp.email({
      name: "Pending",
      email,
      password: "another-password-789",
      callbackURL: `${SPA_ORIGIN}/duplicate`,
    });
    assert.equal(again.error, null, JSON.stringify(again.error));
    assert.equal(again.data.token, null);
    assert.equal(again.data.user.email, email);
    assert.equal(again.data.user.emailVerified, false);
    assert.notEqual(again.data.user.id, data.user.id, "a user with a different id");
    // The same fields (the reference's memory adapter omits a null image: IS_REFERENCE).
    const shape = (user) => Object.keys({ image: null, ...user }).sort();
    assert.deepEqual(shape(again.data.user), shape(data.user), "the same fields");
    assert.equal(again.data.user.image ?? null, data.user.image ?? null);
    assert.equal(again.data.user.name, data.user.name);
    assert.deepEqual(dup.last().setCookies, []);

    // A wrong password is the usual 401 (and mails nothing).
    const wrong = await makeClient(server).client.signIn.email({ email, password: "wrong-password-000" });
    assert.deepEqual(errorShape(wrong.error), INVALID_CREDENTIALS);

    // The right one: 403 and a fresh link. Once it is in, a mail for the
    // duplicate sign-up (or the wrong password) would be too.
    const s = makeClient(server);
    const refused = await s.client.signIn.email({ email, password: PASSWORD, callbackURL: SIGN_IN_CALLBACK });
    assert.equal(refused.data, null);
    assert.deepEqual(errorShape(refused.error), EMAIL_NOT_VERIFIED);
    assert.deepEqual(s.last().setCookies, [], "no session cookie");
    const { link, claims: cl } = await linkMail(server, email, { count: 2, callbackURL: SIGN_IN_CALLBACK });
    assert.equal(cl.userId, data.user.id, "the link is for the first sign-up's user");

    await expectRedirect(link, SIGN_IN_CALLBACK);
    const ok = await s.client.signIn.email({ email, password: PASSWORD });
    assert.equal(ok.error, null, JSON.stringify(ok.error));
    assert.equal(typeof ok.data.token, "string");
    assert.equal(ok.data.user.id, data.user.id);
    assert.equal(ok.data.user.emailVerified, true);
    const me = await sessionUser(s);
    assert.equal(me.email, email);
    assert.equal(me.emailVerified, true);
    assert.equal((await mailpit.to(email)).length, 2, "no more mail");
  });
});
