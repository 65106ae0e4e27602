// Seed B ("seed 003", docs/auth-wire.md §10.2): tables `users` (+ credits, tier), `session`, `account`, `verification`; TEXT dates.
import { defineLayoutSuite } from "../lib/suite.mjs";

defineLayoutSuite("B");
