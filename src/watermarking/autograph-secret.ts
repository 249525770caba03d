import type { mongo } from 'mongoose';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SETTING_ID = 'autograph_secret';
export const SECRET_FILE_NAME = 'autograph-secret';

export class SecretMismatchError extends Error {}

/**
 * The generated autograph secret (used when AUTOGRAPH_SECRET is unset), kept in the database
 * (so every instance shares it) and in `dataDir` (mode 0600, so a lost or swapped database is
 * noticed). Generated once; never replaced silently: when the two copies disagree this throws.
 */
export async function persistedSecret(
  settings: mongo.Collection<{ _id: string; value: string }>,
  dataDir: string,
): Promise<Buffer> {
  const file = join(dataDir, SECRET_FILE_NAME);
  const fromFile = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  let stored = (await settings.findOne({ _id: SETTING_ID }))?.value;
  if (stored === undefined) {
    const value = fromFile ?? randomBytes(32).toString('base64');
    try {
      await settings.insertOne({ _id: SETTING_ID, value });
      stored = value;
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      stored = (await settings.findOne({ _id: SETTING_ID }))?.value; // another instance won
      if (stored === undefined) throw error;
    }
  }
  if (fromFile === undefined) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${stored}\n`, { mode: 0o600 });
  } else if (fromFile !== stored) {
    throw new SecretMismatchError(
      `The autograph secret in ${file} differs from the one in the database: copies handed out ` +
        'under one of them could no longer be traced, so the server refuses to start. Use the ' +
        'DATA_DIR and database that belong together, or set AUTOGRAPH_SECRET to the secret to keep.',
    );
  }
  return Buffer.from(stored, 'base64');
}
