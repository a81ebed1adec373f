/** Users and sign-in (`/api/auth`, `/api/users`). */
import type { Role } from '../domain.ts';

export type { Role };

/** A user as `GET /api/users` lists one (admins and leads). */
export interface UserDto {
  id: string;
  username: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

/** The signed-in user (`GET /api/users/me`, and inside the login answer). */
export type MeDto = Pick<UserDto, 'id' | 'username' | 'role'>;

/** `POST /api/auth/login`. */
export interface LoginResult {
  token: string;
  expiresAt: string;
  user: MeDto;
  /**
   * Proof that this device signed in to this account: sent back with the next sign-ins of the account
   * (`deviceToken`), it gives them a throttle of their own that others' failed attempts cannot slow.
   * Not a credential; a password change retires it.
   */
  deviceToken: string;
}

/** How other payloads name a user (a vote's author, a lead's resolution). */
export interface UserRef {
  id: string;
  username: string;
}
