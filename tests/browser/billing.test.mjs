// Browser test: buying a credit pack through make dev's built-in checkout
// (docs/billing.md §1 and §12, docs/app-api.md §22), seen from a real
// headless Chromium with its default cookie settings:
//
//   two sites: SPA https://app.test:<p1>  ->  API https://api.example:<p2>
//              (SameSite=None; Secure; Partitioned, the server's default)
//   one site:  SPA https://app.example.test:<p1> -> API https://api.example.test:<p2>
//              (COOKIE_SAMESITE=lax)
//
// With no STRIPE_SECRET_KEY, make dev sells its demo packs (starter: 20
// image-from-text and 10 image-from-reference credits, makes the account
// paid; refill) through the stand-in for Stripe (internal/devtools/stripedev)
// served on the API's own origin at /v1/ and /_stripe/. In each shape: the
// SPA page signs up; GET /api/billing/packs (public) lists starter; the page
// POSTs /api/billing/checkout {packId, successUrl: <SPA>/billing/done?session=
// {CHECKOUT_SESSION_ID}, cancelUrl: <SPA>/billing} with credentials:
// "include" -> 200 {sessionId, url}, url on the API's origin under
// /_stripe/checkout/. The page goes there (location.href = url, as the SPA
// does); "Cancel" (#cancel, a form POST) 303s to <SPA>/billing, where
// /api/me still shows free 1/1 and there are no purchases. A second checkout,
// "Pay" (#pay): the stand-in delivers a signed checkout.session.completed to
// the webhook in process, then 303s to <SPA>/billing/done?session=<sessionId>
// (the placeholder filled in); from that page /api/me shows paid 21/11 and
// /api/billing/purchases the one purchase of that session. A checkout whose
// successUrl is on another site is refused: 403 INVALID_REDIRECT_URL.
//
// Skipped under make test-lambda: the built-in checkout is make dev's alone
// (devapp.DevHandler); the local gateway in front of the packaged functions
// serves neither /_stripe/ nor a Stripe stand-in.
//
// Run through ./run.sh (needs SERVER_BIN and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import { setupStack, packagedFunctions, uniqueEmail } from './harness.mjs';
import {
  SESSION_COOKIE, header, formatExchange, exchangesSince, one, sentCookieNames, assertSessionUser, withDiagnostics,
} from './diagnostics.mjs';

const SERVER_BIN = process.env.SERVER_BIN;
const PASSWORD = 'correct-horse-battery-staple';
const STARTER = { id: 'starter', credits: { productShoots: 20, adGraphics: 10 }, paid: true };

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');

const SKIP_PACKAGED = 'the built-in checkout (/_stripe/) is make dev\'s alone (devapp.DevHandler): ' +
  'the local gateway in front of the packaged functions has no Stripe stand-in';

function setup(t, opts) {
  return setupStack(t, {
    ...opts,
    bin: SERVER_BIN,
    describe: (env) => (packagedFunctions(env) ? 'packaged functions behind the local gateway' : 'make dev, built-in checkout'),
  });
}

// ------------------------------------------------------------------ helpers

// The page's /api/me profile.
async function profile(env, what) {
  const me = await env.api('GET', '/api/me');
  assert.equal(me.status, 200, `${what}: /api/me ${JSON.stringify(me)}`);
  return me.json.profile;
}

// POST /api/billing/checkout from the page, as the SPA sends it.
function checkout(env, body) {
  return env.api('POST', '/api/billing/checkout', body);
}

// A checkout that must succeed: its answer, checked, and its exchange.
async function startCheckout(env, body, what) {
  const start = env.proxy.log.length;
  const res = await checkout(env, body);
  const x = one(exchangesSince(env.proxy.log, start, 'POST', '/api/billing/checkout'), `POST /api/billing/checkout (${what})`);
  assert.equal(res.status, 200, `${what}: ${formatExchange(x)}`);
  const { sessionId, url } = res.json || {};
  assert.equal(typeof sessionId, 'string', `${what}: ${res.text}`);
  assert.ok(sessionId.length > 0, `${what}: ${res.text}`);
  assert.equal(typeof url, 'string', `${what}: ${res.text}`);
  const u = new URL(url);
  assert.equal(u.origin, env.apiOrigin, `${what}: the payment page is on the API's origin: ${url}`);
  assert.equal(u.pathname, `/_stripe/checkout/${sessionId}`, `${what}: ${url}`);
  assert.equal(header(x.reqHeaders, 'origin'), env.spaOrigin);
  assert.ok(sentCookieNames(x).includes(SESSION_COOKIE), `${what}: the credentialed checkout carried the session cookie: ${header(x.reqHeaders, 'cookie')}`);
  assert.equal(header(x.resHeaders, 'access-control-allow-origin'), env.spaOrigin, formatExchange(x));
  assert.equal(header(x.resHeaders, 'access-control-allow-credentials'), 'true', formatExchange(x));
  return { sessionId, url };
}

// The SPA sends the browser to the payment page: location.href = url.
async function openPaymentPage(env, url, sessionId) {
  const start = env.proxy.log.length;
  await Promise.all([
    env.page.waitForURL(url, { waitUntil: 'load', timeout: 15_000 }),
    env.page.evaluate((u) => { location.href = u; }, url),
  ]);
  const x = one(exchangesSince(env.proxy.log, start, 'GET', new URL(url).pathname), `GET ${new URL(url).pathname}`);
  assert.equal(x.status, 200, formatExchange(x));
  assert.match(header(x.resHeaders, 'content-type') || '', /^text\/html/, formatExchange(x));
  assert.equal(await env.page.title(), 'Built-in checkout (make dev)');
  const text = await env.page.textContent('body');
  assert.ok(text.includes(sessionId), `the payment page names the session ${sessionId}:\n${text}`);
  assert.ok(text.includes('starter'), `the payment page names the pack:\n${text}`);
  assert.ok(text.includes('$9.00'), `the payment page shows the stand-in's one price:\n${text}`);
  assert.ok(await env.page.isVisible('#pay'), 'Pay button');
  assert.ok(await env.page.isVisible('#cancel'), 'Cancel button');
  return x;
}

// Clicks a button of the payment page (a form POST answered 303) and waits
// for the SPA's page it lands on. Returns the POST's exchange and where the
// tab landed.
async function clickAndLand(env, button, sessionId, expected) {
  const start = env.proxy.log.length;
  const action = `/_stripe/checkout/${sessionId}/${button.slice(1)}`;
  await Promise.all([
    env.page.waitForURL((u) => u.origin === env.spaOrigin, { waitUntil: 'load', timeout: 15_000 }),
    env.page.click(button),
  ]);
  await env.page.waitForFunction(() => document.body.dataset.landed === 'yes', null, { timeout: 15_000 });
  const landing = await env.page.evaluate(() => window.landing);
  const x = one(exchangesSince(env.proxy.log, start, 'POST', action), `POST ${action}`);
  assert.equal(x.status, 303, formatExchange(x));
  assert.equal(header(x.resHeaders, 'location'), expected, formatExchange(x));
  const landed = new URL(env.page.url());
  assert.equal(landed.href, new URL(expected).href, `landed on ${landed.href}`);
  return { x, landed, landing };
}

// ------------------------------------------------------------------ the flow

async function billingFlow(t, env, { twoSites }) {
  const email = uniqueEmail('billing');
  const successUrl = `${env.spaOrigin}/billing/done?session={CHECKOUT_SESSION_ID}`;
  const cancelUrl = `${env.spaOrigin}/billing`;

  // 1. The SPA page signs up.
  await env.page.goto(env.spaUrl, { waitUntil: 'load' });
  const signUp = await env.api('POST', '/api/auth/sign-up/email', { name: 'Billing Tester', email, password: PASSWORD });
  assert.equal(signUp.status, 200, `sign-up: ${JSON.stringify(signUp)}`);
  const userId = signUp.json?.user?.id;
  assert.ok(userId, `sign-up body: ${signUp.text}`);
  assertSessionUser(await env.api('GET', '/api/auth/get-session'), email, 'get-session after sign-up');
  const fresh = await profile(env, 'after sign-up');
  assert.deepEqual([fresh.accountType, fresh.creditsProductShoots, fresh.creditsAdGraphics], ['free', 1, 1], JSON.stringify(fresh));

  // 2. The catalog: public, lists the demo pack starter.
  const packs = await env.api('GET', '/api/billing/packs');
  assert.equal(packs.status, 200, `GET /api/billing/packs: ${JSON.stringify(packs)}`);
  const starter = (packs.json?.packs || []).find((p) => p.id === STARTER.id);
  assert.ok(starter, `starter in the catalog: ${packs.text}`);
  assert.deepEqual(starter.credits, STARTER.credits, packs.text);
  assert.equal(starter.paid, STARTER.paid, packs.text);
  t.diagnostic(`${env.name}: GET /api/billing/packs -> ${packs.text}`);

  // 3 and 4. A checkout, then Cancel on the payment page: back on the SPA's
  //    cancelUrl, nothing bought.
  const first = await startCheckout(env, { packId: 'starter', successUrl, cancelUrl }, 'first checkout');
  const firstPage = await openPaymentPage(env, first.url, first.sessionId);
  if (twoSites) {
    // A top-level page on the API's site: the session cookie, partitioned
    // under the SPA's site, is not sent there (nor needed).
    assert.ok(!sentCookieNames(firstPage).includes(SESSION_COOKIE), `session cookie sent to the payment page: ${header(firstPage.reqHeaders, 'cookie')}`);
  }
  const cancelled = await clickAndLand(env, '#cancel', first.sessionId, cancelUrl);
  assert.equal(cancelled.landed.pathname, '/billing');
  assertSessionUser(cancelled.landing.session, email, 'get-session on the cancel page');
  const afterCancel = await profile(env, 'after Cancel');
  assert.deepEqual([afterCancel.accountType, afterCancel.creditsProductShoots, afterCancel.creditsAdGraphics], ['free', 1, 1],
    `Cancel buys nothing: ${JSON.stringify(afterCancel)}`);
  const noPurchases = await env.api('GET', '/api/billing/purchases');
  assert.equal(noPurchases.status, 200, JSON.stringify(noPurchases));
  assert.deepEqual(noPurchases.json, { purchases: [] }, noPurchases.text);
  t.diagnostic(`${env.name}: checkout ${first.sessionId} -> ${first.url}; Cancel -> ${cancelled.landed.href}; ` +
    `/api/me ${afterCancel.accountType} ${afterCancel.creditsProductShoots}/${afterCancel.creditsAdGraphics}`);

  // 5. A second checkout, Pay: the webhook grants the pack before the
  //    browser is sent to successUrl, {CHECKOUT_SESSION_ID} filled in.
  const second = await startCheckout(env, { packId: 'starter', successUrl, cancelUrl }, 'second checkout');
  assert.notEqual(second.sessionId, first.sessionId, 'a new session for a checkout without Idempotency-Key');
  await openPaymentPage(env, second.url, second.sessionId);
  const checkoutShot = await env.screenshot('checkout-page');
  const doneUrl = `${env.spaOrigin}/billing/done?session=${second.sessionId}`;
  const paid = await clickAndLand(env, '#pay', second.sessionId, doneUrl);
  assert.equal(paid.landed.pathname, '/billing/done');
  assert.equal(paid.landed.searchParams.get('session'), second.sessionId, paid.landed.href);
  assertSessionUser(paid.landing.session, email, 'get-session on the success page');
  const after = await profile(env, 'after Pay');
  assert.equal(after.accountType, 'paid', JSON.stringify(after));
  assert.equal(after.creditsProductShoots, 1 + STARTER.credits.productShoots, JSON.stringify(after));
  assert.equal(after.creditsAdGraphics, 1 + STARTER.credits.adGraphics, JSON.stringify(after));
  const purchases = await env.api('GET', '/api/billing/purchases');
  assert.equal(purchases.status, 200, JSON.stringify(purchases));
  const list = purchases.json?.purchases;
  assert.equal(list?.length, 1, `one entry: ${purchases.text}`);
  assert.equal(list[0].kind, 'purchase', purchases.text);
  assert.equal(list[0].checkoutSessionId, second.sessionId, purchases.text);
  assert.equal(list[0].id, `${second.sessionId}:purchase`, purchases.text);
  assert.equal(list[0].packId, 'starter', purchases.text);
  assert.deepEqual(list[0].credits, STARTER.credits, purchases.text);
  assert.deepEqual([list[0].amount, list[0].currency], [900, 'usd'], `the stand-in's one price, $9.00: ${purchases.text}`);
  const doneShot = await env.screenshot('billing-done');
  t.diagnostic(`${env.name}: checkout ${second.sessionId}; Pay -> ${paid.landed.href}; /api/me ${after.accountType} ` +
    `${after.creditsProductShoots}/${after.creditsAdGraphics}; purchases ${purchases.text}; screenshots ${checkoutShot}, ${doneShot}`);
  assert.match(env.server.output(), new RegExp(`event delivered[^\\n]*checkout\\.session\\.completed[^\\n]*${second.sessionId}`),
    'the server logs the delivered event');

  // 6. A successUrl on another site is refused before Stripe is called.
  const evil = await checkout(env, { packId: 'starter', successUrl: 'https://evil.example/x', cancelUrl });
  assert.equal(evil.status, 403, `successUrl on another site: ${JSON.stringify(evil)}`);
  assert.equal(evil.json?.error?.code, 'INVALID_REDIRECT_URL', evil.text);
  const still = await env.api('GET', '/api/billing/purchases');
  assert.equal(still.json?.purchases?.length, 1, still.text);
}

// ------------------------------------------------------------------ tests

test('two sites, SameSite=None; Secure; Partitioned: buy the starter pack through make dev\'s built-in checkout (Cancel, then Pay)', async (t) => {
  const env = await setup(t, {
    name: 'billing-two-sites',
    spaHost: 'app.test',
    apiHost: 'api.example',
    serverEnv: {}, // no cookie setting: the server picks SameSite=None; Secure; Partitioned itself
  });
  if (packagedFunctions(env)) {
    t.skip(SKIP_PACKAGED);
    return;
  }
  await withDiagnostics(env, () => billingFlow(t, env, { twoSites: true }));
});

test('one site (app.example.test -> api.example.test), SameSite=Lax: the same purchase', async (t) => {
  const env = await setup(t, {
    name: 'billing-one-site',
    spaHost: 'app.example.test',
    apiHost: 'api.example.test',
    serverEnv: { COOKIE_SAMESITE: 'lax' },
  });
  if (packagedFunctions(env)) {
    t.skip(SKIP_PACKAGED);
    return;
  }
  await withDiagnostics(env, () => billingFlow(t, env, { twoSites: false }));
});
