// seamark's CommonJS dependencies (fastify, pino, prom-client, dockerode,
// yaml) are loaded with require(), not import: Node's ES module loader parses
// each CommonJS module it imports for its export names and keeps an ES module
// facade for it, which costs about 3 MB resident for these packages and buys
// nothing (measured by `npm run bench`). Types still come from `import type`.
import { createRequire } from 'node:module';

export const requireCommonJs = createRequire(import.meta.url);
