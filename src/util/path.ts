import { isAbsolute, relative } from 'node:path';

/** A path as messages show it: relative to the working directory when inside it (short CI logs), else absolute. */
export function shownPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}
