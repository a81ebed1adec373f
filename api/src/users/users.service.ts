import { randomBytes } from 'node:crypto';
import type { Role } from '../../../lib/db/schema.ts';
import type { Services } from '../http/context.ts';
import { AppError } from '../http/errors.ts';
import { hashPassword } from '../auth/passwords.ts';
import { revokeUserSessions } from '../auth/auth.repository.ts';
import * as repo from './users.repository.ts';
import type { UserDto } from '../../../lib/api-types/users.ts';

function toDto(r: {
  id: string;
  username: string;
  role: Role;
  disabled_at: Date | null;
  created_at: Date;
}): UserDto {
  return {
    id: r.id,
    username: r.username,
    role: r.role,
    disabled: r.disabled_at !== null,
    createdAt: r.created_at.toISOString(),
  };
}

/** Create a user; a username taken case-insensitively → 409. */
export async function createUser(
  services: Services,
  input: { username: string; password: string; role: Role },
) {
  const passwordHash = await hashPassword(input.password, services.config.argon2MemoryKiB);
  try {
    return toDto(
      await repo.insertUser(services.db, { username: input.username, passwordHash, role: input.role }),
    );
  } catch (err) {
    if ((err as { code?: string }).code === '23505') {
      throw new AppError('conflict', `the username "${input.username}" is already taken`);
    }
    throw err;
  }
}

export async function listUsers(services: Services): Promise<UserDto[]> {
  return (await repo.listUsers(services.db)).map(toDto);
}

export async function getUser(services: Services, id: string): Promise<UserDto> {
  const row = await repo.findUser(services.db, id);
  if (!row) throw new AppError('not_found', `no user with id ${id}`);
  return toDto(row);
}

/** Change role, disable/enable, or reset the password. Disabling revokes every session of the user. */
export async function updateUser(
  services: Services,
  actorId: string,
  id: string,
  patch: { role?: Role; disabled?: boolean; password?: string },
): Promise<UserDto> {
  if (id === actorId && (patch.disabled === true || (patch.role && patch.role !== 'admin'))) {
    throw new AppError('conflict', 'you cannot disable or demote yourself; ask another admin');
  }
  const updated = await services.db.transaction().execute(async (tx) => {
    const row = await repo.updateUser(tx, id, {
      role: patch.role,
      disabled_at: patch.disabled === undefined ? undefined : patch.disabled ? new Date() : null,
      password_hash: patch.password
        ? await hashPassword(patch.password, services.config.argon2MemoryKiB)
        : undefined,
    });
    if (!row) throw new AppError('not_found', `no user with id ${id}`);
    if (patch.disabled || patch.password) await revokeUserSessions(tx, id);
    return toDto(row);
  });
  // After the commit: a request in between would remember the old role or session again.
  services.sessions.forgetUser(id);
  return updated;
}

/**
 * First start with an empty database: create `admin` with PLATINA_ADMIN_PASSWORD, or a generated
 * password that is returned so the caller prints it once. Returns null when users already exist.
 */
export async function bootstrapAdmin(
  services: Services,
): Promise<{ password: string; generated: boolean } | null> {
  if ((await repo.countUsers(services.db)) > 0) return null;
  const generated = services.config.adminPassword === null;
  const password = services.config.adminPassword ?? randomBytes(12).toString('base64url');
  await createUser(services, { username: 'admin', password, role: 'admin' });
  return { password, generated };
}
