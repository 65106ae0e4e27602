// Google and GitHub sign-in driven by better-auth's own client (signIn.social,
// linkSocial, listAccounts, unlinkAccount, oneTimeToken.verify) against the
// server and the fake providers of cmd/oauthfake, following the redirects as
// a browser would (docs/auth-wire.md §8, and §1.3 for list-accounts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { createAuthClient } from "better-auth/client";
import { oneTimeTokenClient } from "better-auth/client/plugins";
import { CookieJar } from "../lib/cookie-jar.mjs";
import { IS_REFERENCE, PASSWORD, SPA_ORIGIN, browserFetch, makeClient, startServer, uniqueEmail } from "../lib/harness.mjs";

const DASH = `${SPA_ORIGIN}/dash`;
const WELCOME = `${SPA_ORIGIN}/welcome`;
const LOGIN = `${SPA_ORIGIN}/login`;

let fake;
let fakeURL;
let server;

async function startFake() {
  const bin = process.env.OAUTHFAKE_BIN;
  if (!bin) throw new Error("OAUTHFAKE_BIN is not set: run the suite through tests/compat/run.sh");
  const child = spawn(bin, [], { env: { ...process.env, PORT: "0" }, stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`oauthfake exited ${code}: ${out}`)));
  });
  return { child, url };
}

before(async () => {
  if (IS_REFERENCE) return;
  ({ child: fake, url: fakeURL } = await startFake());
  server = await startServer({
    env: {
      GOOGLE_CLIENT_ID: "google-test-client",
      GOOGLE_CLIENT_SECRET: "google-test-secret",
      GOOGLE_AUTH_URL: `${fakeURL}/google/o/oauth2/v2/auth`,
      GOOGLE_TOKEN_URL: `${fakeURL}/google/token`,
      GITHUB_CLIENT_ID: "github-test-client",
      GITHUB_CLIENT_SECRET: "github-test-secret",
      GITHUB_AUTH_URL: `${fakeURL}/github/login/oauth/authorize`,
      GITHUB_TOKEN_URL: `${fakeURL}/github/login/oauth/access_token`,
      GITHUB_API_URL: `${fakeURL}/github`,
    },
  });
});
after(async () => {
  await server?.stop();
  fake?.kill("SIGTERM");
});

/** A client with the one-time-token plugin, as a two-site SPA opts in. */
function spaClient(jar = new CookieJar()) {
  const bfetch = browserFetch({ jar });
  const client = createAuthClient({
    baseURL: server.baseURL,
    plugins: [oneTimeTokenClient()],
    fetchOptions: { customFetchImpl: bfetch },
  });
  return { client, jar, fetch: bfetch };
}

/**
 * Walks the provider's authorize page and returns the callback URL it sends
 * the browser to (a top-level navigation back to the API).
 */
async function authorize(url) {
  const res = await fetch(url, { redirect: "manual" });
  assert.equal(res.status, 302, `authorize answered ${res.status}`);
  return res.headers.get("location");
}

/** Lands on the callback as a top-level navigation with jar's cookies. */
async function land(callback, jar) {
  const top = browserFetch({ jar, origin: null });
  const res = await top(callback);
  return { status: res.status, location: res.headers.get("location"), setCookies: top.last().setCookies };
}

async function startSocial(c, provider, loginHint, extra = {}) {
  const { data, error } = await c.client.signIn.social({
    provider,
    callbackURL: DASH,
    newUserCallbackURL: WELCOME,
    errorCallbackURL: LOGIN,
    loginHint,
    ...extra,
  });
  assert.equal(error, null, JSON.stringify(error));
  assert.equal(data.redirect, true);
  assert.match(data.url, new RegExp(`^${fakeURL}/${provider}/`));
  return data.url;
}

describe("social sign-in through the client", { skip: IS_REFERENCE && "no providers on the reference server" }, () => {
  it("signs a new GitHub user in and lands on newUserCallbackURL; the next time on callbackURL", async () => {
    const email = uniqueEmail("gh");
    const c = makeClient(server);
    const authURL = await startSocial(c, "github", email);
    const q = new URL(authURL).searchParams;
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.equal(q.get("redirect_uri"), `${server.baseURL}/api/auth/callback/github`);
    assert.equal(q.get("scope"), "read:user user:email");
    assert.ok(c.jar.get("better-auth.state"), "signIn.social set the state cookie");

    const r = await land(await authorize(authURL), c.jar);
    assert.equal(r.status, 302);
    assert.equal(r.location, WELCOME);
    assert.ok(r.setCookies.some((s) => s.startsWith("better-auth.session_token=")));

    const { data } = await c.client.getSession();
    assert.equal(data.user.email, email);
    const accounts = await c.client.listAccounts();
    assert.deepEqual(accounts.data.map((a) => [a.providerId, a.scopes]), [["github", ["read:user", "user:email"]]]);

    const again = makeClient(server);
    const r2 = await land(await authorize(await startSocial(again, "github", email)), again.jar);
    assert.equal(r2.location, DASH);
    assert.equal((await again.client.getSession()).data.user.id, data.user.id);
  });

  it("signs a Google user in with the verified email of the ID token", async () => {
    const email = uniqueEmail("g");
    const c = makeClient(server);
    const r = await land(await authorize(await startSocial(c, "google", email.toUpperCase())), c.jar);
    assert.equal(r.location, WELCOME);
    const { data } = await c.client.getSession();
    assert.equal(data.user.email, email);
    assert.equal(data.user.emailVerified, true);
  });

  it("resolves a private GitHub email through /user/emails", async () => {
    const c = makeClient(server);
    await land(await authorize(await startSocial(c, "github", "private@example.com")), c.jar);
    assert.equal((await c.client.getSession()).data.user.email, "private@example.com");
  });

  it("sends every failure to errorCallbackURL with better-auth's code, and no session", async () => {
    const pw = makeClient(server);
    const taken = uniqueEmail("pw");
    await pw.client.signUp.email({ email: taken, password: PASSWORD, name: "Pw" });
    for (const [provider, hint, want] of [
      ["google", taken, `${LOGIN}?error=account_not_linked`],
      ["github", "deny@example.com", `${LOGIN}?error=access_denied&error_description=The+user+has+denied+your+application+access.`],
      ["github", "badtoken@example.com", `${LOGIN}?error=invalid_code`],
      ["google", "baduser@example.com", `${LOGIN}?error=unable_to_get_user_info`],
      ["github", "noemail@example.com", `${LOGIN}?error=email_not_found`],
    ]) {
      const c = makeClient(server);
      const r = await land(await authorize(await startSocial(c, provider, hint)), c.jar);
      assert.equal(r.location, want, `${provider} ${hint}`);
      assert.equal((await c.client.getSession()).data, null, `${provider} ${hint} left a session`);
    }
  });

  it("refuses a replayed or cookie-less callback (login CSRF) with state_mismatch", async () => {
    const c = makeClient(server);
    const callback = await authorize(await startSocial(c, "github", uniqueEmail("replay")));
    assert.equal((await land(callback, c.jar)).location, WELCOME);
    assert.equal((await land(callback, c.jar)).location, `${server.baseURL}/api/auth/error?error=state_mismatch`);
  });

  it("refuses an unknown provider and an untrusted callbackURL before any redirect", async () => {
    const c = makeClient(server);
    const unknown = await c.client.signIn.social({ provider: "gitlab", callbackURL: DASH });
    assert.equal(unknown.error.status, 404);
    assert.equal(unknown.error.code, "PROVIDER_NOT_FOUND");
    const evil = await c.client.signIn.social({ provider: "github", callbackURL: "https://evil.example.com/x" });
    assert.equal(evil.error.status, 403);
    assert.equal(evil.error.code, "INVALID_CALLBACK_URL");
  });

  it("links GitHub to a password account (same email), lists it, unlinks it, never the last one", async () => {
    const email = uniqueEmail("link");
    const c = makeClient(server);
    await c.client.signUp.email({ email, password: PASSWORD, name: "Linker" });
    const { data, error } = await c.client.linkSocial({ provider: "github", callbackURL: DASH, errorCallbackURL: LOGIN });
    assert.equal(error, null);
    // linkSocial takes no loginHint: pick the identity on the fake's side.
    const u = new URL(data.url);
    u.searchParams.set("login_hint", email);
    const r = await land(await authorize(u.toString()), c.jar);
    assert.equal(r.location, DASH);
    const accounts = (await c.client.listAccounts()).data;
    assert.deepEqual(accounts.map((a) => a.providerId), ["credential", "github"]);

    const unlinked = await c.client.unlinkAccount({ accountId: accounts[1].id });
    assert.deepEqual(unlinked.data, { status: true });
    const last = await c.client.unlinkAccount({ accountId: accounts[0].id });
    assert.equal(last.error.status, 400);
    assert.equal(last.error.code, "FAILED_TO_UNLINK_LAST_ACCOUNT");
  });

  it("finishes a cross-site flow with the one-time-token plugin when the callback cannot see the state cookie", async () => {
    // SPA (localhost) and API (127.0.0.1) are different sites: the callback,
    // landing in the API site's own jar, defers to the SPA.
    const email = uniqueEmail("ott");
    const spa = spaClient();
    const callback = await authorize(await startSocial(spa, "github", email));
    const r = await land(callback, new CookieJar());
    assert.equal(r.status, 302);
    assert.ok(r.location.startsWith(`${DASH}?ott=`), r.location);
    assert.ok(!r.setCookies.some((s) => s.includes("session_token=")));
    const token = new URL(r.location).searchParams.get("ott");

    // Another browser cannot redeem it.
    const other = spaClient();
    const stolen = await other.client.oneTimeToken.verify({ token });
    assert.equal(stolen.error.status, 403);

    const callback2 = await authorize(await startSocial(spa, "github", email));
    const token2 = new URL((await land(callback2, new CookieJar())).location).searchParams.get("ott");
    const { data, error } = await spa.client.oneTimeToken.verify({ token: token2 });
    assert.equal(error, null, JSON.stringify(error));
    assert.equal(data.user.email, email);
    assert.equal(data.url, WELCOME);
    assert.equal((await spa.client.getSession()).data.user.email, email);
  });
});
