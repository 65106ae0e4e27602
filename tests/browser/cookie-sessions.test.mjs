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
// GET /api/history, and <img src=assetUrl>, which must load (and Chromium
// sends the session cookie on that cross-origin image request). assetUrl and
// thumbnailUrl are signed links (?exp=&sig=, internal/assetlink): in a fresh
// browser context the signed link loads without any cookie, while the bare
// asset URL or a tampered signature does not, neither without a session nor
// for another signed-in user. Then, still in both shapes:
//   - "Open image in a new tab": the signed assetUrl as a top-level document
//     on the API's site renders the image. In the two-site shape that tab has
//     no cookie (it sits in the SPA site's partition), so the bare URL answers
//     401 there: the signature is what opened it. The thumbnail (a JPEG)
//     loads as an <img> in the SPA's page.
//   - Direct upload: a PNG drawn in the page, POST /api/uploads, the PUT from
//     the page straight to make dev's bucket (/_objects/ on the API host:
//     cross-origin, preflighted, answered with the bucket's CORS headers),
//     then POST /api/workflows/image-from-reference with referenceImageUrl,
//     whose image must load.
// And a slow run in each shape: with WORKFLOW_SYNC_BUDGET_MS=200 and cmd/dev's
// DEV_GENERATION_DELAY_MS=4000 the workflow answers 202 with statusUrl; the
// page polls it every 500 ms until the item succeeds and shows its assetUrl.
//
// Run through ./run.sh (needs SERVER_BIN and /usr/bin/chromium).

import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SHOTS, setupStack, recordCookieDecisions, packagedFunctions, uniqueEmail } from './harness.mjs';
import {
  SESSION_COOKIE, header, formatExchange, lastExchange, cookieAttrs, sentCookieNames, withDiagnostics,
} from './diagnostics.mjs';

const SERVER_BIN = process.env.SERVER_BIN;

if (!SERVER_BIN) throw new Error('SERVER_BIN must point to the built server (run ./run.sh)');

function setup(t, opts) {
  return setupStack(t, { ...opts, bin: SERVER_BIN });
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

// sign up -> reload -> get-session / me. Returns what happened.
async function signUpAndReload(env) {
  const email = uniqueEmail('user');
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
  const assetUrl = item.assetUrl;
  assertSignedAssetUrl(env, id, assetUrl, '');
  assertSignedAssetUrl(env, id, item.thumbnailUrl, 'thumbnail');
  assert.equal(hist.json?.pagination?.total, 1, `pagination: ${JSON.stringify(hist.json?.pagination)}`);

  // <img src=assetUrl>: a no-cors image request, cookies per the browser's rules.
  const assetPath = new URL(assetUrl).pathname;
  const logStart = env.proxy.log.length;
  const shown = await env.page.evaluate((u) => window.showImage(u), assetUrl);
  const imgX = env.proxy.log.slice(logStart).filter((e) => e.method === 'GET' && e.url === pathAndQuery(assetUrl));
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

// The history item's link: BETTER_AUTH_URL (the public origin), the asset
// route, then the signed query (internal/assetlink): the variant first when
// there is one, an expiry and a signature.
function assertSignedAssetUrl(env, id, url, variant) {
  assert.equal(typeof url, 'string', `${variant || 'asset'} URL of ${id}: ${url}`);
  const u = new URL(url);
  assert.equal(u.origin + u.pathname, `${env.apiOrigin}/api/history/${id}/asset`,
    `${variant || 'asset'} URL is built from BETTER_AUTH_URL (the public origin): ${url}`);
  const query = variant ? new RegExp(`^\\?variant=${variant}&exp=\\d+&sig=[\\w-]+$`) : /^\?exp=\d+&sig=[\w-]+$/;
  assert.match(u.search, query, `${variant || 'asset'} URL is signed: ${url}`);
}

// Chromium's record of the last request for url, for describeImageRequest.
function imageDecision(env, url) {
  const d = env.decisions.entries().filter((e) => e.url === url).at(-1);
  return d && { type: d.type, status: d.status, sentCookies: d.sentCookies };
}

// What the proxy log records as a request's URL.
function pathAndQuery(url) {
  const u = new URL(url);
  return u.pathname + u.search;
}

// The same <img> in a fresh browser context (its own cookie jar and HTTP
// cache, nothing shared with the signed-in page): without a session, then as
// another signed-in user. The signed link opens without a cookie (whoever
// holds it may see that one image); the bare asset URL, or one whose
// signature was tampered with, must not load in either.
async function imageElsewhere(t, env, assetUrl) {
  const bareUrl = assetUrl.split('?')[0];
  const tampered = assetUrl.replace(/sig=([\w-])/, (_, c) => 'sig=' + (c === 'A' ? 'B' : 'A'));
  assert.notEqual(tampered, assetUrl);
  const ctx = await env.chrome.browser.newContext({ ignoreHTTPSErrors: true });
  try {
    const page = await ctx.newPage();
    const decisions = await recordCookieDecisions(ctx, page);
    await page.goto(env.spaUrl, { waitUntil: 'load' });
    const attempt = async (label, url, { loads = false } = {}) => {
      const logStart = env.proxy.log.length;
      const shown = await page.evaluate((u) => window.showImage(u), url);
      const xs = env.proxy.log.slice(logStart).filter((e) => e.method === 'GET' && e.url === pathAndQuery(url));
      const d = decisions.entries().filter((e) => e.url === url).at(-1);
      const report = describeImageRequest(`${env.name} ${label}`, shown, xs,
        d && { type: d.type, status: d.status, sentCookies: d.sentCookies });
      t.diagnostic(report);
      await page.screenshot({ path: path.join(SHOTS, `${env.name}-${label.replace(/\W+/g, '-')}.png`), fullPage: true }).catch(() => {});
      assert.equal(xs.length, 1, `the image request must reach the server (not a cache)\n${report}`);
      if (loads) {
        assert.equal(shown.event, 'load', `<img> did not load in ${label}\n${report}`);
        assert.equal(shown.naturalWidth, WIDTH, report);
      } else {
        assert.notEqual(shown.event, 'load', `<img> loaded in ${label}\n${report}`);
        assert.equal(shown.naturalWidth, 0, report);
      }
      return { shown, x: xs[0], report };
    };

    const anon = await attempt('no-session context, bare asset URL', bareUrl);
    assert.ok(!sentCookieNames(anon.x).includes(SESSION_COOKIE), anon.report);
    assert.equal(anon.x.status, 401, `asset without a session\n${anon.report}`);
    const forged = await attempt('no-session context, tampered signature', tampered);
    assert.equal(forged.x.status, 404, `a bad signature is answered like a stranger\n${forged.report}`);
    const copied = await attempt('no-session context, signed link', assetUrl, { loads: true });
    assert.ok(!sentCookieNames(copied.x).includes(SESSION_COOKIE), copied.report);
    assert.equal(copied.x.status, 200, `signed link without a session\n${copied.report}`);

    const email = uniqueEmail('other');
    const other = await page.evaluate((e) => window.api('POST', '/api/auth/sign-up/email',
      { name: 'Other User', email: e, password: 'correct-horse-battery-staple' }), email);
    assert.equal(other.status, 200, `second user's sign-up: ${JSON.stringify(other)}`);
    await page.reload({ waitUntil: 'load' });
    const otherMe = await page.evaluate(() => window.api('GET', '/api/me'));
    assert.equal(otherMe.json?.user?.email, email, `second user's /api/me: ${JSON.stringify(otherMe)}`);
    const foreign = await attempt('other-user context, bare asset URL', bareUrl);
    assert.ok(sentCookieNames(foreign.x).includes(SESSION_COOKIE), `the other user's cookie was sent\n${foreign.report}`);
    assert.equal(foreign.x.status, 404, `asset of another user\n${foreign.report}`);
  } finally {
    await ctx.close().catch(() => {});
  }
}

// "Open image in a new tab", as the SPA's history page offers it: a link to
// the item's assetUrl with target=_blank. The tab is a top-level document on
// the API's own site. In the two-site shape it carries no cookie (the
// session cookie lives in the SPA site's partition), so only the link's
// signature can open the image, and the same URL without its query answers
// 401 there; in the one-site shape the Lax cookie goes along as well, and
// the bare URL opens too. Then the item's thumbnailUrl as an <img> in the
// SPA's page (the gallery's small JPEG).
async function openImageLinks(t, env, { cookieInTab }) {
  const hist = await env.api('GET', '/api/history?limit=12', undefined, { json: true });
  assert.equal(hist.status, 200, `history: ${JSON.stringify(hist)}`);
  const item = hist.json?.items?.[0];
  assert.ok(item, `history has no item: ${hist.text}`);
  assertSignedAssetUrl(env, item.id, item.assetUrl, '');
  assertSignedAssetUrl(env, item.id, item.thumbnailUrl, 'thumbnail');
  const { assetUrl } = item;
  const bareUrl = assetUrl.split('?')[0];

  const logStart = env.proxy.log.length;
  const opened = env.chrome.context.waitForEvent('page');
  await env.page.evaluate((u) => {
    const a = document.createElement('a');
    a.id = 'open-image';
    a.href = u;
    a.target = '_blank';
    a.rel = 'noopener';
    a.textContent = 'Open image in a new tab';
    document.body.prepend(a);
  }, assetUrl);
  await env.page.click('#open-image');
  const tab = await opened;
  try {
    await tab.waitForLoadState('load');
    // Chromium shows a lone image as a document holding one <img>.
    const rendered = () => tab.evaluate(() => {
      const img = document.querySelector('img');
      return img && { src: img.src, complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight };
    });
    const shown = await rendered();
    const xs = env.proxy.log.slice(logStart).filter((e) => e.method === 'GET' && e.url === pathAndQuery(assetUrl));
    const report = `${env.name} new tab: ${tab.url()} -> ${JSON.stringify(shown)}\n` +
      xs.map((x) => formatExchange(x).split('\n').map((l) => '  ' + l).join('\n')).join('\n');
    t.diagnostic(report);
    await tab.screenshot({ path: path.join(SHOTS, `${env.name}-new-tab.png`) }).catch(() => {});
    assert.equal(tab.url(), assetUrl, report);
    assert.equal(xs.length, 1, `exactly one request for the signed link should reach the server\n${report}`);
    const x = xs[0];
    assert.equal(header(x.reqHeaders, 'sec-fetch-dest'), 'document', report);
    assert.equal(header(x.reqHeaders, 'sec-fetch-mode'), 'navigate', report);
    assert.equal(sentCookieNames(x).includes(SESSION_COOKIE), cookieInTab,
      `session cookie ${cookieInTab ? 'missing from' : 'sent with'} the new tab's request\n${report}`);
    assert.equal(x.status, 200, `signed link in a new tab\n${report}`);
    assert.match(header(x.resHeaders, 'content-type') || '', /^image\/(png|jpeg)/, report);
    assert.ok(shown, `the new tab shows no <img>\n${report}`);
    assert.equal(shown.complete, true, report);
    assert.equal(shown.naturalWidth, WIDTH, report);
    assert.equal(shown.naturalHeight, WIDTH, report);

    // The same URL without its query, in that tab: only a cookie could open it.
    const decisions = await recordCookieDecisions(env.chrome.context, tab);
    try {
      const bareStart = env.proxy.log.length;
      const res = await tab.goto(bareUrl, { waitUntil: 'load' });
      const bx = env.proxy.log.slice(bareStart).filter((e) => e.method === 'GET' && e.url === pathAndQuery(bareUrl));
      const d = decisions.entries().filter((e) => e.url === bareUrl).at(-1);
      const bareReport = `${env.name} new tab, bare URL: ${res?.status()}\n` +
        bx.map((e) => formatExchange(e).split('\n').map((l) => '  ' + l).join('\n')).join('\n') +
        `\n  Chromium (DevTools Network domain): ${d ? JSON.stringify({ sentCookies: d.sentCookies, siteHasCookieInOtherPartition: d.siteHasCookieInOtherPartition }) : 'no record'}`;
      t.diagnostic(bareReport);
      assert.equal(bx.length, 1, bareReport);
      assert.equal(sentCookieNames(bx[0]).includes(SESSION_COOKIE), cookieInTab, bareReport);
      if (cookieInTab) {
        assert.equal(res?.status(), 200, `bare asset URL with the Lax cookie\n${bareReport}`);
        assert.match(res.headers()['content-type'] || '', /^image\/png/, bareReport);
        assert.equal((await rendered())?.naturalWidth, WIDTH, bareReport);
      } else {
        assert.equal(res?.status(), 401, `bare asset URL without the partitioned cookie\n${bareReport}`);
        assert.equal(d?.siteHasCookieInOtherPartition, true,
          `Chromium should know the API's cookie sits in another partition\n${bareReport}`);
      }
    } finally {
      await decisions.detach();
    }
  } finally {
    await tab.close().catch(() => {});
  }

  // The thumbnail, as the gallery shows it.
  const thumbStart = env.proxy.log.length;
  const thumb = await env.page.evaluate((u) => window.showImage(u), item.thumbnailUrl);
  const tx = env.proxy.log.slice(thumbStart).filter((e) => e.method === 'GET' && e.url === pathAndQuery(item.thumbnailUrl));
  const thumbReport = describeImageRequest(`${env.name} thumbnail <img>`, thumb, tx, imageDecision(env, item.thumbnailUrl));
  t.diagnostic(thumbReport);
  assert.equal(tx.length, 1, thumbReport);
  assert.equal(tx[0].status, 200, thumbReport);
  assert.match(header(tx[0].resHeaders, 'content-type') || '', /^image\/jpeg/, thumbReport);
  assert.equal(thumb.event, 'load', `thumbnail <img> did not load\n${thumbReport}`);
  assert.ok(thumb.naturalWidth > 0 && thumb.naturalWidth < WIDTH, `a thumbnail is smaller than the image\n${thumbReport}`);
  await env.screenshot('thumbnail');
}

const UPLOAD_W = 640;
const UPLOAD_H = 480;

// The SPA's reference upload: a picture made in the page (a PNG from an
// OffscreenCanvas, as a cropped or resized file would be), POST /api/uploads
// for a presigned PUT, the PUT itself straight to the bucket (make dev's
// /_objects/ on the API host: cross-origin to the page, so Chromium
// preflights it and reads the answer only with the bucket's CORS headers),
// then image-from-reference with the upload's referenceImageUrl. It must
// be the user's first image-from-reference: a free account has one credit
// per workflow.
async function uploadAndGenerate(t, env, r) {
  if (packagedFunctions(env)) {
    // The packaged functions keep images in a folder here, and a folder
    // store signs no uploads outside make dev. Their upload flow is tested
    // against a real S3 server in internal/devtools/localgateway
    // (TestLargeReferenceThroughUpload).
    t.diagnostic(`${env.name}: upload skipped under the packaged functions (folder store)`);
    return;
  }
  const userId = r.signUp.json.user.id;
  const logStart = env.proxy.log.length;
  const up = await env.page.evaluate(async ([w, h]) => {
    const canvas = new OffscreenCanvas(w, h);
    const g = canvas.getContext('2d');
    const grad = g.createLinearGradient(0, 0, w, h);
    grad.addColorStop(0, '#1d4ed8');
    grad.addColorStop(1, '#f59e0b');
    g.fillStyle = grad;
    g.fillRect(0, 0, w, h);
    g.fillStyle = '#dc2626';
    g.beginPath();
    g.arc(w / 2, h / 2, h / 3, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#fff';
    g.font = 'bold 40px sans-serif';
    g.fillText('upload test', 40, 70);
    const blob = await canvas.convertToBlob({ type: 'image/png' });
    const sha256 = [...new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer()))]
      .map((b) => b.toString(16).padStart(2, '0')).join('');
    const file = { type: blob.type, size: blob.size, sha256 };
    const created = await window.api('POST', '/api/uploads', { contentType: blob.type, size: blob.size });
    if (created.status !== 200) return { file, created };
    // fetch may not set Content-Length: the browser sends the body's own.
    const headers = Object.fromEntries(Object.entries(created.json.headers || {})
      .filter(([k]) => k.toLowerCase() !== 'content-length'));
    let put;
    try {
      const res = await fetch(created.json.uploadUrl, { method: created.json.method, headers, body: blob });
      put = { status: res.status, etag: res.headers.get('etag'), text: await res.text() };
    } catch (e) {
      put = { status: 0, error: String(e) };
    }
    document.getElementById('log').textContent += 'PUT upload -> ' + JSON.stringify(put) + '\n';
    return { file, created, headers, put };
  }, [UPLOAD_W, UPLOAD_H]);
  const upX = env.proxy.log.slice(logStart);
  const report = `${env.name} upload: ${JSON.stringify({ file: up.file, created: up.created?.json ?? up.created, put: up.put })}\n` +
    upX.map((x) => formatExchange(x).split('\n').map((l) => '  ' + l).join('\n')).join('\n');
  t.diagnostic(report);

  assert.equal(up.file.type, 'image/png', report);
  assert.equal(up.created.status, 200, `POST /api/uploads\n${report}`);
  const c = up.created.json;
  assert.equal(c.method, 'PUT', report);
  assert.ok(c.uploadUrl.startsWith(`${env.apiOrigin}/_objects/`), `uploadUrl is make dev's bucket on the public origin\n${report}`);
  assert.deepEqual(c.headers, { 'Content-Type': 'image/png', 'Content-Length': String(up.file.size) }, report);
  const uploadId = c.referenceImageUrl?.match(new RegExp(`^${env.apiOrigin.replace(/[.]/g, '\\.')}/api/uploads/([0-9a-f-]{36})$`))?.[1];
  assert.ok(uploadId, `referenceImageUrl: ${c.referenceImageUrl}`);
  assert.ok(c.maxBytes >= up.file.size, report);
  assert.ok(Date.parse(c.expiresAt) > Date.now(), `expiresAt: ${c.expiresAt}`);

  // The preflight and the PUT, as they reached the bucket.
  const objectPath = pathAndQuery(c.uploadUrl);
  const pre = upX.find((x) => x.method === 'OPTIONS' && x.url === objectPath);
  assert.ok(pre, `Chromium sent no preflight for the PUT\n${report}`);
  assert.equal(header(pre.reqHeaders, 'origin'), env.spaOrigin, report);
  assert.equal(header(pre.reqHeaders, 'access-control-request-method'), 'PUT', report);
  assert.match(header(pre.reqHeaders, 'access-control-request-headers') || '', /content-type/i, report);
  assert.ok(pre.status >= 200 && pre.status < 300, `preflight of the PUT\n${formatExchange(pre)}`);
  assert.equal(header(pre.resHeaders, 'access-control-allow-origin'), env.spaOrigin, formatExchange(pre));
  assert.match(header(pre.resHeaders, 'access-control-allow-methods') || '', /PUT/, formatExchange(pre));
  const put = upX.find((x) => x.method === 'PUT' && x.url === objectPath);
  assert.ok(put, `the PUT did not reach the bucket\n${report}`);
  assert.equal(header(put.reqHeaders, 'content-type'), 'image/png', formatExchange(put));
  assert.equal(header(put.reqHeaders, 'content-length'), String(up.file.size), formatExchange(put));
  assert.ok(!sentCookieNames(put).includes(SESSION_COOKIE), `the PUT needs no cookie and a non-credentialed fetch sends none\n${formatExchange(put)}`);
  assert.equal(put.status, 200, formatExchange(put));
  assert.equal(up.put.status, 200, `the page could not read the PUT's answer\n${report}`);
  assert.ok(up.put.etag, `ETag exposed to the page\n${report}`);

  // The bucket holds exactly the bytes the page made.
  const stored = path.join(env.objectsDir, 'uploads', userId, uploadId);
  assert.ok(fs.existsSync(stored), `uploaded object ${stored}: ${JSON.stringify(findFiles(env.objectsDir))}`);
  const bytes = fs.readFileSync(stored);
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), up.file.sha256, `stored upload ${stored}`);
  assert.deepEqual(pngSize(bytes), { width: UPLOAD_W, height: UPLOAD_H });

  const gen = await env.api('POST', '/api/workflows/image-from-reference', {
    prompt: `browser test ${env.name}: the same scene as a watercolour`,
    referenceImageUrl: c.referenceImageUrl,
  });
  assert.equal(gen.status, 200, `image-from-reference: ${JSON.stringify(gen)}`);
  assert.equal(gen.json?.status, 'completed', `workflow body: ${gen.text}`);
  assert.equal(gen.json?.workflow, 'image-from-reference');
  const id = gen.json?.generationId;
  const url = gen.json?.output?.images?.[0]?.url;
  assertSignedAssetUrl(env, id, url, '');
  const shown = await env.page.evaluate((u) => window.showImage(u), url);
  const imgX = env.proxy.log.filter((e) => e.method === 'GET' && e.url === pathAndQuery(url));
  const imgReport = describeImageRequest(`${env.name} image-from-reference <img>`, shown, imgX, imageDecision(env, url));
  t.diagnostic(imgReport);
  assert.equal(imgX.at(-1)?.status, 200, imgReport);
  assert.equal(shown.event, 'load', `image-from-reference <img> did not load\n${imgReport}`);
  assert.ok(shown.naturalWidth > 0, imgReport);
  await env.screenshot('image-from-reference');
}

// A generation that runs past the sync budget (the server runs with
// WORKFLOW_SYNC_BUDGET_MS far below DEV_GENERATION_DELAY_MS): the workflow
// answers 202 with a statusUrl, and the page polls it every 500 ms, as the
// SPA does, until the item has settled, then shows its assetUrl. Nothing is
// asserted about timing but that it settles within the test's timeout.
async function pollSlowGeneration(t, env) {
  if (!packagedFunctions(env)) {
    assert.match(env.server.output(), /built-in generator waits 4s per image/, 'cmd/dev read DEV_GENERATION_DELAY_MS');
  }
  // Under the packaged functions the DashScope fake generates: its slow
  // marker holds the answer as the built-in generator's delay does, and the
  // run past the budget goes on in an asynchronous self-invocation.
  const gen = await env.api('POST', '/api/workflows/image-from-text', {
    prompt: `browser test ${env.name}: a slow lighthouse at dawn [fake:slow=4s]`, parameters: { size: `${WIDTH}*${WIDTH}`, n: 1 },
  });
  assert.equal(gen.status, 202, `workflow POST past the sync budget: ${JSON.stringify(gen)}`);
  const genX = lastExchange(env, 'POST', '/api/workflows/image-from-text');
  assert.equal(header(genX.resHeaders, 'access-control-allow-origin'), env.spaOrigin, 'the page may read the 202');
  assert.equal(gen.json?.status, 'pending', `202 body: ${gen.text}`);
  const id = gen.json?.generationId;
  assert.ok(typeof id === 'string' && id, `generationId in ${gen.text}`);
  assert.equal(gen.json?.statusUrl, `/api/history/${id}`, `statusUrl in ${gen.text}`);

  const polled = await env.page.evaluate(async (statusUrl) => {
    const seen = [];
    for (;;) {
      const res = await window.api('GET', statusUrl, undefined, { json: true });
      const status = res.json?.item?.status;
      seen.push(res.status === 200 ? status : res.status);
      if (res.status !== 200 || status === 'succeeded' || status === 'failed') return { seen, last: res };
      await new Promise((done) => setTimeout(done, 500));
    }
  }, gen.json.statusUrl);
  t.diagnostic(`${env.name}: polled ${gen.json.statusUrl}: ${polled.seen.join(', ')}`);
  assert.equal(polled.last.status, 200, `GET ${gen.json.statusUrl}: ${JSON.stringify(polled.last)}`);
  const item = polled.last.json.item;
  assert.equal(item.status, 'succeeded', `settled item: ${JSON.stringify(item)}`);
  assert.equal(item.id, id);
  assert.ok(polled.seen.slice(0, -1).every((s) => s === 'pending'), `statuses before settling: ${polled.seen}`);
  assertSignedAssetUrl(env, id, item.assetUrl, '');
  const shown = await env.page.evaluate((u) => window.showImage(u), item.assetUrl);
  const imgX = env.proxy.log.filter((e) => e.method === 'GET' && e.url === pathAndQuery(item.assetUrl));
  const report = describeImageRequest(`${env.name} polled <img>`, shown, imgX, imageDecision(env, item.assetUrl));
  t.diagnostic(report);
  assert.equal(shown.event, 'load', `<img> of the polled item did not load\n${report}`);
  assert.equal(shown.naturalWidth, WIDTH, report);
  await env.screenshot('polled-image');
}

// ------------------------------------------------------------------ tests

test('two sites, SameSite=None; Secure; Partitioned: session survives a reload, generation + <img> of the asset, signed links in a new tab, upload + image-from-reference', async (t) => {
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
    await openImageLinks(t, env, { cookieInTab: false });
    await uploadAndGenerate(t, env, r);
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

test('one site (app.example.test -> api.example.test), SameSite=Lax: session survives a reload, generation + <img> of the asset, signed links in a new tab, upload + image-from-reference', async (t) => {
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
    await openImageLinks(t, env, { cookieInTab: true });
    await uploadAndGenerate(t, env, r);
    const outX = await signOutAndCheck(env);
    assertAuthSetCookies(outX, ['secure', 'samesite=lax', 'max-age=0'], ['partitioned']);
  });
});

// A slow provider: make dev's built-in generator waits DEV_GENERATION_DELAY_MS
// per image, far past WORKFLOW_SYNC_BUDGET_MS, so the workflow answers 202.
const SLOW_RUN_ENV = { WORKFLOW_SYNC_BUDGET_MS: '200', DEV_GENERATION_DELAY_MS: '4000' };

test('two sites, SameSite=None; Secure; Partitioned: a generation past the sync budget answers 202, the page polls statusUrl until it succeeds', async (t) => {
  const env = await setup(t, {
    name: 'two-sites-slow-run',
    spaHost: 'app.test',
    apiHost: 'api.example',
    serverEnv: SLOW_RUN_ENV,
  });
  await withDiagnostics(env, async () => {
    const r = await signUpAndReload(env);
    assertSessionKept(env, r);
    await pollSlowGeneration(t, env);
  });
});

test('one site (app.example.test -> api.example.test), SameSite=Lax: a generation past the sync budget answers 202, the page polls statusUrl until it succeeds', async (t) => {
  const env = await setup(t, {
    name: 'one-site-slow-run',
    spaHost: 'app.example.test',
    apiHost: 'api.example.test',
    serverEnv: { COOKIE_SAMESITE: 'lax', ...SLOW_RUN_ENV },
  });
  await withDiagnostics(env, async () => {
    const r = await signUpAndReload(env);
    assertSessionKept(env, r);
    await pollSlowGeneration(t, env);
  });
});
