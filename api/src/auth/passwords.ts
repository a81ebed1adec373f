import argon2 from 'argon2';

/**
 * argon2id, t=3, p=4, memory from PLATINA_ARGON2_MEMORY_KIB (default 64 MiB, above OWASP's minimum).
 * The parameters live in the hash, so changing the cost keeps old passwords valid.
 */
export function hashPassword(password: string, memoryKiB: number): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id, memoryCost: memoryKiB, timeCost: 3, parallelism: 4 });
}

export function verifyPassword(hash: string, password: string): Promise<boolean> {
  return argon2.verify(hash, password).catch(() => false);
}

// Verified against when the username does not exist, so both paths cost the same time.
let dummy: Promise<string> | null = null;
export function dummyHash(memoryKiB: number): Promise<string> {
  dummy ??= hashPassword('platina-timing-equaliser', memoryKiB);
  return dummy;
}
