#!/usr/bin/env node
// Runs the TypeScript sources directly (tsx), so `npx lstm-signals` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
await import('../adapters/standalone/cli.ts');
