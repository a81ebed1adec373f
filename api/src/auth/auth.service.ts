import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../http/errors.ts';
import type { AuthUser, Services } from '../http/context.ts';
import { dummyHash, verifyPassword } from './passwords.ts';
import type { Attempt, Throttle } from './rate-limit.ts';
import * as repo from './auth.repository.ts';
import type { LoginResult } from '../../../lib/api-types/users.ts';

/** Tokens are 256 random bits; only their SHA-256 is stored, so a database leak yields no live token. */
function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * A device token (OWASP's "device cookie"): `<nonce>.<mac>`, the MAC keyed with the account's password
 * hash — a secret that never leaves the server, differs per account (its salt) and changes with the
 * password, so a password change retires every device token of the account, with nothing stored.
 * It proves only that this device signed in to this account before; it grants its own sign-in budget,
 * never access.
 */
function deviceMac(user: { id: string; password_hash: string }, nonce: string): Buffer {
  return createHmac('sha256', user.password_hash).update(`platina-device:${user.id}:${nonce}`).digest();
}

function issueDeviceToken(user: { id: string; password_hash: string }, nonce: string): string {
  return `${nonce}.${deviceMac(user, nonce).toString('base64url')}`;
}

/** The nonce of a valid device token of `user`, else null. */
function trustedDevice(user: { id: string; password_hash: string }, token: string): string | null {
  const m = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return null;
  const given = Buffer.from(m[2]!, 'base64url');
  return timingSafeEqual(given, deviceMac(user, m[1]!)) ? m[1]! : null;
}

/**
 * Check credentials and open a session. Wrong username and wrong password give the same
 * answer after the same work (a dummy argon2 verify), so the API does not reveal who exists.
 *
 * Throttled (rate-limit.ts, docs/security.md): the attempt is counted before the password is verified —
 * between the throttle's check and its count there is no await, so concurrent guesses cannot all pass —
 * and given back when the password was right. A valid `deviceToken` (from an earlier sign-in of this
 * account on this device) is throttled on its own, so an attacker cannot slow the owner's usual device.
 */
export async function login(
  services: Services,
  username: string,
  password: string,
  address: string,
  deviceToken?: string | null,
): Promise<LoginResult> {
  const user = await repo.findUserForLogin(services.db, username);
  const device = user && deviceToken ? trustedDevice(user, deviceToken) : null;
  const t = services.signIns;
  const keys: [Throttle, string][] = device
    ? [[t.byDevice, `d:${user!.id}:${device}`]]
    : [
        [t.byUser, `u:${username.toLowerCase()}`],
        [t.byAddress, `a:${address}`],
      ];
  const now = t.now();
  const waitMs = Math.max(...keys.map(([throttle, key]) => throttle.waitMs(key, now)));
  if (waitMs > 0) {
    const retryAfter = Math.ceil(waitMs / 1000);
    throw new AppError(
      'rate_limited',
      `too many failed sign-ins for this account or from this address; try again in ${retryAfter} s`,
      { retryAfter },
    );
  }
  const taken: [Throttle, Attempt][] = keys.map(([throttle, key]) => [throttle, throttle.take(key, now)]);

  const ok = user
    ? await verifyPassword(user.password_hash, password)
    : await verifyPassword(await dummyHash(services.config.argon2MemoryKiB), password).then(() => false);
  if (!user || !ok || user.disabled_at) throw new AppError('unauthenticated', 'wrong username or password');
  for (const [throttle, attempt] of taken) throttle.refund(attempt);
  if (device) t.byDevice.reset(`d:${user.id}:${device}`);

  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + services.config.tokenTtlHours * 3600_000);
  await repo.insertSession(services.db, user.id, hashToken(token), expiresAt);
  return {
    token,
    expiresAt: expiresAt.toISOString(),
    user: { id: user.id, username: user.username, role: user.role },
    deviceToken: issueDeviceToken(user, device ?? randomBytes(16).toString('base64url')),
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
