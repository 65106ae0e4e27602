// Browser test: cookie sessions of the Go better-auth-compatible server, seen
// from a real headless Chromium with its default cookie settings.
//
//   two sites: SPA https://app.test:<p1>  ->  API https://api.example:<p2>
//              COOKIE_SAMESITE=none (Partitioned by default) must keep the session;
//              COOKIE_PARTITIONED=false documents what Chromium does with an
//              unpartitioned third-party cookie.
//   one site:  SPA https://app.example.test:<p1> -> API https://api.example.test:<p2>
//              COOKIE_SAMESITE=lax must keep the session.
//
// In both shapes that keep the session, the reloaded page then does what the
// SPA does: POST /api/workflows/image-from-text (preflighted, credentialed
// fetch; cmd/dev's built-in generator draws a real PNG into OBJECTS_DIR),
// GET /api/history, and <img src=assetUrl>, which must load: the browser has
// to send the session cookie on a cross-origin image request. The same <img>
// in a fresh browser context must not load, neither without a session nor for
// another signed-in user.
//
// Run through ./run.sh (needs SERVER_BIN and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  tmpDir, makeCert, startSpaServer, startProxy, freePort, startServer,
  launchChromium, recordCookieDecisions, allCookies, header, formatExchange,
} from './harness.mjs';

const SERVER_BIN = process.env.SERVER_BIN;
const SHOTS = process.env.SCREENSHOT_DIR || tmpDir('adstudio-browser-shots-');
const SESSION_COOKIE = '__Secure-better-auth.session_token';

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');

async function setup(t, { name, spaHost, apiHost, serverEnv }) {
  const dir = tmpDir(`adstudio-browser-${name}-`);
  const cleanups = [];
  const env = { name, dir };
  t.after(async () => {
    for (const c of cleanups.reverse()) await c().catch((e) => console.error('cleanup:', e));
    if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
  });
  const tls = makeCert(dir, [spaHost, apiHost]);
  const spa = await startSpaServer(tls);
  cleanups.push(spa.close);
  const proxy = await startProxy(tls);
  cleanups.push(proxy.close);
  env.proxy = proxy;
  env.spaOrigin = `https://${spaHost}:${spa.port}`;
  env.apiOrigin = `https://${apiHost}:${proxy.port}`;
  const port = await freePort();
  const server = await startServer({
    bin: SERVER_BIN,
    port,
    dir,
    env: {
      BETTER_AUTH_URL: env.apiOrigin,
      TRUSTED_ORIGINS: env.spaOrigin,
      COOKIE_SECURE: 'true',
      OBJECTS_DIR: path.join(dir, 'objects'),
      ...serverEnv,
    },
  });
  cleanups.push(server.stop);
  env.server = server;
  proxy.setTarget(port);
  const profile = path.join(dir, 'chromium-profile');
  fs.mkdirSync(profile);
  const chrome = await launchChromium(profile);
  cleanups.push(chrome.close);
  env.chrome = chrome;
  env.page = chrome.page;
  env.decisions = await recordCookieDecisions(chrome.context, chrome.page);
  cleanups.push(env.decisions.detach);
  env.spaUrl = `${env.spaOrigin}/?api=${encodeURIComponent(env.apiOrigin)}`;
  env.objectsDir = path.join(dir, 'objects');
  env.api = (method, p, body, opts) => env.page.evaluate(([m, pp, b, o]) => window.api(m, pp, b, o), [method, p, body, opts]);
  env.cookies = () => allCookies(chrome.browser);
  env.screenshot = async (label) => {
    const file = path.join(SHOTS, `${name}-${label}.png`);
    await env.page.screenshot({ path: file, fullPage: true }).catch(() => {});
    return file;
  };
  t.diagnostic(`${name}: Chromium ${chrome.version}; SPA ${env.spaOrigin}; API ${env.apiOrigin} -> http://127.0.0.1:${port}`);
  return env;
}

// On failure, print everything needed to tell a harness problem from a server
// problem: every proxied exchange (headers incl. Set-Cookie/Cookie), Chromium's
// own cookie decisions, the cookie store and the server output.
async function withDiagnostics(env, fn) {
  try {
    await fn();
    if (process.env.DEBUG_EXCHANGES) {
      console.error(`\n===== ${env.name}: exchanges (DEBUG_EXCHANGES) =====`);
      for (const e of env.proxy.log) console.error(formatExchange(e));
    }
  } catch (err) {
    const cookies = await env.cookies().catch((e) => `unavailable: ${e}`);
    console.error(`\n===== ${env.name}: diagnostics =====`);
    console.error('--- proxied exchanges ---');
    for (const e of env.proxy.log) console.error(formatExchange(e));
    console.error('--- Chromium cookie decisions (DevTools Network domain) ---');
    console.error(JSON.stringify(env.decisions.entries().filter((d) => d.url && !d.url.startsWith('data:'))
      .map(({ requestHeaders, ...d }) => d), null, 1)); // request headers: see the proxied exchanges
    console.error('--- Chromium cookie store ---');
    console.error(JSON.stringify(cookies, null, 1));
    console.error('--- server output (last 4000 chars) ---');
    console.error(env.server.output().slice(-4000));
    console.error(`--- screenshot: ${await env.screenshot('failure')}`);
    throw err;
  }
}

function lastExchange(env, method, pathname) {
  const hits = env.proxy.log.filter((e) => e.method === method && e.url.split('?')[0] === pathname);
  assert.ok(hits.length, `no ${method} ${pathname} went through the proxy`);
  return hits[hits.length - 1];
}

function cookieAttrs(setCookieLine) {
  const [nv, ...attrs] = setCookieLine.split(';').map((s) => s.trim());
  return { nameValue: nv, attrs: attrs.map((a) => a.toLowerCase()) };
}

function sessionSetCookie(exchange) {
  const lines = (exchange.setCookie || []).filter((l) => l.startsWith(SESSION_COOKIE + '='));
  assert.equal(lines.length, 1,
    `${exchange.method} ${exchange.url}: expected exactly one Set-Cookie for ${SESSION_COOKIE}, got ${JSON.stringify(exchange.setCookie)}`);
  return lines[0];
}

// Every auth Set-Cookie line of an exchange must carry `required` attributes
// and none of `forbidden` (lower-case attribute strings).
function assertAuthSetCookies(exchange, required, forbidden = []) {
  const lines = (exchange.setCookie || []).filter((l) => l.startsWith('__Secure-better-auth.'));
  assert.ok(lines.length > 0, `${exchange.method} ${exchange.url}: no auth Set-Cookie at all: ${JSON.stringify(exchange.setCookie)}`);
  for (const line of lines) {
    const { attrs } = cookieAttrs(line);
    for (const a of required) assert.ok(attrs.includes(a), `${exchange.method} ${exchange.url}: Set-Cookie lacks ${a}: ${line}`);
    for (const a of forbidden) assert.ok(!attrs.includes(a), `${exchange.method} ${exchange.url}: Set-Cookie has ${a}: ${line}`);
  }
}

function sentCookieNames(exchange) {
  const c = header(exchange.reqHeaders, 'cookie') || '';
  return c.split(';').map((s) => s.trim().split('=')[0]).filter(Boolean);
}

// sign up -> reload -> get-session / me. Returns what happened.
async function signUpAndReload(env) {
  const email = `user-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  await env.page.goto(env.spaUrl, { waitUntil: 'load' });

  const before = await env.api('GET', '/api/auth/get-session');
  assert.equal(before.status, 200, `get-session before sign-up: ${JSON.stringify(before)}`);
  assert.equal(before.text, 'null', 'get-session before sign-up must be the 4 bytes null');

  const signUp = await env.api('POST', '/api/auth/sign-up/email', {
    name: 'Browser Tester', email, password: 'correct-horse-battery-staple',
  });
  assert.equal(signUp.status, 200, `sign-up: ${JSON.stringify(signUp)}`);
  assert.equal(signUp.json?.user?.email, email, `sign-up body: ${signUp.text}`);
  const signUpX = lastExchange(env, 'POST', '/api/auth/sign-up/email');
  assert.equal(header(signUpX.reqHeaders, 'origin'), env.spaOrigin, 'browser sent the SPA origin on sign-up');
  assert.equal(header(signUpX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
  assert.equal(header(signUpX.resHeaders, 'access-control-allow-credentials'), 'true');
  const storedAfterSignUp = await env.cookies();

  await env.page.reload({ waitUntil: 'load' });

  const session = await env.api('GET', '/api/auth/get-session');
  const sessionX = lastExchange(env, 'GET', '/api/auth/get-session');
  const me = await env.api('GET', '/api/me');
  const meX = lastExchange(env, 'GET', '/api/me');
  const shot = await env.screenshot('after-reload');
  return { email, signUp, signUpX, storedAfterSignUp, session, sessionX, me, meX, shot };
}

function decisionsFor(env, method, pathname) {
  return env.decisions.entries().filter((d) => d.method === method && d.url && new URL(d.url).pathname === pathname);
}

function assertSessionKept(env, r) {
  assert.equal(r.session.status, 200, `get-session after reload: ${JSON.stringify(r.session)}`);
  assert.ok(r.session.json && r.session.json.user,
    `get-session after reload returned ${r.session.text}; request Cookie header: ${JSON.stringify(header(r.sessionX.reqHeaders, 'cookie') ?? null)}`);
  assert.equal(r.session.json.user.email, r.email);
  assert.equal(r.session.json.user.id, r.signUp.json.user.id);
  assert.equal(r.session.json.session?.userId, r.signUp.json.user.id);
  assert.ok(sentCookieNames(r.sessionX).includes(SESSION_COOKIE), 'Chromium sent the session cookie after reload');
  assert.equal(r.me.status, 200, `GET /api/me after reload: ${JSON.stringify(r.me)}`);
  assert.equal(r.me.json?.user?.id, r.signUp.json.user.id, `/api/me body: ${r.me.text}`);
  assert.equal(r.me.json?.user?.email, r.email);
  assert.equal(header(r.meX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
}

async function signOutAndCheck(env) {
  const out = await env.api('POST', '/api/auth/sign-out');
  assert.equal(out.status, 200, `sign-out: ${JSON.stringify(out)}`);
  assert.deepEqual(out.json, { success: true });
  const outX = lastExchange(env, 'POST', '/api/auth/sign-out');
  assert.ok(sentCookieNames(outX).includes(SESSION_COOKIE), 'sign-out request carried the session cookie');
  const expire = cookieAttrs(sessionSetCookie(outX));
  assert.equal(expire.nameValue, `${SESSION_COOKIE}=`);
  assert.ok(expire.attrs.includes('max-age=0'), `sign-out Set-Cookie must expire the cookie: ${sessionSetCookie(outX)}`);
  await env.page.reload({ waitUntil: 'load' });
  const after = await env.api('GET', '/api/auth/get-session');
  assert.equal(after.status, 200);
  assert.equal(after.text, 'null', 'get-session after sign-out + reload');
  const me = await env.api('GET', '/api/me');
  assert.equal(me.status, 401, `/api/me after sign-out: ${JSON.stringify(me)}`);
  const left = (await env.cookies()).filter((c) => c.name.startsWith('__Secure-better-auth.'));
  assert.deepEqual(left, [], 'auth cookies removed from the cookie store by sign-out');
  await env.screenshot('after-sign-out');
  return outX;
}

// Width and height from a PNG's IHDR chunk.
function pngSize(buf) {
  assert.ok(buf.length > 24 && buf.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
    'stored object is not a PNG');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function findFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true }).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

// Everything about one <img src=assetUrl> attempt: the element's outcome, the
// request as it reached the proxy, and Chromium's own cookie decisions.
function describeImageRequest(label, shown, exchanges, decisions) {
  const x = exchanges.at(-1);
  return `${label}: <img> ${JSON.stringify(shown)}\n` +
    `  requests through the proxy: ${exchanges.length}\n` +
    (x ? formatExchange(x).split('\n').map((l) => '  ' + l).join('\n') + '\n' : '') +
    `  Chromium (DevTools Network domain): ${decisions ? JSON.stringify(decisions) : 'no record of this request'}`;
}

const WIDTH = 1328;

// Signed in, after a reload: generate -> history -> <img src=assetUrl>.
async function generateAndShowImage(t, env, r) {
  const prompt = `browser test ${env.name}: a red bicycle on a beach at sunset`;
  const gen = await env.api('POST', '/api/workflows/image-from-text', {
    prompt, parameters: { size: `${WIDTH}*${WIDTH}`, n: 1 },
  });
  const genX = lastExchange(env, 'POST', '/api/workflows/image-from-text');
  // The credentialed JSON POST is preflighted; the server answers it itself.
  const pre = lastExchange(env, 'OPTIONS', '/api/workflows/image-from-text');
  assert.equal(header(pre.reqHeaders, 'origin'), env.spaOrigin);
  assert.match(header(pre.reqHeaders, 'access-control-request-headers') || '', /content-type/i);
  assert.equal(pre.status, 204, `preflight: ${formatExchange(pre)}`);
  assert.equal(header(pre.resHeaders, 'access-control-allow-origin'), env.spaOrigin, `preflight: ${formatExchange(pre)}`);
  assert.equal(header(pre.resHeaders, 'access-control-allow-credentials'), 'true');
  assert.match(header(pre.resHeaders, 'access-control-allow-headers') || '', /content-type/i);
  assert.match(header(pre.resHeaders, 'access-control-allow-methods') || '', /POST/);

  assert.equal(gen.status, 200, `workflow POST: ${JSON.stringify(gen)}`);
  assert.equal(header(genX.reqHeaders, 'origin'), env.spaOrigin, 'browser sent the SPA origin on the workflow POST');
  assert.ok(sentCookieNames(genX).includes(SESSION_COOKIE), 'workflow POST carried the session cookie');
  assert.equal(header(genX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
  assert.equal(header(genX.resHeaders, 'access-control-allow-credentials'), 'true');
  assert.equal(gen.json?.status, 'completed', `workflow body: ${gen.text}`);
  assert.equal(gen.json?.workflow, 'image-from-text');
  const id = gen.json?.generationId;
  assert.ok(typeof id === 'string' && id, `generationId in ${gen.text}`);
  assert.ok(typeof gen.json?.output?.images?.[0]?.url === 'string', `output.images[0].url in ${gen.text}`);
  assert.ok(gen.json?.credits && typeof gen.json.credits === 'object', `credits in ${gen.text}`);

  // The stored object: a real PNG of the requested size.
  const stored = findFiles(env.objectsDir).filter((f) => f.includes(id) && path.basename(f) === 'output.png');
  assert.equal(stored.length, 1, `objects for ${id} under OBJECTS_DIR: ${JSON.stringify(findFiles(env.objectsDir))}`);
  const size = pngSize(fs.readFileSync(stored[0]));
  assert.deepEqual(size, { width: WIDTH, height: WIDTH }, `stored PNG ${stored[0]}`);

  // The SPA's history page: preflighted GET with content-type, like its client.
  const hist = await env.api('GET', '/api/history?limit=12', undefined, { json: true });
  assert.equal(hist.status, 200, `history: ${JSON.stringify(hist)}`);
  const histX = lastExchange(env, 'GET', '/api/history');
  assert.equal(header(histX.resHeaders, 'access-control-allow-origin'), env.spaOrigin);
  const item = hist.json?.items?.find((i) => i.id === id);
  assert.ok(item, `generation ${id} not in history: ${hist.text}`);
  assert.equal(item.status, 'succeeded', `history item: ${JSON.stringify(item)}`);
  assert.equal(item.workflow, 'image-from-text');
  const assetUrl = `${env.apiOrigin}/api/history/${id}/asset`;
  assert.equal(item.assetUrl, assetUrl, 'assetUrl is built from BETTER_AUTH_URL (the public origin)');
  assert.equal(hist.json?.pagination?.total, 1, `pagination: ${JSON.stringify(hist.json?.pagination)}`);

  // <img src=assetUrl>: a no-cors image request, cookies per the browser's rules.
  const assetPath = new URL(assetUrl).pathname;
  const logStart = env.proxy.log.length;
  const shown = await env.page.evaluate((u) => window.showImage(u), assetUrl);
  const imgX = env.proxy.log.slice(logStart).filter((e) => e.method === 'GET' && e.url === assetPath);
  const imgD = decisionsFor(env, 'GET', assetPath).at(-1);
  const report = describeImageRequest(`${env.name} signed-in <img>`, shown, imgX, imgD && {
    type: imgD.type, status: imgD.status, sentCookies: imgD.sentCookies,
    blockedSetCookies: imgD.blockedSetCookies?.map((b) => ({ cookie: b.line.split('=')[0], blockedReasons: b.blockedReasons })),
  });
  t.diagnostic(report);
  const shot = await env.screenshot('image-loaded');
  t.diagnostic(`screenshot with the loaded image: ${shot}`);

  assert.equal(imgX.length, 1, `exactly one image request should reach the server\n${report}`);
  const x = imgX[0];
  assert.equal(header(x.reqHeaders, 'sec-fetch-dest'), 'image', report);
  assert.equal(header(x.reqHeaders, 'sec-fetch-mode'), 'no-cors', report);
  assert.equal(header(x.reqHeaders, 'sec-fetch-site'), header(r.sessionX.reqHeaders, 'sec-fetch-site'), report);
  assert.ok(sentCookieNames(x).includes(SESSION_COOKIE),
    `Chromium did not send the session cookie on the cross-origin <img> request\n${report}`);
  assert.equal(x.status, 200, `asset response\n${report}`);
  assert.match(header(x.resHeaders, 'content-type') || '', /^image\/png/, report);
  assert.equal(header(x.resHeaders, 'cache-control'), 'private, max-age=3600', report);
  assert.ok(header(x.resHeaders, 'etag'), `asset response has an ETag\n${report}`);
  assert.equal(shown.event, 'load', `<img> did not load\n${report}`);
  assert.equal(shown.naturalWidth, WIDTH, report);
  assert.equal(shown.naturalHeight, WIDTH, report);

  assert.equal(imgD?.type, 'Image', `Chromium's record of the image request\n${report}`);
  const sentToken = imgD.sentCookies?.find((c) => c.name === SESSION_COOKIE);
  assert.ok(sentToken, `Chromium's record of the image request lacks the session cookie\n${report}`);
  assert.deepEqual(sentToken.blockedReasons, [], report);

  await imageElsewhere(t, env, assetUrl);
  return { id, assetUrl, shot, imageDecision: imgD, sentToken };
}

// The same <img> in a fresh browser context (its own cookie jar and HTTP
// cache, nothing shared with the signed-in page): without a session, then as
// another signed-in user. Neither may load.
async function imageElsewhere(t, env, assetUrl) {
  const assetPath = new URL(assetUrl).pathname;
  const ctx = await env.chrome.browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await ctx.newPage();
    const decisions = await recordCookieDecisions(ctx, page);
    await page.goto(env.spaUrl, { waitUntil: 'load' });
    const attempt = async (label) => {
      const logStart = env.proxy.log.length;
      const shown = await page.evaluate((u) => window.showImage(u), assetUrl);
      const xs = env.proxy.log.slice(logStart).filter((e) => e.method === 'GET' && e.url === assetPath);
      const d = decisions.entries().filter((e) => e.url === assetUrl).at(-1);
      const report = describeImageRequest(`${env.name} ${label}`, shown, xs,
        d && { type: d.type, status: d.status, sentCookies: d.sentCookies });
      t.diagnostic(report);
      await page.screenshot({ path: path.join(SHOTS, `${env.name}-${label.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
      assert.equal(xs.length, 1, `the image request must reach the server (not a cache)\n${report}`);
      assert.notEqual(shown.event, 'load', `<img> loaded in ${label}\n${report}`);
      assert.equal(shown.naturalWidth, 0, report);
      return { shown, x: xs[0], report };
    };

    const anon = await attempt('no-session context');
    assert.ok(!sentCookieNames(anon.x).includes(SESSION_COOKIE), anon.report);
    assert.equal(anon.x.status, 401, `asset without a session\n${anon.report}`);

    const email = `other-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
    const other = await page.evaluate((e) => window.api('POST', '/api/auth/sign-up/email',
      { name: 'Other User', email: e, password: 'correct-horse-battery-staple' }), email);
    assert.equal(other.status, 200, `second user's sign-up: ${JSON.stringify(other)}`);
    await page.reload({ waitUntil: 'load' });
    const otherMe = await page.evaluate(() => window.api('GET', '/api/me'));
    assert.equal(otherMe.json?.user?.email, email, `second user's /api/me: ${JSON.stringify(otherMe)}`);
    const foreign = await attempt('other-user context');
    assert.ok(sentCookieNames(foreign.x).includes(SESSION_COOKIE), `the other user's cookie was sent\n${foreign.report}`);
    assert.equal(foreign.x.status, 404, `asset of another user\n${foreign.report}`);
  } finally {
    await ctx.close().catch(() => {});
  }
}

// ------------------------------------------------------------------ tests

test('two sites, SameSite=None; Secure; Partitioned: session survives a reload, generation + <img> of the asset', async (t) => {
  const env = await setup(t, {
    name: 'two-sites-partitioned',
    spaHost: 'app.test',
    apiHost: 'api.example',
    serverEnv: {}, // no cookie setting: the server picks SameSite=None; Secure; Partitioned itself
  });
  await withDiagnostics(env, async () => {
    const r = await signUpAndReload(env);
    sessionSetCookie(r.signUpX);
    assertAuthSetCookies(r.signUpX, ['secure', 'samesite=none', 'partitioned', 'httponly', 'path=/']);
    assert.equal(header(r.sessionX.reqHeaders, 'sec-fetch-site'), 'cross-site', 'the API is cross-site to the page');
    const stored = r.storedAfterSignUp.filter((c) => c.name.startsWith('__Secure-better-auth.'));
    assert.ok(stored.some((c) => c.name === SESSION_COOKIE), `cookie store after sign-up: ${JSON.stringify(r.storedAfterSignUp)}`);
    for (const c of stored) {
      assert.equal(c.partitionKey?.topLevelSite, 'https://app.test',
        `cookie should be partitioned under the SPA's site: ${JSON.stringify(c)}`);
    }
    assertSessionKept(env, r);
    const img = await generateAndShowImage(t, env, r);
    // Chromium sent the partitioned cookie on the cross-site <img> subresource
    // request: its partition key is the page's top-level site.
    assert.equal(img.sentToken.partitionKey?.topLevelSite, 'https://app.test',
      `cookie sent on the <img> request: ${JSON.stringify(img.sentToken)}`);
    const outX = await signOutAndCheck(env);
    // The expiring Set-Cookies must be Partitioned too, or they would miss the partitioned cookies.
    assertAuthSetCookies(outX, ['secure', 'samesite=none', 'partitioned', 'max-age=0']);
  });
});

test('two sites, SameSite=None; Secure without Partitioned (COOKIE_PARTITIONED=false): Chromium does not keep the session', async (t) => {
  const env = await setup(t, {
    name: 'two-sites-unpartitioned',
    spaHost: 'app.test',
    apiHost: 'api.example',
    serverEnv: { COOKIE_SAMESITE: 'none', COOKIE_PARTITIONED: 'false' },
  });
  await withDiagnostics(env, async () => {
    const r = await signUpAndReload(env);
    const line = sessionSetCookie(r.signUpX);
    assertAuthSetCookies(r.signUpX, ['secure', 'samesite=none'], ['partitioned']);
    assert.equal(header(r.sessionX.reqHeaders, 'sec-fetch-site'), 'cross-site', 'the API is cross-site to the page');

    // What Chromium did with the Set-Cookie and with the next request, in its own words.
    const setDecision = decisionsFor(env, 'POST', '/api/auth/sign-up/email').find((d) => d.status !== undefined);
    const sendDecision = decisionsFor(env, 'GET', '/api/auth/get-session').at(-1);
    const storedNames = r.storedAfterSignUp.map((c) => c.name);
    t.diagnostic(`Set-Cookie on sign-up: ${line}`);
    t.diagnostic(`Chromium blocked Set-Cookie lines: ${JSON.stringify((setDecision?.blockedSetCookies ?? []).map((b) => ({
      cookie: b.line.split('=')[0], blockedReasons: b.blockedReasons })))}`);
    t.diagnostic(`cookie store after sign-up: ${JSON.stringify(storedNames)}`);
    t.diagnostic(`Cookie header on get-session after reload: ${JSON.stringify(header(r.sessionX.reqHeaders, 'cookie') ?? null)}`);
    t.diagnostic(`Chromium's cookie decisions on that request: ${JSON.stringify(sendDecision?.sentCookies ?? null)}`);
    t.diagnostic(`get-session -> ${r.session.status} ${r.session.text}; /api/me -> ${r.me.status}`);

    // The documented browser behaviour: the unpartitioned third-party cookie
    // is not sent back, so the reloaded page is signed out.
    assert.ok(!sentCookieNames(r.sessionX).includes(SESSION_COOKIE),
      `Chromium sent the unpartitioned third-party session cookie: ${header(r.sessionX.reqHeaders, 'cookie')}`);
    assert.equal(r.session.status, 200);
    assert.equal(r.session.text, 'null', 'get-session after reload must be null: session not kept');
    assert.equal(r.me.status, 401, `/api/me after reload: ${JSON.stringify(r.me)}`);
  });
});

test('one site (app.example.test -> api.example.test), SameSite=Lax: session survives a reload, generation + <img> of the asset', async (t) => {
  const env = await setup(t, {
    name: 'one-site-lax',
    spaHost: 'app.example.test',
    apiHost: 'api.example.test',
    serverEnv: { COOKIE_SAMESITE: 'lax' },
  });
  await withDiagnostics(env, async () => {
    const r = await signUpAndReload(env);
    sessionSetCookie(r.signUpX);
    assertAuthSetCookies(r.signUpX, ['secure', 'samesite=lax', 'httponly', 'path=/'], ['partitioned']);
    assert.equal(header(r.sessionX.reqHeaders, 'sec-fetch-site'), 'same-site', 'the API is same-site to the page');
    const stored = r.storedAfterSignUp.filter((c) => c.name === SESSION_COOKIE);
    assert.equal(stored.length, 1, `cookie store after sign-up: ${JSON.stringify(r.storedAfterSignUp)}`);
    assert.equal(stored[0].partitionKey, undefined, 'Lax cookie is unpartitioned');
    assertSessionKept(env, r);
    const img = await generateAndShowImage(t, env, r);
    assert.equal(img.sentToken.partitionKey, undefined, 'the first-party Lax cookie sent on the <img> request is unpartitioned');
    const outX = await signOutAndCheck(env);
    assertAuthSetCookies(outX, ['secure', 'samesite=lax', 'max-age=0'], ['partitioned']);
  });
});
