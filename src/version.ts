import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const LOCKSTEP_VERSION: string = require('../package.json').version;
export const ORT_VERSION: string = require('onnxruntime-node/package.json').version;

/** onnxruntime-web's installed version (its package.json is not exported: found beside its entry point). */
export function ortWebVersion(): string {
  const entry = require.resolve('onnxruntime-web'); // …/onnxruntime-web/dist/ort.node.min.js
  return JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')).version;
}
