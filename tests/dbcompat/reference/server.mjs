// Reference server: the REAL better-auth 1.7.24 (Drizzle + libsql on the
// TURSO_DATABASE_URL file, layout chosen by AUTH_SCHEMA) behind the Go
// server's environment contract, plus GET /api/health.
//
// It exists only to validate this suite itself:
//   SERVER_BIN=reference/server.mjs ./run.sh
// must pass.
import http from "node:http";
import { toNodeHandler } from "better-auth/node";
import { LAYOUTS } from "../lib/layouts.mjs";
import { openBetterAuth } from "../lib/reference.mjs";

const port = Number(process.env.PORT || 3000);
const layout = process.env.AUTH_SCHEMA === "user" ? LAYOUTS.A : LAYOUTS.B;
const dbPath = String(process.env.TURSO_DATABASE_URL).replace(/^file:/, "");
const { auth } = openBetterAuth(layout, dbPath, process.env.BETTER_AUTH_URL);
const authHandler = toNodeHandler(auth);

const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  if (url.pathname.startsWith("/api/auth/")) return authHandler(req, res);
  if (req.method === "GET" && url.pathname === "/api/health") {
    res.setHeader("Content-Type", "application/json");
    return res.end(JSON.stringify({ status: "ok" }));
  }
  res.statusCode = 404;
  res.end();
});
server.listen(port, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${port}`));
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
