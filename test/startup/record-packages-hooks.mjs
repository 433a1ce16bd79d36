// Module-resolution hook (runs on the loader thread): appends the package each resolved node_modules URL belongs to.
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
  const result = await nextResolve(specifier, context);
  const path = decodeURIComponent(result.url);
  const at = path.lastIndexOf('/node_modules/');
  if (file && at >= 0) {
    const parts = path.slice(at + '/node_modules/'.length).split('/');
    appendFileSync(file, `${parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}\n`);
  }
  return result;
}
