import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const LOCKSTEP_VERSION: string = require('../package.json').version;
export const ORT_VERSION: string = require('onnxruntime-node/package.json').version;
