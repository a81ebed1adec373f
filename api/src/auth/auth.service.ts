import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../http/errors.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { dummyHash, verifyPassword } from './passwords.ts';
import { FailureLimiter } from './rate-limit.ts';
import * as repo from './auth.repository.ts';
import type { LoginResult } from '../../../lib/api-types/users.ts';

// 10 failed attempts per 15 minutes per username, 30 per client address.
const byUser = new FailureLimiter(10, 15 * 60_000);
const byAddress = new FailureLimiter(30, 15 * 60_000);

/** Tokens are 256 random bits; only their SHA-256 is stored, so a database leak yields no live token. */
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Check credentials and open a session. Wrong username and wrong password give the same
 * answer after the same work (a dummy argon2 verify), so the API does not reveal who exists.
 */
export async function login(
  services: Services,
  username: string,
  password: string,
  address: string,
): Promise<LoginResult> {
  const userKey = `u:${username.toLowerCase()}`;
  const addrKey = `a:${address}`;
  const wait = Math.max(byUser.retryAfter(userKey), byAddress.retryAfter(addrKey));
  if (wait > 0) {
    throw new AppError('rate_limited', `too many failed sign-ins; try again in ${wait} s`, {
      retryAfter: wait,
    });
  }
  const user = await repo.findUserForLogin(services.db, username);
  const ok = user
    ? await verifyPassword(user.password_hash, password)
    : await verifyPassword(await dummyHash(services.config.argon2MemoryKiB), password).then(() => false);
  if (!user || !ok || user.disabled_at) {
    byUser.fail(userKey);
    byAddress.fail(addrKey);
    throw new AppError('unauthenticated', 'wrong username or password');
  }
  byUser.reset(userKey);
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + services.config.tokenTtlHours * 3600_000);
  await repo.insertSession(services.db, user.id, hashToken(token), expiresAt);
  return {
    token,
    expiresAt: expiresAt.toISOString(),
    user: { id: user.id, username: user.username, role: user.role },
  };
}

/** Resolve `Authorization: Bearer <token>` to its user, or 401. */
export async function authenticate(services: Services, header: string): Promise<AuthUser> {
  const m = /^Bearer\s+([A-Za-z0-9_-]{20,200})\s*$/i.exec(header ?? '');
  if (!m)
    throw new AppError(
      'unauthenticated',
      'missing or malformed Authorization header; expected "Bearer <token>"',
    );
  const hash = hashToken(m[1]!);
  const cached = services.sessions.get(hash);
  if (cached) return cached;
  const session = await repo.findLiveSession(services.db, hash);
  if (!session)
    throw new AppError('unauthenticated', 'the token is invalid, expired or revoked; sign in again');
  const { expiresAt, ...user } = session;
  services.sessions.remember(hash, user, expiresAt);
  return user;
}

export async function logout(services: Services, user: AuthUser): Promise<void> {
  await repo.revokeSession(services.db, user.sessionId);
  services.sessions.forgetSession(user.sessionId);
}
