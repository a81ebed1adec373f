import type { ApiClient } from './api-client.ts';
import type { LoginResult, MeDto } from '../../../lib/api-types/users.ts';

export type { LoginResult };

/**
 * The device token of each account that signed in on this browser (LoginResult.deviceToken): sent with
 * the account's next sign-ins so that others' failed attempts on the account cannot slow them. Kept across
 * sign-outs on purpose — it is no credential, only proof of an earlier sign-in here.
 */
const deviceKey = (username: string) => `platina.device.${username.toLowerCase()}`;

function storedDevice(username: string): string | null {
  try {
    return localStorage.getItem(deviceKey(username));
  } catch {
    return null; // storage disabled: sign in without one
  }
}

export async function login(api: ApiClient, username: string, password: string): Promise<LoginResult> {
  const result = await api.post<LoginResult>('/api/auth/login', {
    username,
    password,
    deviceToken: storedDevice(username),
  });
  try {
    localStorage.setItem(deviceKey(username), result.deviceToken);
  } catch {
    // storage full or disabled: the next sign-in is throttled like any other
  }
  return result;
}

export const logout = (api: ApiClient) => api.request<void>('POST', '/api/auth/logout', { as: 'none' });

export const me = (api: ApiClient, signal?: AbortSignal) => api.get<MeDto>('/api/users/me', { signal });
