// One compatibility suite per physical layout: better-auth 1.7.24 writes the
// rows, the Go server must read them; the Go server writes rows, better-auth
// must read them.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { LAYOUTS } from "./layouts.mjs";
import {
  COOKIE,
  createDatabase,
  handlerRequest,
  openBetterAuth,
  query,
  rowsWithTypes,
} from "./reference.mjs";
import { cookieHeader, cookiesFrom, freePort, http, startGoServer } from "./server.mjs";

/** `YYYY-MM-DDTHH:mm:ss.sssZ` exactly (JavaScript Date.toJSON()). */
export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const HASH = /^[0-9a-f]{32}:[0-9a-f]{128}$/;
const DAY = 86_400_000;
const USER_KEYS = ["id", "name", "email", "emailVerified", "image", "createdAt", "updatedAt"];
const SESSION_KEYS = ["id", "token", "userId", "expiresAt", "createdAt", "updatedAt", "ipAddress", "userAgent"];
const DATE_COLUMNS = {
  user: ["created_at", "updated_at"],
  session: ["expires_at", "created_at", "updated_at"],
  account: ["created_at", "updated_at"],
};

const USERS = [
  // Signed up through auth.api.signUpEmail (mixed-case email: better-auth stores it lower-cased).
  { key: "ann", name: "Ann Example", email: "Ann.Example@Example.com", password: "password123" },
  // Signed up through auth.handler (non-ASCII name and password: NFKC + UTF-8 in the hash).
  { key: "bob", name: "Bøb Ünïcode", email: "bob@example.com", password: "correct horse ✓ battery ﬁ" },
];

const pick = (obj, keys) => Object.fromEntries(keys.map((k) => [k, obj?.[k]]));
const show = (v) => JSON.stringify(v, null, 1);

/** What a date cell of this layout means, as Date.toJSON() (how better-auth's adapter reads it). */
function decodeCell(layoutKey, value) {
  if (value === null || value === undefined) return null;
  if (layoutKey === "A") return new Date(Number(value) * 1000).toISOString();
  const s = String(value);
  if (/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/.test(s)) return new Date(`${s.replace(" ", "T")}Z`).toISOString();
  return new Date(s).toISOString();
}

/**
 * Assert that a row written by the Go server uses the layout's date encoding,
 * the one better-auth 1.7.24 itself writes there:
 *  - seed A: INTEGER unix seconds (Drizzle integer({mode:"timestamp"}));
 *  - seed B: TEXT `YYYY-MM-DDTHH:mm:ss.sssZ` (the Drizzle adapter's toISOString()).
 * SQL comparisons on these columns (expires_at > ?) only work when every row
 * uses the same encoding as better-auth's bound parameters.
 */
function assertRowEncoding(layoutKey, table, row, label) {
  for (const col of DATE_COLUMNS[table]) {
    const v = row[col];
    const type = row[`${col}:type`];
    if (layoutKey === "A") {
      assert.ok(
        type === "integer" && Number.isInteger(v) && v > 1e9 && v < 1e10,
        `${label}: ${table}.${col} must be INTEGER unix seconds like better-auth writes (e.g. 1795534044), got ${type} ${show(v)}; row ${show(row)}`,
      );
    } else {
      assert.ok(
        type === "text" && ISO_MS.test(v),
        `${label}: ${table}.${col} must be TEXT 'YYYY-MM-DDTHH:mm:ss.sssZ' like better-auth writes (e.g. '2026-11-24T15:27:42.474Z'), got ${type} ${show(v)}; row ${show(row)}`,
      );
    }
  }
}

function assertNear(iso, expectedMs, toleranceMs, label) {
  assert.match(String(iso), ISO_MS, `${label}: not an ISO date with 3 fractional digits: ${show(iso)}`);
  const d = Date.parse(iso) - expectedMs;
  assert.ok(Math.abs(d) <= toleranceMs, `${label}: ${iso} is ${Math.round(d / 1000)} s away from ${new Date(expectedMs).toISOString()}`);
}

/** Decode a compact session_data cookie (docs/auth-wire.md §5.3) for diagnostics; null if it is not one. */
function decodeSessionData(value) {
  try {
    return JSON.parse(Buffer.from(decodeURIComponent(value), "base64url").toString("utf8")).session;
  } catch {
    return null;
  }
}

function dateJSON(v) {
  return v instanceof Date ? v.toISOString() : v;
}

/** better-auth's api.* results hold Date objects; make them comparable with JSON answers. */
function jsonish(obj) {
  return JSON.parse(JSON.stringify(obj));
}

export function defineLayoutSuite(layoutKey) {
  const layout = LAYOUTS[layoutKey];
  const userTable = layout.userTable;

  describe(layout.name, () => {
    let dir;
    let dbPath;
    let baseURL;
    let server;
    let schemaBefore;
    /** per user: what better-auth answered and the cookies it issued */
    const ref = {};
    /** per user: cookies of a sign-in through the Go server */
    const goCookies = {};
    const goSignIn = {};

    const userRow = async (email) =>
      (await rowsWithTypes(dbPath, userTable, "email = ?", [email.toLowerCase()]))[0];
    const sessionRow = async (token) => (await rowsWithTypes(dbPath, "session", "token = ?", [token]))[0];
    const accountRows = async (userId) => rowsWithTypes(dbPath, "account", "user_id = ?", [userId]);
    const authTablesSQL = async () =>
      query(
        dbPath,
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN (?, 'session', 'account', 'verification') ORDER BY type, name",
        [userTable],
      );

    before(async () => {
      dir = mkdtempSync(path.join(tmpdir(), `dbcompat-${layoutKey}-`));
      dbPath = path.join(dir, "auth.db");
      const port = await freePort();
      baseURL = `http://127.0.0.1:${port}`;

      // 1. The seed's own schema.
      await createDatabase(layout, dbPath);
      schemaBefore = await authTablesSQL();

      // 2. The real better-auth writes two users, their credential accounts and sessions.
      const { auth, close } = openBetterAuth(layout, dbPath, baseURL);
      try {
        const [ann, bob] = USERS;
        const signUpA = await auth.api.signUpEmail({ body: { name: ann.name, email: ann.email, password: ann.password } });
        assert.ok(signUpA?.user?.id, "reference: better-auth signUpEmail failed");
        const signUpB = await handlerRequest(auth, baseURL, "POST", "/sign-up/email", {
          body: { name: bob.name, email: bob.email, password: bob.password },
        });
        assert.equal(signUpB.status, 200, `reference: better-auth sign-up through handler: ${signUpB.text}`);

        for (const u of USERS) {
          const signIn = await handlerRequest(auth, baseURL, "POST", "/sign-in/email", {
            body: { email: u.email.toLowerCase(), password: u.password },
          });
          assert.equal(signIn.status, 200, `reference: better-auth sign-in ${u.email}: ${signIn.text}`);
          const cookies = cookiesFrom(signIn.setCookies);
          assert.ok(cookies[COOKIE.sessionToken], `reference: no session_token cookie: ${signIn.setCookies}`);
          assert.ok(cookies[COOKIE.sessionData], `reference: no session_data cookie: ${signIn.setCookies}`);

          const viaCache = await handlerRequest(auth, baseURL, "GET", "/get-session", {
            cookie: cookieHeader(cookies, [COOKIE.sessionToken, COOKIE.sessionData]),
          });
          const viaDb = await handlerRequest(auth, baseURL, "GET", "/get-session", {
            cookie: cookieHeader(cookies, [COOKIE.sessionToken]),
          });
          assert.equal(viaDb.status, 200, viaDb.text);
          assert.ok(viaDb.json?.session, `reference: better-auth get-session returned ${viaDb.text}`);
          // Sanity of the reference: both of better-auth's paths agree, so the Go
          // server may answer from the cache cookie or from the database.
          assert.deepEqual(
            { session: pick(viaCache.json.session, SESSION_KEYS), user: pick(viaCache.json.user, USER_KEYS) },
            { session: pick(viaDb.json.session, SESSION_KEYS), user: pick(viaDb.json.user, USER_KEYS) },
            "reference: better-auth's cache and database answers differ",
          );
          ref[u.key] = { signIn: signIn.json, cookies, session: viaDb.json };
        }
      } finally {
        close();
      }

      // 3. The Go server on the same file.
      server = await startGoServer({ port, dbPath, authSchema: layout.authSchema });
    });

    after(async () => {
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("better-auth 1.7.24 wrote the layout's date encoding (reference fact)", async () => {
      const ann = USERS[0];
      const u = await userRow(ann.email);
      const s = await sessionRow(ref.ann.signIn.token);
      const a = (await accountRows(u.id))[0];
      console.log(`${layout.name}: rows written by better-auth 1.7.24\n${userTable}: ${JSON.stringify(u)}\nsession: ${JSON.stringify(s)}\naccount: ${JSON.stringify({ ...a, password: a.password.slice(0, 12) + "…" })}`);
      assertRowEncoding(layoutKey, "user", u, "better-auth user row");
      assertRowEncoding(layoutKey, "session", s, "better-auth session row");
      assertRowEncoding(layoutKey, "account", a, "better-auth account row");
      assert.equal(a.provider_id, "credential");
      assert.equal(a.account_id, u.id);
      assert.match(a.password, HASH);
      // better-auth's JSON dates are exactly the stored instants.
      assert.equal(ref.ann.signIn.user.createdAt, decodeCell(layoutKey, u.created_at));
      assert.equal(ref.ann.session.session.expiresAt, decodeCell(layoutKey, s.expires_at));
    });

    it("starting the Go server keeps the better-auth tables and indexes as they are", async () => {
      const after = await authTablesSQL();
      const key = (r) => `${r.type} ${r.name}`;
      const byKey = new Map(after.map((r) => [key(r), r]));
      for (const r of schemaBefore) {
        assert.deepEqual(byKey.get(key(r)), r, `${key(r)} changed or vanished`);
      }
      const added = after.filter((r) => !schemaBefore.some((b) => key(b) === key(r)));
      if (added.length) console.log(`${layout.name}: objects the Go server added on the auth tables: ${added.map((r) => r.sql).join("; ")}`);
      for (const r of added) {
        assert.equal(r.type, "index", `the Go server added ${show(r)} on an auth table`);
        assert.doesNotMatch(String(r.sql), /UNIQUE/i, `the Go server added a UNIQUE index better-auth's data may violate: ${r.sql}`);
      }
    });

    for (const u of USERS) {
      it(`POST /sign-in/email with ${u.key}'s better-auth password → 200 and the stored user`, async () => {
        const res = await http(baseURL, "POST", "/api/auth/sign-in/email", {
          body: { email: u.email.toLowerCase(), password: u.password },
        });
        const row = await userRow(u.email);
        assert.equal(res.status, 200, `status ${res.status}, body ${res.text}; user row ${show(row)}; credential account ${show(await accountRows(row.id))}`);
        goCookies[u.key] = cookiesFrom(res.setCookies);
        goSignIn[u.key] = res.json;
        assert.equal(typeof res.json?.token, "string", `no token in ${res.text}`);
        assert.ok(goCookies[u.key][COOKIE.sessionToken], `no ${COOKIE.sessionToken} cookie: ${show(res.setCookies)}`);
        const expected = pick(ref[u.key].signIn.user, USER_KEYS);
        assert.equal(expected.email, u.email.toLowerCase());
        assert.match(String(res.json.user?.createdAt), ISO_MS, `createdAt format: ${res.text}`);
        assert.deepEqual(
          pick(res.json.user, USER_KEYS),
          expected,
          `user object differs from better-auth's for the same row ${show(row)}`,
        );
        assert.equal(res.json.user.createdAt, decodeCell(layoutKey, row.created_at), `createdAt vs stored ${show(row.created_at)}`);
      });
    }

    it("POST /sign-in/email with a wrong password → 401 INVALID_EMAIL_OR_PASSWORD", async () => {
      for (const u of USERS) {
        const res = await http(baseURL, "POST", "/api/auth/sign-in/email", {
          body: { email: u.email.toLowerCase(), password: `${u.password}x` },
        });
        assert.equal(res.status, 401, `${u.key}: status ${res.status} body ${res.text}`);
        assert.equal(res.json?.code, "INVALID_EMAIL_OR_PASSWORD", `${u.key}: body ${res.text}`);
        assert.equal(res.json?.message, "Invalid email or password", `${u.key}: body ${res.text}`);
      }
    });

    for (const [variant, names] of [
      ["session_token + session_data (cookie cache)", [COOKIE.sessionToken, COOKIE.sessionData]],
      ["session_token only (database path)", [COOKIE.sessionToken]],
    ]) {
      it(`GET /get-session with better-auth's cookies: ${variant}`, async () => {
        for (const u of USERS) {
          const cookie = cookieHeader(ref[u.key].cookies, names);
          const res = await http(baseURL, "GET", "/api/auth/get-session", { cookie });
          const expected = ref[u.key].session;
          const srow = await sessionRow(expected.session.token);
          assert.equal(res.status, 200, `${u.key}: status ${res.status} body ${res.text}; session row ${show(srow)}`);
          assert.ok(res.json?.session && res.json?.user, `${u.key}: expected {session,user}, got ${res.text}; cookie ${cookie}; session row ${show(srow)}`);
          assert.deepEqual(
            pick(res.json.user, USER_KEYS),
            pick(expected.user, USER_KEYS),
            `${u.key}: user differs from better-auth's answer`,
          );
          assert.deepEqual(
            pick(res.json.session, SESSION_KEYS),
            pick(expected.session, SESSION_KEYS),
            `${u.key}: session differs from better-auth's answer; session row ${show(srow)}`,
          );
          assert.equal(res.json.session.expiresAt, decodeCell(layoutKey, srow.expires_at));
        }
      });
    }

    it("a session created by the Go server (sign-in) is read by better-auth", async () => {
      for (const u of USERS) {
        const cookies = goCookies[u.key];
        assert.ok(cookies?.[COOKIE.sessionToken], `${u.key}: no Go sign-in cookies (the sign-in test failed)`);
        const token = goSignIn[u.key].token;
        const srow = await sessionRow(token);
        assert.ok(srow, `${u.key}: no session row with the token ${token} the Go server returned`);
        const stored = decodeCell(layoutKey, srow.expires_at);

        const { auth, close } = openBetterAuth(layout, dbPath, baseURL);
        try {
          const sets = [
            ["session_token only (better-auth reads the row)", [COOKIE.sessionToken]],
            [`all cookies of the Go sign-in (${Object.keys(cookies).join(", ")})`, Object.keys(cookies)],
          ];
          for (const [label, names] of sets) {
            const what = `${u.key}, ${label}`;
            const headers = new Headers({ cookie: cookieHeader(cookies, names) });
            const got = await auth.api.getSession({ headers });
            assert.ok(got?.session && got?.user, `${what}: better-auth getSession → ${show(got)}; session row ${show(srow)}`);
            const s = jsonish(got.session);
            assert.equal(got.user.id, ref[u.key].signIn.user.id, `${what}: wrong user`);
            assert.equal(got.user.email, u.email.toLowerCase());
            assert.equal(dateJSON(got.user.createdAt), ref[u.key].signIn.user.createdAt, `${what}: user.createdAt`);
            assert.equal(s.token, token);
            assert.equal(s.id, srow.id);
            const now = Date.now();
            assertNear(s.expiresAt, now + 7 * DAY, 10 * 60_000, `${what}: session.expiresAt as better-auth reads the Go row ${show(srow)}`);
            assertNear(s.createdAt, now, 10 * 60_000, `${what}: session.createdAt as better-auth reads the Go row ${show(srow)}`);
            // better-auth answers the stored instant on both of its paths (its own
            // session_data cache is built from the stored row), so must the cache
            // cookie the Go server issued.
            assert.equal(
              s.expiresAt,
              stored,
              `${what}: better-auth answers expiresAt ${s.expiresAt} but the Go-written row holds ${show(srow.expires_at)} (= ${stored})` +
                (names.length > 1 ? `; the Go-issued ${COOKIE.sessionData} cookie carries ${show(decodeSessionData(cookies[COOKIE.sessionData])?.session)}` : ""),
            );

            const goView = await http(baseURL, "GET", "/api/auth/get-session", { cookie: cookieHeader(cookies, names) });
            assert.equal(goView.status, 200, `${what}: Go get-session on its own session: ${goView.text}`);
            assert.deepEqual(
              { session: pick(goView.json?.session, SESSION_KEYS), user: pick(goView.json?.user, USER_KEYS) },
              { session: pick(s, SESSION_KEYS), user: pick(jsonish(got.user), USER_KEYS) },
              `${what}: the Go server's get-session differs from better-auth's on the same cookies; row ${show(srow)}`,
            );
          }
        } finally {
          close();
        }
        assertRowEncoding(layoutKey, "session", srow, `${u.key}: session row written by the Go server`);
      }
    });

    it("a user signed up through the Go server signs in through better-auth", async () => {
      const carl = { name: "Carl Go", email: "Carl.Go@Example.com", password: "go-password-123 ✓" };
      const res = await http(baseURL, "POST", "/api/auth/sign-up/email", { body: carl });
      assert.equal(res.status, 200, `Go sign-up: status ${res.status} body ${res.text}`);
      const goUser = res.json.user;
      const urow = await userRow(carl.email);
      assert.ok(urow, `no ${userTable} row for ${carl.email.toLowerCase()}`);
      const arows = await accountRows(urow.id);
      const diag = `user row ${show(urow)}; account rows ${show(arows)}`;
      assert.equal(urow.email, carl.email.toLowerCase(), diag);
      assert.equal(urow.id, goUser.id, diag);

      const { auth, close } = openBetterAuth(layout, dbPath, baseURL);
      let signIn;
      try {
        try {
          signIn = await auth.api.signInEmail({ body: { email: carl.email.toLowerCase(), password: carl.password } });
        } catch (err) {
          assert.fail(`better-auth signInEmail for the Go-created user threw ${err?.status ?? ""} ${err?.body?.code ?? err?.message}; ${diag}`);
        }
        assert.equal(signIn?.user?.id, goUser.id, diag);
        assert.equal(signIn.user.email, carl.email.toLowerCase());
        assert.equal(signIn.user.name, carl.name);
        assertNear(dateJSON(signIn.user.createdAt), Date.now(), 10 * 60_000, `createdAt as better-auth reads the Go row ${show(urow)}`);

      } finally {
        close();
      }

      const credential = arows.filter((a) => a.provider_id === "credential");
      assert.equal(credential.length, 1, diag);
      assert.equal(credential[0].account_id, urow.id, diag);
      assert.match(String(credential[0].password), HASH, diag);
      assertRowEncoding(layoutKey, "user", urow, "user row written by the Go server");
      assertRowEncoding(layoutKey, "account", credential[0], "account row written by the Go server");
      const srow = await sessionRow(res.json.token);
      assert.ok(srow, `no session row for the Go sign-up token; ${diag}`);
      assertRowEncoding(layoutKey, "session", srow, "sign-up session row written by the Go server");
    });

    it("the Go server refreshes an older better-auth session in the layout's encoding", async () => {
      // Age bob's better-auth session by two days (expiresAt = now + 5 d, written
      // in the layout's encoding as better-auth would have written it), so that
      // get-session must refresh it (expiresAt − expiresIn + updateAge ≤ now).
      const token = ref.bob.session.session.token;
      const aged = new Date(Date.now() + 5 * DAY);
      const encoded = layoutKey === "A" ? Math.floor(aged.getTime() / 1000) : aged.toISOString();
      await query(dbPath, "UPDATE session SET expires_at = ? WHERE token = ?", [encoded, token]);

      const res = await http(baseURL, "GET", "/api/auth/get-session", {
        cookie: cookieHeader(ref.bob.cookies, [COOKIE.sessionToken]),
      });
      const srow = await sessionRow(token);
      assert.equal(res.status, 200, `status ${res.status} body ${res.text}; row ${show(srow)}`);
      assert.ok(res.json?.session, `expected {session,user}, got ${res.text}; row ${show(srow)}`);
      assertNear(res.json.session.expiresAt, Date.now() + 7 * DAY, 10 * 60_000, `refreshed expiresAt; row ${show(srow)}`);
      assert.ok(
        cookiesFrom(res.setCookies)[COOKIE.sessionToken],
        `a refresh re-sets ${COOKIE.sessionToken}: ${show(res.setCookies)}`,
      );
      assertRowEncoding(layoutKey, "session", srow, "session row refreshed by the Go server");

      const { auth, close } = openBetterAuth(layout, dbPath, baseURL);
      try {
        const got = await auth.api.getSession({
          headers: new Headers({ cookie: cookieHeader(ref.bob.cookies, [COOKIE.sessionToken]) }),
        });
        assert.ok(got?.session, `better-auth getSession after the Go refresh → ${show(got)}; row ${show(srow)}`);
        const ba = jsonish(got.session);
        assert.equal(ba.expiresAt, decodeCell(layoutKey, srow.expires_at));
        assert.equal(ba.expiresAt, res.json.session.expiresAt, `better-auth reads ${ba.expiresAt}, the Go server answered ${res.json.session.expiresAt}; row ${show(srow)}`);
        assert.equal(ba.updatedAt, res.json.session.updatedAt, `better-auth reads updatedAt ${ba.updatedAt}, the Go server answered ${res.json.session.updatedAt}; row ${show(srow)}`);
      } finally {
        close();
      }
    });

    it("the Go sign-up answer's dates are the stored ones (as better-auth answers on this layout)", async () => {
      const dora = { name: "Dora", email: "dora@example.com", password: "dora-password-1" };
      const res = await http(baseURL, "POST", "/api/auth/sign-up/email", { body: dora });
      assert.equal(res.status, 200, res.text);
      const urow = await userRow(dora.email);
      assert.equal(res.json.user.createdAt, decodeCell(layoutKey, urow.created_at), `sign-up answer ${res.text} vs row ${show(urow)}`);
      assert.equal(res.json.user.updatedAt, decodeCell(layoutKey, urow.updated_at), `sign-up answer ${res.text} vs row ${show(urow)}`);
    });
  });
}
