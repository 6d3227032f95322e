#!/usr/bin/env node
// The `prokus` bin: plain JavaScript so npm can link it, then TypeScript through tsx,
// the same way `npm run prokus` runs cli/cli.ts.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
