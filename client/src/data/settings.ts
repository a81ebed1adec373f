import type { ApiClient } from './api-client.ts';
import type { Settings } from './types.ts';

export const getSettings = (api: ApiClient, signal?: AbortSignal) =>
  api.get<Settings>('/api/settings', { signal });

export const putSettings = (api: ApiClient, settings: Settings) =>
  api.put<Settings>('/api/settings', settings);

/** Whether experts may see the model's hint before voting. Names tried in order; false when unreadable. */
export function modelHintEnabled(s: Settings | null): boolean {
  if (!s) return false;
  for (const k of ['showModelHint', 'modelHintVisible', 'modelHint'])
    if (typeof s[k] === 'boolean') return s[k] as boolean;
  return false;
}
