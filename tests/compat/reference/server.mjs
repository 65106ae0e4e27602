// Reference server: the REAL better-auth 1.7.24 (memory adapter) behind the same
// environment-variable contract as the Go server (PORT, BETTER_AUTH_URL,
// BETTER_AUTH_SECRET, TRUSTED_ORIGINS, RATE_LIMIT_ENABLED, COOKIE_PREFIX,
// EMAIL_TRANSPORT=smtp with SMTP_URL and EMAIL_FROM for password-reset and
// verification mail, and EMAIL_VERIFICATION=off|send|required), plus
// the app routes GET /api/health and GET /api/me and the CORS layer of
// docs/app-api.md §3.
//
// It exists only to validate the compatibility suite itself:
//   SERVER_BIN=reference/server.mjs ./run.sh
// must pass (apart from checks that are specific to the Go server's storage).
import http from "node:http";
import net from "node:net";
import { randomUUID } from "node:crypto";
import { betterAuth } from "better-auth";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";

const port = Number(process.env.PORT || 3000);
const trusted = (process.env.TRUSTED_ORIGINS || "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);

// A minimal plain SMTP client (no TLS, no AUTH): enough for a local Mailpit.
async function sendMail({ to, subject, text }) {
  const smtp = new URL(process.env.SMTP_URL);
  const from = process.env.EMAIL_FROM;
  const fromAddr = from.match(/<([^>]+)>/)?.[1] ?? from;
  const sock = net.connect({ host: smtp.hostname, port: Number(smtp.port || 25) });
  let buf = "";
  const waiters = [];
  const early = []; // replies that came before anyone waited for them
  sock.setEncoding("utf8");
  sock.on("data", (d) => {
    buf += d;
    // A reply ends with a line "NNN text" (a space after the code, not a dash).
    for (let m; (m = buf.match(/^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/)); ) {
      buf = buf.slice(m[0].length);
      const r = { code: Number(m[1]), text: m[0] };
      if (waiters.length) waiters.shift().resolve(r);
      else early.push(r);
    }
  });
  let failed = null;
  const fail = (e) => {
    failed ??= e;
    waiters.splice(0).forEach((w) => w.reject(failed));
  };
  sock.on("error", fail);
  sock.on("close", () => fail(new Error("SMTP: connection closed")));
  const reply = () => {
    if (early.length) return Promise.resolve(early.shift());
    if (failed) return Promise.reject(failed);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  };
  const expect = async (p, want) => {
    const r = await p;
    if (Math.floor(r.code / 100) !== want) throw new Error(`SMTP: unexpected reply ${r.text}`);
  };
  const cmd = (line, want) => {
    const p = reply();
    sock.write(`${line}\r\n`);
    return expect(p, want);
  };
  try {
    await expect(reply(), 2);
    await cmd("EHLO localhost", 2);
    await cmd(`MAIL FROM:<${fromAddr}>`, 2);
    await cmd(`RCPT TO:<${to}>`, 2);
    await cmd("DATA", 3);
    const body = text.replace(/\r?\n/g, "\r\n").replace(/^\./gm, "..");
    await cmd(
      `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nDate: ${new Date().toUTCString()}\r\n` +
        `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n.`,
      2,
    );
    await cmd("QUIT", 2);
  } finally {
    sock.end();
  }
}
const mailEnabled = process.env.EMAIL_TRANSPORT === "smtp";
// EMAIL_VERIFICATION as the Go server reads it (docs/auth-wire.md §3.12):
// off (default), send (better-auth's sendOnSignUp), required
// (requireEmailVerification with sendOnSignIn). With a mail transport,
// send-verification-email and the verified user's change-email mail work
// in every mode, as sendVerificationEmail is set.
const verification = (process.env.EMAIL_VERIFICATION || "off").toLowerCase();
if (!["off", "send", "required"].includes(verification)) throw new Error(`EMAIL_VERIFICATION=${verification}`);
if (verification !== "off" && !mailEnabled) throw new Error("EMAIL_VERIFICATION needs EMAIL_TRANSPORT=smtp");

/** The claims of a verification JWT (better-auth signs them; we only read). */
const jwtClaims = (token) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"));

const db = { user: [], session: [], account: [], verification: [] };
const auth = betterAuth({
  secret: process.env.BETTER_AUTH_SECRET,
  baseURL: process.env.BETTER_AUTH_URL,
  basePath: "/api/auth",
  trustedOrigins: trusted,
  database: memoryAdapter(db),
  telemetry: { enabled: false },
  emailAndPassword: {
    enabled: true,
    revokeSessionsOnPasswordReset: true,
    requireEmailVerification: verification === "required",
    sendResetPassword: mailEnabled
      ? async ({ user, url }) =>
          sendMail({
            to: user.email,
            subject: "Reset your AdDreams password",
            text: `Someone asked to reset the password of your AdDreams account.\n\n${url}\n`,
          })
      : undefined,
  },
  emailVerification: mailEnabled
    ? {
        sendOnSignUp: verification !== "off",
        sendOnSignIn: verification === "required",
        // One callback for both kinds of link, as in better-auth: an email
        // change's goes to the new address (user.email is already it).
        sendVerificationEmail: async ({ user, url, token }) =>
          jwtClaims(token).requestType === "change-email-verification"
            ? sendMail({
                to: user.email,
                subject: "Confirm your new email for AdDreams",
                text: `Someone asked to move an AdDreams account to ${user.email}.\n\n${url}\n`,
              })
            : sendMail({
                to: user.email,
                subject: "Verify your email for AdDreams",
                text: `Please confirm that ${user.email} is your address for AdDreams.\n\n${url}\n`,
              }),
      }
    : undefined,
  session: {
    expiresIn: 60 * 60 * 24 * 7,
    updateAge: 60 * 60 * 24,
    cookieCache: { enabled: true, maxAge: 300 },
  },
  user: {
    changeEmail: { enabled: true, updateEmailWithoutVerification: true },
    deleteUser: { enabled: true },
  },
  rateLimit: { enabled: process.env.RATE_LIMIT_ENABLED === "true" },
  advanced: { cookiePrefix: process.env.COOKIE_PREFIX || "better-auth" },
});
const authHandler = toNodeHandler(auth);

const profiles = new Map();
const isoSeconds = () => new Date(Math.floor(Date.now() / 1000) * 1000).toISOString();

function cors(req, res) {
  const origin = req.headers.origin;
  res.setHeader("Access-Control-Allow-Credentials", "true");
  if (origin && trusted.includes(origin)) res.setHeader("Access-Control-Allow-Origin", origin);
  if (req.method === "OPTIONS") {
    res.setHeader("Access-Control-Allow-Methods", "GET,POST,PUT,PATCH,DELETE,OPTIONS");
    res.setHeader("Access-Control-Allow-Headers", "Content-Type,Authorization");
    res.setHeader("Vary", "Origin, Access-Control-Request-Headers");
  } else {
    res.setHeader("Vary", "Origin");
  }
}

function json(res, status, body) {
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname.startsWith("/api/")) {
    cors(req, res);
    if (req.method === "OPTIONS") {
      res.statusCode = 204;
      return res.end();
    }
  }
  if (url.pathname.startsWith("/api/auth/")) return authHandler(req, res);
  if (req.method === "GET" && url.pathname === "/api/health") {
    return json(res, 200, { status: "ok", service: "addreams-api", timestamp: new Date().toISOString() });
  }
  if (req.method === "GET" && url.pathname === "/api/me") {
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
    const s = await auth.api.getSession({ headers });
    if (!s) {
      return json(res, 401, {
        error: { code: "UNAUTHORIZED", message: "Authentication required." },
        requestId: randomUUID(),
      });
    }
    let p = profiles.get(s.user.id);
    if (!p) {
      const now = isoSeconds();
      p = { userId: s.user.id, accountType: "free", creditsProductShoots: 1, creditsAdGraphics: 1, createdAt: now, updatedAt: now };
      profiles.set(s.user.id, p);
    }
    return json(res, 200, { user: s.user, profile: p });
  }
  return json(res, 404, { error: "Not found" });
});

server.listen(port, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
