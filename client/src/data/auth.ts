import type { ApiClient } from './api-client.ts';
import type { User } from './types.ts';

export interface LoginResult {
  token: string;
  user: User;
}

export const login = (api: ApiClient, username: string, password: string) =>
  api.post<LoginResult>('/api/auth/login', { username, password });

export const logout = (api: ApiClient) => api.request<void>('POST', '/api/auth/logout', { as: 'none' });

export const me = (api: ApiClient, signal?: AbortSignal) => api.get<User>('/api/users/me', { signal });
