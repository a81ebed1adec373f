import type { ApiClient } from './api-client.ts';
import type { Role, UserDto, UserRef } from '../../../lib/api-types/users.ts';

export const listUsers = (api: ApiClient, signal?: AbortSignal) =>
  api.get<UserDto[]>('/api/users', { signal });

export const createUser = (api: ApiClient, input: { username: string; password: string; role: Role }) =>
  api.post<UserDto>('/api/users', input);

/** Role change and disabling: `PATCH /api/users/:id` (an addition to the contract, see the client README). */
export const updateUser = (api: ApiClient, id: string, patch: { role?: Role; disabled?: boolean }) =>
  api.patch<UserDto>(`/api/users/${encodeURIComponent(id)}`, patch);

/** The name to show for a user reference. */
export const nameOf = (u: UserRef | null | undefined): string => u?.username ?? '—';
