import type { ApiClient } from './api-client.ts';
import type { LoginResult, MeDto } from '../../../lib/api-types/users.ts';

export type { LoginResult };

export const login = (api: ApiClient, username: string, password: string) =>
  api.post<LoginResult>('/api/auth/login', { username, password });

export const logout = (api: ApiClient) => api.request<void>('POST', '/api/auth/logout', { as: 'none' });

export const me = (api: ApiClient, signal?: AbortSignal) => api.get<MeDto>('/api/users/me', { signal });
