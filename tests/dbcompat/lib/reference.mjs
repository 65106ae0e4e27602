// The real better-auth (pinned 1.7.24) over Drizzle (provider "sqlite") and
// @libsql/client on a file: URL, configured like the seed applications.
import { createClient } from "@libsql/client";
import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { drizzle } from "drizzle-orm/libsql";

export const SECRET = "dbcompat-test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const SPA_ORIGIN = "http://localhost:5173";
export const COOKIE_PREFIX = "better-auth";
export const COOKIE = {
  sessionToken: `${COOKIE_PREFIX}.session_token`,
  sessionData: `${COOKIE_PREFIX}.session_data`,
};

/** Create the layout's tables in a fresh SQLite file, exactly as the seed does. */
export async function createDatabase(layout, dbPath) {
  const client = createClient({ url: `file:${dbPath}` });
  try {
    for (const stmt of layout.ddl) await client.execute(stmt);
  } finally {
    client.close();
  }
}

/** Raw SQL access (libsql) for inspecting rows; returns plain objects plus SQLite's typeof() of each column. */
export async function query(dbPath, sql, args = []) {
  const client = createClient({ url: `file:${dbPath}` });
  try {
    const rs = await client.execute({ sql, args });
    return rs.rows.map((r) => Object.fromEntries(rs.columns.map((c) => [c, r[c]])));
  } finally {
    client.close();
  }
}

/** Like query(), but every column also gets a `<col>:type` entry with SQLite's typeof(). */
export async function rowsWithTypes(dbPath, table, where, args = []) {
  const client = createClient({ url: `file:${dbPath}` });
  try {
    const cols = (await client.execute(`PRAGMA table_info(\`${table}\`)`)).rows.map((r) => r.name);
    const select = cols.map((c) => `\`${c}\`, typeof(\`${c}\`) AS \`${c}:type\``).join(", ");
    const rs = await client.execute({ sql: `SELECT ${select} FROM \`${table}\` WHERE ${where}`, args });
    return rs.rows.map((r) => Object.fromEntries(rs.columns.map((c) => [c, r[c]])));
  } finally {
    client.close();
  }
}

/**
 * Start better-auth on the file. Returns {auth, close}. baseURL is the Go
 * server's URL, so that cookie names/attributes and the trusted origin list
 * are the ones the Go server will use.
 */
export function openBetterAuth(layout, dbPath, baseURL) {
  const client = createClient({ url: `file:${dbPath}` });
  const db = drizzle(client, { schema: layout.drizzleSchema });
  const lo = layout.authOptions;
  const auth = betterAuth({
    database: drizzleAdapter(db, { provider: "sqlite", schema: layout.drizzleSchema }),
    secret: SECRET,
    baseURL,
    basePath: "/api/auth",
    trustedOrigins: [SPA_ORIGIN],
    ...(lo.user ? { user: lo.user } : {}),
    ...(lo.account ? { account: lo.account } : {}),
    ...(lo.verification ? { verification: lo.verification } : {}),
    session: {
      expiresIn: 60 * 60 * 24 * 7,
      ...(lo.session ?? {}),
      cookieCache: { enabled: true, maxAge: 300 },
    },
    emailAndPassword: { enabled: true, requireEmailVerification: false, ...(lo.emailAndPassword ?? {}) },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { disabled: !process.env.DBCOMPAT_DEBUG },
  });
  return {
    auth,
    close() {
      client.close();
    },
  };
}

/** Call better-auth's HTTP handler the way a browser SPA on SPA_ORIGIN would. */
export async function handlerRequest(auth, baseURL, method, path, { body, cookie } = {}) {
  const headers = new Headers({ origin: SPA_ORIGIN });
  if (body !== undefined) headers.set("content-type", "application/json");
  if (cookie) headers.set("cookie", cookie);
  const res = await auth.handler(
    new Request(`${baseURL}/api/auth${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
  const text = await res.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, setCookies: res.headers.getSetCookie(), text, json };
}
