// Browser test: "Sign in with GitHub" (better-auth's social sign-in flow)
// against the Go server, in headless Chromium with its default cookie
// settings, with cmd/oauthfake as GitHub on a third site:
//
//   two sites: SPA https://app.test:<p1> -> API https://api.example:<p2>
//              (COOKIE_SAMESITE=none, Partitioned), GitHub https://github.test:<p3>
//   one site:  SPA https://app.example.test:<p1> -> API https://api.example.test:<p2>
//              (COOKIE_SAMESITE=lax), GitHub https://github.test:<p3>
//
// In each shape, from the SPA page: the consent page's Cancel ends on the
// errorCallbackURL with ?error=access_denied and no session; Authorize lands
// back on the SPA origin signed in as the chosen GitHub identity, and the
// session survives a reload; a returning user lands on callbackURL. Along the
// way the test records what Chromium did with the cookies (its cookie store
// and, per hop of the redirect chains, the cookies it sent and stored):
//
//   two sites: the state cookie of the SPA's cross-site fetch is stored
//              partitioned under the SPA's site and is not sent on the
//              top-level callback navigation, so the callback hands over a
//              one-time token (callbackURL?ott=); until the SPA's opt-in call
//              (POST /one-time-token/verify, which carries the state cookie)
//              it has no session; the session cookies then land in the SPA's
//              partition.
//   one site:  the first-party SameSite=Lax state cookie is sent on the
//              callback navigation, whose 302 sets the session cookies
//              directly: no ott, no extra call.
//
// The GitHub fake's authorize page is reached by the browser through an HTTPS
// proxy on github.test; the server calls its token and user endpoints on
// 127.0.0.1 directly. Run through ./run.sh (needs SERVER_BIN, OAUTHFAKE_BIN
// and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import { setupStack, startProxy, startOAuthFake, uniqueEmail } from './harness.mjs';
import {
  SESSION_COOKIE, header, formatExchange, exchangesSince, one, sentCookieNames, setCookieNames, setCookieLine, attrsOf,
  assertSessionUser, withDiagnostics,
} from './diagnostics.mjs';

const SERVER_BIN = process.env.SERVER_BIN;
const OAUTHFAKE_BIN = process.env.OAUTHFAKE_BIN;
const STATE_COOKIE = '__Secure-better-auth.state';
const CALLBACK_PATH = '/api/auth/callback/github';
const AUTHORIZE_PATH = '/github/login/oauth/authorize';

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');
if (!OAUTHFAKE_BIN) throw new Error('OAUTHFAKE_BIN must point to the built cmd/oauthfake (run ./run.sh)');

// The stack with cmd/oauthfake as GitHub, started before the server: the
// browser reaches it on https://providerHost (env.providerOrigin, a proxy of
// its own, env.providerProxy), the server on 127.0.0.1.
function setup(t, { providerHost, ...opts }) {
  let fakeDirect;
  return setupStack(t, {
    ...opts,
    bin: SERVER_BIN,
    otherHosts: [providerHost],
    prepare: async (env) => {
      const fake = await startOAuthFake({ bin: OAUTHFAKE_BIN, interactive: true });
      env.defer(fake.stop);
      env.fake = fake;
      env.dumps.push({ title: 'oauthfake output', text: () => fake.output() });
      const providerProxy = await startProxy(env.tls);
      env.defer(providerProxy.close);
      providerProxy.setTarget(fake.port);
      env.providerProxy = providerProxy;
      env.otherProxies.push({ label: 'GitHub', proxy: providerProxy });
      env.providerOrigin = `https://${providerHost}:${providerProxy.port}`;
      fakeDirect = `http://127.0.0.1:${fake.port}`;
      return {
        GITHUB_CLIENT_ID: 'github-test-client',
        GITHUB_CLIENT_SECRET: 'github-test-secret',
        // The browser goes to the authorize page on the provider's own site;
        // the server talks to the token and user endpoints directly.
        GITHUB_AUTH_URL: env.providerOrigin + AUTHORIZE_PATH,
        GITHUB_TOKEN_URL: fakeDirect + '/github/login/oauth/access_token',
        GITHUB_API_URL: fakeDirect + '/github',
      };
    },
    describe: (env) => `GitHub ${env.providerOrigin} -> ${fakeDirect}`,
  });
}

// A compact view of a cookie in Chromium's store.
function stored(c) {
  return {
    name: c.name, domain: c.domain, sameSite: c.sameSite, secure: c.secure,
    partitionKey: c.partitionKey ? c.partitionKey.topLevelSite + (c.partitionKey.hasCrossSiteAncestor ? ' (cross-site ancestor)' : '') : null,
  };
}

function authCookies(cookies) {
  return cookies.filter((c) => c.name.startsWith('__Secure-better-auth.')).map(stored);
}

// Chromium's record of the hop of a navigation/fetch `method` to `pathname`
// on `origin` (the latest one since hop index `since`; CORS preflights are
// OPTIONS hops of their own).
function hopFor(env, since, method, origin, pathname) {
  const hits = env.decisions.hops().slice(since).filter((h) => {
    if (!h.url || h.method !== method) return false;
    const u = new URL(h.url);
    return u.origin === origin && u.pathname === pathname;
  });
  assert.ok(hits.length, `Chromium recorded no ${method} ${origin}${pathname}`);
  return hits.at(-1);
}

function hopView(h) {
  return {
    method: h.method, url: h.url.replace(/([?&](code|state|ott)=)[^&]+/g, '$1…'), type: h.type, status: h.status,
    sentCookies: (h.sentCookies || []).map((c) => ({
      name: c.name, partitionKey: c.partitionKey?.topLevelSite ?? null, blockedReasons: c.blockedReasons,
    })),
    siteHasCookieInOtherPartition: h.siteHasCookieInOtherPartition,
    blockedSetCookies: (h.blockedSetCookies || []).map((b) => ({ cookie: b.line.split('=')[0], blockedReasons: b.blockedReasons })),
    cookiePartitionKey: h.cookiePartitionKey?.topLevelSite ?? null,
  };
}

async function waitForLanding(env) {
  await env.page.waitForFunction(() => document.body.dataset.landed === 'yes', null, { timeout: 15_000 });
  return env.page.evaluate(() => window.landing);
}

// From the SPA page: type the GitHub identity, click "Sign in with GitHub",
// go through the fake's consent page with `button` (#approve or #deny), land
// back on the SPA. Returns everything recorded on the way.
async function signInWithGitHub(env, email, button, label) {
  const t0 = Date.now();
  const logStart = env.proxy.log.length;
  const ghStart = env.providerProxy.log.length;
  const hopStart = env.decisions.hops().length;
  await env.page.goto(env.spaUrl, { waitUntil: 'load' });
  await env.page.fill('#login-hint', email);
  await Promise.all([
    env.page.waitForURL((u) => u.origin === env.providerOrigin, { timeout: 15_000 }),
    env.page.click('#signin-github'),
  ]);
  await env.page.waitForSelector('#approve', { timeout: 10_000 });
  const consentIdentity = await env.page.textContent('#identity');
  const storeAtConsent = await env.cookies();
  const consentShot = await env.screenshot(`${label}-github-consent`);

  await Promise.all([
    env.page.waitForURL((u) => u.origin === env.spaOrigin, { timeout: 15_000 }),
    env.page.click(button),
  ]);
  const landing = await waitForLanding(env);
  const landingShot = await env.screenshot(`${label}-landed`);
  const storeAfterLanding = await env.cookies();

  const signInX = one(exchangesSince(env.proxy.log, logStart, 'POST', '/api/auth/sign-in/social'), 'POST /sign-in/social');
  const callbackX = one(exchangesSince(env.proxy.log, logStart, 'GET', CALLBACK_PATH), `GET ${CALLBACK_PATH}`);
  const authorizeX = exchangesSince(env.providerProxy.log, ghStart, 'GET', AUTHORIZE_PATH);
  const consentX = exchangesSince(env.providerProxy.log, ghStart, 'POST', AUTHORIZE_PATH);
  const verifyX = exchangesSince(env.proxy.log, logStart, 'POST', '/api/auth/one-time-token/verify');
  const callbackHop = hopFor(env, hopStart, 'GET', env.apiOrigin, CALLBACK_PATH);
  const signInHop = hopFor(env, hopStart, 'POST', env.apiOrigin, '/api/auth/sign-in/social');
  return {
    email, consentIdentity, storeAtConsent, storeAfterLanding, landing, consentShot, landingShot,
    signInX, callbackX, authorizeX, consentX, verifyX, callbackHop, signInHop, hopStart, logStart, ms: Date.now() - t0,
  };
}

function commonFlowChecks(env, r) {
  // The SPA's POST /sign-in/social: {url, redirect:true} to GitHub's authorize page.
  assert.equal(r.signInX.status, 200, formatExchange(r.signInX));
  const body = JSON.parse(r.signInX.resBody);
  assert.equal(body.redirect, true);
  const authURL = new URL(body.url);
  assert.equal(authURL.origin + authURL.pathname, env.providerOrigin + AUTHORIZE_PATH, `authorize URL ${body.url}`);
  assert.equal(authURL.searchParams.get('login_hint'), r.email);
  assert.equal(authURL.searchParams.get('redirect_uri'), env.apiOrigin + CALLBACK_PATH);
  assert.equal(header(r.signInX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
  assert.ok(setCookieLine(r.signInX, STATE_COOKIE), `sign-in/social sets the state cookie: ${JSON.stringify(r.signInX.setCookie)}`);
  // The browser really went to the provider's own origin, showed the consent
  // page for the chosen identity and posted the decision there.
  assert.equal(r.authorizeX.length, 1, 'one GET of the authorize page through github.test');
  assert.equal(r.consentX.length, 1, 'one POST of the consent form through github.test');
  assert.equal(r.consentIdentity, r.email);
  assert.equal(r.callbackX.status, 302, formatExchange(r.callbackX));
  assert.equal(r.callbackHop.type, 'Document', 'the callback is a top-level navigation');
}

async function reloadAndCheck(t, env, email, label) {
  const logStart = env.proxy.log.length;
  await env.page.reload({ waitUntil: 'load' });
  const again = await waitForLanding(env);
  const shot = await env.screenshot(`${label}-after-reload`);
  assert.equal(again.ott, null, `the SPA dropped ott from the address bar before the reload: ${again.href}`);
  assertSessionUser(again.session, email, 'get-session after reload');
  const x = one(exchangesSince(env.proxy.log, logStart, 'GET', '/api/auth/get-session'), 'get-session after reload');
  assert.ok(sentCookieNames(x).includes(SESSION_COOKIE), 'get-session after reload carried the session cookie');
  assert.equal(exchangesSince(env.proxy.log, logStart, 'POST', '/api/auth/one-time-token/verify').length, 0,
    'no second verify on reload');
  t.diagnostic(`${env.name}: after reload at ${again.href}: signed in as ${again.session.json.user.email}; screenshot ${shot}`);
}

async function cancelFlow(t, env) {
  const email = uniqueEmail('cancel');
  const r = await signInWithGitHub(env, email, '#deny', 'cancel');
  commonFlowChecks(env, r);
  const landed = new URL(r.landing.href);
  t.diagnostic(`${env.name}: Cancel -> ${r.landing.href} (${r.ms} ms); callback Location ${header(r.callbackX.resHeaders, 'location')}; ` +
    `get-session ${r.landing.session.text}; auth cookies in store: ${JSON.stringify(authCookies(r.storeAfterLanding))}; screenshot ${r.landingShot}`);
  assert.equal(landed.origin, env.spaOrigin, 'Cancel lands on the SPA origin');
  assert.equal(landed.pathname, '/error', 'Cancel lands on errorCallbackURL');
  assert.equal(landed.searchParams.get('error'), 'access_denied', r.landing.href);
  assert.equal(landed.searchParams.get('ott'), null);
  assert.equal(r.verifyX.length, 0, 'no verify after Cancel');
  assert.equal(r.landing.session.text, 'null', 'no session after Cancel');
  assert.ok(!setCookieNames(r.callbackX).includes(SESSION_COOKIE), 'the Cancel callback sets no session cookie');
  assert.ok(!r.storeAfterLanding.some((c) => c.name === SESSION_COOKIE), 'no session cookie anywhere in the store after Cancel');
  return r;
}

async function signOut(env) {
  const out = await env.api('POST', '/api/auth/sign-out');
  assert.equal(out.status, 200, `sign-out: ${JSON.stringify(out)}`);
  const after = await env.api('GET', '/api/auth/get-session');
  assert.equal(after.text, 'null', 'signed out');
}

// ------------------------------------------------------------------ tests

test('two sites (app.test -> api.example, GitHub on github.test): social sign-in ends with ?ott= and the SPA\'s opt-in verify call', async (t) => {
  const env = await setup(t, {
    name: 'social-two-sites',
    spaHost: 'app.test',
    apiHost: 'api.example',
    providerHost: 'github.test',
    serverEnv: {}, // no cookie setting: two sites, so SameSite=None; Partitioned by default
  });
  await withDiagnostics(env, async () => {
    const SPA_SITE = 'https://app.test';
    await cancelFlow(t, env);

    const email = uniqueEmail('gh');
    const r = await signInWithGitHub(env, email, '#approve', 'approve');
    commonFlowChecks(env, r);

    // 1. The state cookie of the SPA's cross-site fetch: Partitioned, stored
    //    in the SPA site's partition.
    const stateLine = setCookieLine(r.signInX, STATE_COOKIE);
    for (const a of ['secure', 'samesite=none', 'partitioned', 'httponly']) {
      assert.ok(attrsOf(stateLine).includes(a), `state Set-Cookie lacks ${a}: ${stateLine}`);
    }
    assert.equal(header(r.signInX.reqHeaders, 'sec-fetch-site'), 'cross-site');
    const stateStored = r.storeAtConsent.filter((c) => c.name === STATE_COOKIE);
    assert.equal(stateStored.length, 1, `state cookie in the store at the consent page: ${JSON.stringify(authCookies(r.storeAtConsent))}`);
    assert.equal(stateStored[0].partitionKey?.topLevelSite, SPA_SITE, `state cookie partition: ${JSON.stringify(stateStored[0])}`);
    assert.deepEqual(r.signInHop.blockedSetCookies, [], `Chromium blocked a Set-Cookie of sign-in/social: ${JSON.stringify(hopView(r.signInHop))}`);
    assert.equal(r.signInHop.cookiePartitionKey?.topLevelSite, SPA_SITE);

    // 2. The callback is a top-level navigation to the API's own site: the
    //    partitioned state cookie is not sent, so a plain flow would fail the
    //    state check. The server hands over a one-time token instead.
    const cbCookies = sentCookieNames(r.callbackX);
    const cbView = hopView(r.callbackHop);
    t.diagnostic(`${env.name}: state Set-Cookie: ${stateLine.replace(/=[^;]+/, '=…')}`);
    t.diagnostic(`${env.name}: sign-in/social fetch: Chromium ${JSON.stringify(hopView(r.signInHop))}`);
    t.diagnostic(`${env.name}: state cookie at the consent page: ${JSON.stringify(authCookies(r.storeAtConsent))}`);
    t.diagnostic(`${env.name}: callback navigation: Cookie header names ${JSON.stringify(cbCookies)}; Chromium: ${JSON.stringify(cbView)}`);
    assert.ok(!cbCookies.includes(STATE_COOKIE), `the state cookie was sent on the top-level callback: ${header(r.callbackX.reqHeaders, 'cookie')}`);
    assert.ok(!(r.callbackHop.sentCookies || []).some((c) => c.name === STATE_COOKIE && c.blockedReasons.length === 0),
      `Chromium says it sent the state cookie on the callback: ${JSON.stringify(cbView)}`);
    assert.equal(header(r.callbackX.reqHeaders, 'sec-fetch-site'), 'cross-site', 'the callback comes from github.test');
    assert.equal(header(r.callbackX.reqHeaders, 'sec-fetch-mode'), 'navigate');
    const location = header(r.callbackX.resHeaders, 'location');
    const loc = new URL(location);
    assert.equal(loc.origin + loc.pathname, env.spaOrigin + '/done', `callback Location ${location}`);
    assert.ok(loc.searchParams.get('ott'), `callback Location has ?ott=: ${location}`);
    assert.ok(!setCookieNames(r.callbackX).includes(SESSION_COOKIE),
      `the deferred callback must not sign in: ${JSON.stringify(r.callbackX.setCookie)}`);

    // 3. Landing on the SPA: before the opt-in call there is no session.
    const landed = new URL(r.landing.href);
    assert.equal(landed.origin, env.spaOrigin, 'landed on the SPA origin');
    assert.equal(landed.pathname, '/done');
    assert.equal(r.landing.ott, loc.searchParams.get('ott'));
    assert.equal(r.landing.beforeVerify.status, 200);
    assert.equal(r.landing.beforeVerify.text, 'null', 'without the opt-in call the SPA has no session');
    const beforeX = exchangesSince(env.proxy.log, r.logStart, 'GET', '/api/auth/get-session')[0];
    assert.ok(!sentCookieNames(beforeX).includes(SESSION_COOKIE), 'no session cookie before verify');

    // 4. The opt-in: POST /one-time-token/verify carries the partitioned
    //    state cookie and sets the session cookies in the SPA's partition.
    const verifyX = one(r.verifyX, 'POST /one-time-token/verify');
    assert.equal(r.landing.verify.status, 200, formatExchange(verifyX));
    assert.ok(sentCookieNames(verifyX).includes(STATE_COOKIE), `verify carried the state cookie: ${header(verifyX.reqHeaders, 'cookie')}`);
    const verifyHop = hopFor(env, r.hopStart, 'POST', env.apiOrigin, '/api/auth/one-time-token/verify');
    const sentState = (verifyHop.sentCookies || []).find((c) => c.name === STATE_COOKIE);
    assert.equal(sentState?.partitionKey?.topLevelSite, SPA_SITE, `state cookie on verify: ${JSON.stringify(hopView(verifyHop))}`);
    assert.deepEqual(sentState.blockedReasons, []);
    const v = r.landing.verify.json;
    assert.equal(v.user.email, email);
    assert.equal(v.session.userId, v.user.id);
    assert.equal(v.newUser, true, 'first sign-in creates the user');
    assert.equal(v.url, env.spaOrigin + '/welcome', 'verify answers the newUserCallbackURL for a new account');
    const sessionLine = setCookieLine(verifyX, SESSION_COOKIE);
    assert.ok(sessionLine, `verify sets the session cookie: ${JSON.stringify(verifyX.setCookie)}`);
    for (const a of ['secure', 'samesite=none', 'partitioned', 'httponly']) {
      assert.ok(attrsOf(sessionLine).includes(a), `session Set-Cookie lacks ${a}: ${sessionLine}`);
    }
    assert.deepEqual(verifyHop.blockedSetCookies, [], `Chromium blocked a Set-Cookie of verify: ${JSON.stringify(hopView(verifyHop))}`);
    assertSessionUser(r.landing.session, email, 'get-session after verify');
    const sessionStored = r.storeAfterLanding.filter((c) => c.name === SESSION_COOKIE);
    assert.equal(sessionStored.length, 1, `session cookies in the store: ${JSON.stringify(authCookies(r.storeAfterLanding))}`);
    assert.equal(sessionStored[0].partitionKey?.topLevelSite, SPA_SITE, 'session cookie partitioned under the SPA site');
    assert.ok(!r.storeAfterLanding.some((c) => c.name === STATE_COOKIE && c.partitionKey?.topLevelSite === SPA_SITE),
      'verify expired the state cookie in the SPA partition');
    t.diagnostic(`${env.name}: Authorize -> ${r.landing.href.replace(/ott=[^&]+/, 'ott=…')} (${r.ms} ms from the SPA page to signed in); ` +
      `get-session before verify: ${r.landing.beforeVerify.text}; verify ${r.landing.verify.status} ` +
      `{user: ${v.user.email}, newUser: ${v.newUser}, url: ${v.url}}; screenshot ${r.landingShot}`);
    t.diagnostic(`${env.name}: verify request: Chromium ${JSON.stringify(hopView(verifyHop))}`);
    t.diagnostic(`${env.name}: auth cookies in the store after landing: ${JSON.stringify(authCookies(r.storeAfterLanding))}`);

    await reloadAndCheck(t, env, email, 'approve');

    // A returning user: same identity after sign-out -> callbackURL, newUser false.
    await signOut(env);
    const back = await signInWithGitHub(env, email, '#approve', 'returning');
    commonFlowChecks(env, back);
    assert.ok(new URL(back.landing.href).searchParams.get('ott'), `returning user: ${back.landing.href}`);
    assert.equal(back.landing.beforeVerify.text, 'null');
    assert.equal(back.landing.verify.status, 200, JSON.stringify(back.landing.verify));
    assert.equal(back.landing.verify.json.newUser, false);
    assert.equal(back.landing.verify.json.user.id, v.user.id, 'same GitHub identity, same user');
    assert.equal(back.landing.verify.json.url, env.spaOrigin + '/done');
    assertSessionUser(back.landing.session, email, 'returning user get-session');
    t.diagnostic(`${env.name}: returning user -> /done?ott=…, verify newUser=false url=${back.landing.verify.json.url} (${back.ms} ms)`);
  });
});

test('one site (app.example.test -> api.example.test, GitHub on github.test): social sign-in redirects straight to the SPA with the session set', async (t) => {
  const env = await setup(t, {
    name: 'social-one-site',
    spaHost: 'app.example.test',
    apiHost: 'api.example.test',
    providerHost: 'github.test',
    serverEnv: { COOKIE_SAMESITE: 'lax' },
  });
  await withDiagnostics(env, async () => {
    await cancelFlow(t, env);

    const email = uniqueEmail('gh');
    const r = await signInWithGitHub(env, email, '#approve', 'approve');
    commonFlowChecks(env, r);

    // The state cookie: first-party, SameSite=Lax, unpartitioned.
    const stateLine = setCookieLine(r.signInX, STATE_COOKIE);
    assert.ok(attrsOf(stateLine).includes('samesite=lax'), stateLine);
    assert.ok(!attrsOf(stateLine).includes('partitioned'), stateLine);
    assert.equal(header(r.signInX.reqHeaders, 'sec-fetch-site'), 'same-site');
    const stateStored = r.storeAtConsent.filter((c) => c.name === STATE_COOKIE);
    assert.equal(stateStored.length, 1, `state cookie in the store: ${JSON.stringify(authCookies(r.storeAtConsent))}`);
    assert.equal(stateStored[0].partitionKey, undefined, 'state cookie unpartitioned');

    // The callback navigation carries it (Lax: top-level GET), and its 302
    // sets the session and sends the browser to the SPA, without ott.
    const cbView = hopView(r.callbackHop);
    t.diagnostic(`${env.name}: state Set-Cookie: ${stateLine.replace(/=[^;]+/, '=…')}`);
    t.diagnostic(`${env.name}: sign-in/social fetch: Chromium ${JSON.stringify(hopView(r.signInHop))}`);
    t.diagnostic(`${env.name}: state cookie at the consent page: ${JSON.stringify(authCookies(r.storeAtConsent))}`);
    t.diagnostic(`${env.name}: callback navigation: Cookie header names ${JSON.stringify(sentCookieNames(r.callbackX))}; Chromium: ${JSON.stringify(cbView)}`);
    assert.ok(sentCookieNames(r.callbackX).includes(STATE_COOKIE), `state cookie not sent on the callback: ${JSON.stringify(cbView)}`);
    assert.equal(header(r.callbackX.reqHeaders, 'sec-fetch-site'), 'cross-site', 'the callback comes from github.test');
    const location = header(r.callbackX.resHeaders, 'location');
    const loc = new URL(location);
    assert.equal(loc.origin + loc.pathname, env.spaOrigin + '/welcome', `new user -> newUserCallbackURL: ${location}`);
    assert.equal(loc.searchParams.get('ott'), null, `no ott in the one-site shape: ${location}`);
    const sessionLine = setCookieLine(r.callbackX, SESSION_COOKIE);
    assert.ok(sessionLine, `the callback sets the session cookie: ${JSON.stringify(r.callbackX.setCookie)}`);
    assert.ok(attrsOf(sessionLine).includes('samesite=lax') && !attrsOf(sessionLine).includes('partitioned'), sessionLine);
    assert.deepEqual(r.callbackHop.blockedSetCookies, [], `Chromium blocked a Set-Cookie of the callback: ${JSON.stringify(cbView)}`);

    const landed = new URL(r.landing.href);
    assert.equal(landed.origin, env.spaOrigin, 'landed on the SPA origin');
    assert.equal(landed.pathname, '/welcome');
    assert.equal(r.landing.ott, null);
    assert.equal(r.verifyX.length, 0, 'no verify call in the one-site shape');
    assertSessionUser(r.landing.session, email, 'get-session on landing');
    const sessionStored = r.storeAfterLanding.filter((c) => c.name === SESSION_COOKIE);
    assert.equal(sessionStored.length, 1, `session cookies in the store: ${JSON.stringify(authCookies(r.storeAfterLanding))}`);
    assert.equal(sessionStored[0].partitionKey, undefined, 'session cookie unpartitioned (first-party)');
    assert.equal(sessionStored[0].domain, 'api.example.test');
    assert.ok(!r.storeAfterLanding.some((c) => c.name === STATE_COOKIE), 'the callback expired the state cookie');
    t.diagnostic(`${env.name}: Authorize -> ${r.landing.href} (${r.ms} ms from the SPA page to signed in); ` +
      `get-session: ${r.landing.session.json.user.email}; screenshot ${r.landingShot}`);
    t.diagnostic(`${env.name}: auth cookies in the store after landing: ${JSON.stringify(authCookies(r.storeAfterLanding))}`);

    await reloadAndCheck(t, env, email, 'approve');

    await signOut(env);
    const back = await signInWithGitHub(env, email, '#approve', 'returning');
    commonFlowChecks(env, back);
    const backLanded = new URL(back.landing.href);
    assert.equal(backLanded.origin + backLanded.pathname + backLanded.search, env.spaOrigin + '/done', `returning user: ${back.landing.href}`);
    assertSessionUser(back.landing.session, email, 'returning user get-session');
    assert.equal(back.landing.session.json.user.id, r.landing.session.json.user.id, 'same GitHub identity, same user');
    t.diagnostic(`${env.name}: returning user -> ${back.landing.href} (${back.ms} ms)`);
  });
});
