// Password reset by mail (docs/auth-wire.md §3.11), driven by better-auth's own
// client (requestPasswordReset, resetPassword, signIn.email, getSession) with a
// real SMTP server: the server under test mails through Mailpit
// (EMAIL_TRANSPORT=smtp), and the tests read the link from Mailpit's API.
// Expired tokens need the server's clock: internal/auth/authapi/reset_test.go.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, it } from "node:test";
import {
  PASSWORD,
  SPA_ORIGIN,
  errorShape,
  makeClient,
  raw,
  signUpFresh,
  startMailpit,
  startServer,
  uniqueEmail,
} from "../lib/harness.mjs";

const NEW_PASSWORD = "new-password-456";
const CALLBACK = `${SPA_ORIGIN}/reset-password`;
const ANSWER = { status: true, message: "If this email exists in our system, check your email for the reset link" };
const INVALID_TOKEN = { code: "INVALID_TOKEN", message: "Invalid token", status: 400 };
const INVALID_CREDENTIALS = { code: "INVALID_EMAIL_OR_PASSWORD", message: "Invalid email or password", status: 401 };
const TOO_MANY = "Too many requests. Please try again later.";

let mailpit;
let server;
before(async () => {
  mailpit = await startMailpit();
  server = await startServer({ env: mailpit.env });
});
after(async () => {
  await server?.stop();
  await mailpit?.stop();
});

/** A made-up token shaped like a real one: 24 characters of [A-Za-z0-9]. */
function madeUpToken() {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return [...randomBytes(24)].map((b) => abc[b % abc.length]).join("");
}

/** Ask for a reset through the client (signed out, as a user who forgot); asserts the one answer. */
async function requestReset(srv, email, redirectTo = CALLBACK) {
  const c = makeClient(srv);
  const { data, error } = await c.client.requestPasswordReset({ email, redirectTo });
  assert.equal(error, null, JSON.stringify(error));
  assert.deepEqual(data, ANSWER);
  return c.last();
}

/**
 * Wait for the one reset mail to `email` and check it: subject, sender, and a
 * link to GET /api/auth/reset-password/<24 chars>?callbackURL=<redirectTo
 * encoded as encodeURIComponent>. Returns {token, link, message}.
 */
async function resetMail(srv, email, redirectTo = CALLBACK) {
  const msgs = await mailpit.waitFor(email);
  assert.equal(msgs.length, 1, `one message to ${email}`);
  const [m] = msgs;
  assert.deepEqual(m.To.map((a) => a.Address), [email]);
  assert.equal(m.From.Address, "noreply@example.com");
  assert.match(m.Subject, /Reset your/);
  const escaped = srv.authURL.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`${escaped}/reset-password/([A-Za-z0-9]{24})\\?callbackURL=([^\\s"<>]*)`);
  const found = m.Text.match(re);
  assert.ok(found, `a reset link in the mail's text:\n${m.Text}`);
  assert.equal(found[2], encodeURIComponent(redirectTo), "callbackURL is encodeURIComponent(redirectTo)");
  return { token: found[1], link: found[0], message: m };
}

/** GET a link without following the redirect; returns the parsed Location. */
async function follow(link) {
  const res = await fetch(link, { redirect: "manual" });
  await res.arrayBuffer();
  assert.equal(res.status, 302, `GET ${link}`);
  const location = res.headers.get("location");
  assert.ok(location, "a Location header");
  return new URL(location);
}

beforeEach(async () => {
  await mailpit.clear();
});

describe("password reset by mail", () => {
  it("mails a link that leads to the SPA with the token; resetPassword sets the password and ends the sessions", async () => {
    const c = makeClient(server);
    const u = await signUpFresh(c);
    const oldJar = c.jar.clone();
    // The session works before the reset.
    const before = await makeClient(server, { jar: oldJar.clone() }).client.getSession({ query: { disableCookieCache: true } });
    assert.equal(before.data?.user.email, u.email);

    await requestReset(server, u.email);
    const { token, link } = await resetMail(server, u.email);

    // The link sends the browser to the callback with ?token=, and does not spend it.
    const loc = await follow(link);
    assert.equal(`${loc.origin}${loc.pathname}`, CALLBACK);
    assert.deepEqual([...loc.searchParams], [["token", token]]);

    const spa = makeClient(server);
    const { data, error } = await spa.client.resetPassword({ newPassword: NEW_PASSWORD, token });
    assert.equal(error, null, JSON.stringify(error));
    assert.deepEqual(data, { status: true });
    assert.deepEqual(spa.last().setCookies, [], "no cookie: the user signs in with the new password");

    const old = await makeClient(server).client.signIn.email({ email: u.email, password: PASSWORD });
    assert.equal(old.data, null);
    assert.deepEqual(errorShape(old.error), INVALID_CREDENTIALS);

    const fresh = await makeClient(server).client.signIn.email({ email: u.email, password: NEW_PASSWORD });
    assert.equal(fresh.error, null, JSON.stringify(fresh.error));
    assert.equal(fresh.data.user.email, u.email);

    // Every session of the user ended with the reset.
    const gone = await makeClient(server, { jar: oldJar }).client.getSession({ query: { disableCookieCache: true } });
    assert.equal(gone.error, null);
    assert.equal(gone.data, null);
  });

  it("a spent or made-up token is INVALID_TOKEN, and its link redirects with error=INVALID_TOKEN", async () => {
    const u = await signUpFresh(makeClient(server));
    await requestReset(server, u.email);
    const { token, link } = await resetMail(server, u.email);

    const first = await makeClient(server).client.resetPassword({ newPassword: NEW_PASSWORD, token });
    assert.equal(first.error, null, JSON.stringify(first.error));

    const again = await makeClient(server).client.resetPassword({ newPassword: "another-password-789", token });
    assert.equal(again.data, null);
    assert.deepEqual(errorShape(again.error), INVALID_TOKEN);

    const madeUp = await makeClient(server).client.resetPassword({ newPassword: NEW_PASSWORD, token: madeUpToken() });
    assert.equal(madeUp.data, null);
    assert.deepEqual(errorShape(madeUp.error), INVALID_TOKEN);

    // The spent token's link and a made-up token's link both land on the callback with the error.
    for (const l of [link, `${server.authURL}/reset-password/${madeUpToken()}?callbackURL=${encodeURIComponent(CALLBACK)}`]) {
      const loc = await follow(l);
      assert.equal(`${loc.origin}${loc.pathname}`, CALLBACK);
      assert.deepEqual([...loc.searchParams], [["error", "INVALID_TOKEN"]]);
    }

    // The password is the one of the first reset.
    const signIn = await makeClient(server).client.signIn.email({ email: u.email, password: NEW_PASSWORD });
    assert.equal(signIn.error, null, JSON.stringify(signIn.error));
  });

  it("an unknown address gets the same answer and no mail", async () => {
    // A known address first: its mail shows that Mailpit receives.
    const a = await signUpFresh(makeClient(server));
    const known = await requestReset(server, a.email);
    await resetMail(server, a.email);

    const unknown = uniqueEmail("nobody");
    const ex = await requestReset(server, unknown);
    assert.equal(ex.status, known.status);
    assert.equal(ex.text, known.text, "byte-identical body");
    assert.equal(ex.headers.get("content-type"), known.headers.get("content-type"));

    // Then another known address: once its mail is in, any mail for the
    // unknown address (asked for earlier) would be too.
    const b = await signUpFresh(makeClient(server));
    await requestReset(server, b.email);
    await resetMail(server, b.email);
    assert.deepEqual(await mailpit.to(unknown), [], "no mail to the unknown address");
  });
});

describe("password reset rate limit", () => {
  let limited;
  before(async () => {
    limited = await startServer({ env: { ...mailpit.env, RATE_LIMIT_ENABLED: "true" } });
  });
  after(async () => {
    await limited?.stop();
  });

  it("the 4th request-password-reset within 60 s from one client answers 429", async () => {
    const u = await signUpFresh(makeClient(limited));
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const { error } = await makeClient(limited).client.requestPasswordReset({
        email: i === 0 ? u.email : uniqueEmail("nobody"),
        redirectTo: CALLBACK,
      });
      statuses.push(error?.status ?? 200);
    }
    assert.deepEqual(statuses, [200, 200, 200], "the first three are processed");
    const { token } = await resetMail(limited, u.email);

    const c = makeClient(limited);
    const { data, error } = await c.client.requestPasswordReset({ email: u.email, redirectTo: CALLBACK });
    assert.equal(data, null);
    assert.equal(error.status, 429);
    assert.equal(error.message, TOO_MANY);
    const ex = c.last();
    assert.deepEqual(JSON.parse(ex.text), { message: TOO_MANY });
    const retry = ex.headers.get("x-retry-after");
    assert.match(retry ?? "", /^\d+$/, `X-Retry-After is an integer number of seconds (got ${retry})`);
    assert.ok(Number(retry) >= 1 && Number(retry) <= 60, `X-Retry-After in 1..60 (got ${retry})`);

    // The rule is per path: resetting with the mailed token still works.
    const reset = await makeClient(limited).client.resetPassword({ newPassword: NEW_PASSWORD, token });
    assert.equal(reset.error, null, JSON.stringify(reset.error));
    const ok = await raw(limited, "/api/auth/ok");
    assert.equal(ok.status, 200);
  });
});
