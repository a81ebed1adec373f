/** Users and sign-in (`/api/auth`, `/api/users`). */
import type { Role } from '../db/schema.ts';

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
}

/** How other payloads name a user (a vote's author, a lead's resolution). */
export interface UserRef {
  id: string;
  username: string;
}
