import type { ApiClient } from './api-client.ts';
import type { Settings, SettingsPatch } from '../../../lib/api-types/settings.ts';

export const getSettings = (api: ApiClient, signal?: AbortSignal) =>
  api.get<Settings>('/api/settings', { signal });

export const putSettings = (api: ApiClient, settings: SettingsPatch) =>
  api.put<Settings>('/api/settings', settings);

/** Whether experts may see the model's hint before voting; false when the settings could not be read. */
export const modelHintEnabled = (s: Settings | null): boolean => s?.showModelHint ?? false;
