// Seed B (document 003): tables `users` (+ credits, tier), `session`, `account`, `verification`; TEXT dates.
import { defineLayoutSuite } from "../lib/suite.mjs";

defineLayoutSuite("B");
