import { UsageError } from '../../errors.ts';
import type { BackendOptions } from '../backend.ts';
import type { ModelSource, OpenedSession } from '../session.ts';

export async function openBrowserSession(_source: ModelSource, _backend: BackendOptions, label: string): Promise<OpenedSession> {
  throw new UsageError(`${label}: browser providers are not implemented yet`);
}
