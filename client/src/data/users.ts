import type { ApiClient } from './api-client.ts';
import type { Role, User } from './types.ts';

export const listUsers = (api: ApiClient, signal?: AbortSignal) =>
  api.get<User[] | { items: User[] }>('/api/users', { signal }).then((r) => (Array.isArray(r) ? r : r.items));

export const createUser = (api: ApiClient, input: { username: string; password: string; role: Role }) =>
  api.post<User>('/api/users', input);

/** Role change and disabling: `PATCH /api/users/:id` (an addition to the contract, see the client README). */
export const updateUser = (api: ApiClient, id: string, patch: { role?: Role; disabled?: boolean }) =>
  api.patch<User>(`/api/users/${encodeURIComponent(id)}`, patch);
