// The two physical layouts of existing better-auth databases (docs/auth-wire.md §10.2):
// their DDL exactly as the seeds create it, and the Drizzle schema objects the
// seed applications hand to better-auth's Drizzle adapter.
import { sql } from "drizzle-orm";
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

// ---------------------------------------------------------------------------
// Seed A ("addreams"): singular `user`, snake_case, integer({mode:"timestamp"})
// dates = unix seconds. DDL verbatim from backend/drizzle/0000_windy_nicolaos.sql
// (docs/auth-wire.md §10.2); Drizzle schema as in backend/src/db/schema.ts.
// ---------------------------------------------------------------------------
const seedA_DDL = [
  "CREATE TABLE `user` (`id` text PRIMARY KEY NOT NULL, `name` text NOT NULL, `email` text NOT NULL, `email_verified` integer DEFAULT false NOT NULL, `image` text, `created_at` integer NOT NULL, `updated_at` integer NOT NULL);",
  "CREATE UNIQUE INDEX `user_email_unique` ON `user` (`email`);",
  "CREATE TABLE `session` (`id` text PRIMARY KEY NOT NULL, `expires_at` integer NOT NULL, `token` text NOT NULL, `created_at` integer NOT NULL, `updated_at` integer NOT NULL, `ip_address` text, `user_agent` text, `user_id` text NOT NULL, FOREIGN KEY (`user_id`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE no action);",
  "CREATE UNIQUE INDEX `session_token_unique` ON `session` (`token`);",
  "CREATE TABLE `account` (`id` text PRIMARY KEY NOT NULL, `account_id` text NOT NULL, `provider_id` text NOT NULL, `user_id` text NOT NULL, `access_token` text, `refresh_token` text, `id_token` text, `access_token_expires_at` integer, `refresh_token_expires_at` integer, `scope` text, `password` text, `created_at` integer NOT NULL, `updated_at` integer NOT NULL, FOREIGN KEY (`user_id`) REFERENCES `user`(`id`) ON UPDATE no action ON DELETE no action);",
  "CREATE TABLE `verification` (`id` text PRIMARY KEY NOT NULL, `identifier` text NOT NULL, `value` text NOT NULL, `expires_at` integer NOT NULL, `created_at` integer, `updated_at` integer);",
];

const aUser = sqliteTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: integer("email_verified", { mode: "boolean" }).notNull().default(false),
  image: text("image"),
  createdAt: integer("created_at", { mode: "timestamp" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp" }).notNull(),
});
const aSession = sqliteTable("session", {
  id: text("id").primaryKey(),
  expiresAt: integer("expires_at", { mode: "timestamp" }).notNull(),
  token: text("token").notNull().unique(),
  createdAt: integer("created_at", { mode: "timestamp" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp" }).notNull(),
  ipAddress: text("ip_address"),
  userAgent: text("user_agent"),
  userId: text("user_id")
    .notNull()
    .references(() => aUser.id),
});
const aAccount = sqliteTable("account", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull(),
  providerId: text("provider_id").notNull(),
  userId: text("user_id")
    .notNull()
    .references(() => aUser.id),
  accessToken: text("access_token"),
  refreshToken: text("refresh_token"),
  idToken: text("id_token"),
  accessTokenExpiresAt: integer("access_token_expires_at", { mode: "timestamp" }),
  refreshTokenExpiresAt: integer("refresh_token_expires_at", { mode: "timestamp" }),
  scope: text("scope"),
  password: text("password"),
  createdAt: integer("created_at", { mode: "timestamp" }).notNull(),
  updatedAt: integer("updated_at", { mode: "timestamp" }).notNull(),
});
const aVerification = sqliteTable("verification", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp" }).notNull(),
  createdAt: integer("created_at", { mode: "timestamp" }),
  updatedAt: integer("updated_at", { mode: "timestamp" }),
});

// ---------------------------------------------------------------------------
// Seed B ("seed 003", docs/auth-wire.md §10.2): plural `users` (+ credits, tier), snake_case, dates in
// TEXT columns with DEFAULT (datetime('now')). Drizzle schema verbatim from the
// seed; DDL = what drizzle-kit generates for it (declaration order, inline
// FOREIGN KEY clauses, UNIQUE as separate `<table>_<col>_unique` indexes).
// ---------------------------------------------------------------------------
const seedB_DDL = [
  "CREATE TABLE `users` (`id` text PRIMARY KEY NOT NULL, `email` text NOT NULL, `name` text NOT NULL, `email_verified` integer DEFAULT false, `image` text, `credits` integer DEFAULT 500 NOT NULL, `tier` text DEFAULT 'free' NOT NULL, `created_at` text DEFAULT (datetime('now')) NOT NULL, `updated_at` text DEFAULT (datetime('now')) NOT NULL);",
  "CREATE UNIQUE INDEX `users_email_unique` ON `users` (`email`);",
  "CREATE TABLE `session` (`id` text PRIMARY KEY NOT NULL, `expires_at` text NOT NULL, `token` text NOT NULL, `ip_address` text, `user_agent` text, `user_id` text NOT NULL, `created_at` text DEFAULT (datetime('now')) NOT NULL, `updated_at` text DEFAULT (datetime('now')) NOT NULL, FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action);",
  "CREATE UNIQUE INDEX `session_token_unique` ON `session` (`token`);",
  "CREATE TABLE `account` (`id` text PRIMARY KEY NOT NULL, `account_id` text NOT NULL, `provider_id` text NOT NULL, `user_id` text NOT NULL, `access_token` text, `refresh_token` text, `id_token` text, `access_token_expires_at` text, `refresh_token_expires_at` text, `scope` text, `password` text, `created_at` text DEFAULT (datetime('now')) NOT NULL, `updated_at` text DEFAULT (datetime('now')) NOT NULL, FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE no action);",
  "CREATE TABLE `verification` (`id` text PRIMARY KEY NOT NULL, `identifier` text NOT NULL, `value` text NOT NULL, `expires_at` text NOT NULL, `created_at` text DEFAULT (datetime('now')), `updated_at` text DEFAULT (datetime('now')));",
];

const users = sqliteTable("users", {
  id: text("id")
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID()),
  email: text("email").notNull().unique(),
  name: text("name").notNull(),
  emailVerified: integer("email_verified", { mode: "boolean" }).default(false),
  image: text("image"),
  credits: integer("credits").default(500).notNull(),
  tier: text("tier").default("free").notNull(),
  createdAt: text("created_at").default(sql`(datetime('now'))`).notNull(),
  updatedAt: text("updated_at").default(sql`(datetime('now'))`).notNull(),
});
const sessions = sqliteTable("session", {
  id: text("id").primaryKey(),
  expiresAt: text("expires_at").notNull(),
  token: text("token").notNull().unique(),
  ipAddress: text("ip_address"),
  userAgent: text("user_agent"),
  userId: text("user_id")
    .notNull()
    .references(() => users.id),
  createdAt: text("created_at").default(sql`(datetime('now'))`).notNull(),
  updatedAt: text("updated_at").default(sql`(datetime('now'))`).notNull(),
});
const accounts = sqliteTable("account", {
  id: text("id").primaryKey(),
  accountId: text("account_id").notNull(),
  providerId: text("provider_id").notNull(),
  userId: text("user_id")
    .notNull()
    .references(() => users.id),
  accessToken: text("access_token"),
  refreshToken: text("refresh_token"),
  idToken: text("id_token"),
  accessTokenExpiresAt: text("access_token_expires_at"),
  refreshTokenExpiresAt: text("refresh_token_expires_at"),
  scope: text("scope"),
  password: text("password"),
  createdAt: text("created_at").default(sql`(datetime('now'))`).notNull(),
  updatedAt: text("updated_at").default(sql`(datetime('now'))`).notNull(),
});
const verifications = sqliteTable("verification", {
  id: text("id").primaryKey(),
  identifier: text("identifier").notNull(),
  value: text("value").notNull(),
  expiresAt: text("expires_at").notNull(),
  createdAt: text("created_at").default(sql`(datetime('now'))`),
  updatedAt: text("updated_at").default(sql`(datetime('now'))`),
});

export const LAYOUTS = {
  A: {
    name: "seed A (addreams: `user`, integer unix-seconds dates)",
    authSchema: "user",
    userTable: "user",
    ddl: seedA_DDL,
    drizzleSchema: { user: aUser, session: aSession, account: aAccount, verification: aVerification },
    // better-auth options specific to the layout (seed A: none).
    authOptions: {},
  },
  B: {
    name: "seed B (seed 003: `users`, TEXT dates)",
    authSchema: "users",
    userTable: "users",
    ddl: seedB_DDL,
    // Seed 003 passes {user: schema.users, ...}; better-auth 1.7.24's Drizzle
    // adapter addresses each table by its *model name* (and refuses to start
    // with "Drizzle schema mismatch / Missing tables users" otherwise), so the
    // users table must sit under the key "users".
    drizzleSchema: { users, session: sessions, account: accounts, verification: verifications },
    authOptions: {
      user: { modelName: "users" },
      account: { modelName: "account" },
      verification: { modelName: "verification" },
      session: { modelName: "session", updateAge: 60 * 60 * 24 },
      emailAndPassword: { minPasswordLength: 8 },
    },
  },
};
