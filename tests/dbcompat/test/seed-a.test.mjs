// Seed A (addreams): tables `user`, `session`, `account`, `verification`; unix-seconds INTEGER dates.
import { defineLayoutSuite } from "../lib/suite.mjs";

defineLayoutSuite("A");
