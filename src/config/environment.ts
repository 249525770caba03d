import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MinLength,
  Min,
  validateSync,
} from 'class-validator';

const toBoolean = ({ value }: { value: unknown }): unknown =>
  value === 'true' ? true : value === 'false' ? false : value;

/**
 * Every environment variable the service reads, with its default. Validated once at
 * start-up: a bad value stops the process with a message naming the variable.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV = 'development';

  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  /** A MongoDB connection string; unset = the embedded FerretDB, its data in DATA_DIR. */
  @IsOptional()
  @Matches(/^mongodb(\+srv)?:\/\//, {
    message: 'MONGODB_URI must start with mongodb:// or mongodb+srv://',
  })
  MONGODB_URI?: string;

  /** The embedded database's files and the generated autograph secret. */
  @IsString()
  DATA_DIR = './data/db';

  /** Absolute base URL used in hrefs; unset = derived from each request. */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true })
  PUBLIC_URL?: string;

  /** Comma-separated directories that file:// storage URIs must lie inside. */
  @IsString()
  FILE_ROOTS = './data/storage';

  @IsOptional()
  @IsEmail()
  ADMIN_EMAIL?: string;

  @IsOptional()
  @IsString()
  @MinLength(8)
  ADMIN_PASSWORD?: string;

  @IsInt()
  @Min(60)
  ACCESS_TOKEN_TTL_SECONDS = 3600;

  @IsInt()
  @Min(60)
  REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

  /** Largest accepted request body, in bytes. */
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 1024 * 1024;

  /** Whether X-Forwarded-For / X-Forwarded-Proto are believed (behind a reverse proxy). */
  @Transform(toBoolean)
  @IsBoolean()
  TRUST_PROXY = false;

  /**
   * Secret behind every watermark key and codeword. Unset = generated on first start and
   * kept in the database (so every instance shares it) and in DATA_DIR.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTOGRAPH_SECRET must be at least 32 characters' })
  AUTOGRAPH_SECRET?: string;

  /** Whether this process runs the job (and extraction) workers; false = API only. */
  @Transform(toBoolean)
  @IsBoolean()
  WORKERS_ENABLED = true;

  @IsInt()
  @Min(1)
  @Max(64)
  JOB_CONCURRENCY = 1;

  @IsInt()
  @Min(1)
  @Max(64)
  EXTRACTION_CONCURRENCY = 1;

  @IsInt()
  @Min(50)
  WORKER_POLL_INTERVAL_MS = 1000;

  /** A claim not renewed for this long is taken over by another worker. */
  @IsInt()
  @Min(5)
  WORKER_LEASE_SECONDS = 60;
}

const OPTIONAL_KEYS = [
  'MONGODB_URI',
  'PUBLIC_URL',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'AUTOGRAPH_SECRET',
];

const INTEGER_KEYS = new Set([
  'PORT',
  'ACCESS_TOKEN_TTL_SECONDS',
  'REFRESH_TOKEN_TTL_SECONDS',
  'BODY_LIMIT_BYTES',
  'JOB_CONCURRENCY',
  'EXTRACTION_CONCURRENCY',
  'WORKER_POLL_INTERVAL_MS',
  'WORKER_LEASE_SECONDS',
]);

/** Validates process.env into a typed Environment, or throws naming every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const known = [...Object.keys(new Environment()), ...OPTIONAL_KEYS];
  const input: Record<string, unknown> = {};
  for (const key of known) {
    const value = raw[key];
    if (value === undefined || value === '') continue;
    input[key] =
      INTEGER_KEYS.has(key) && typeof value === 'string' && /^-?\d+$/.test(value)
        ? Number(value)
        : value;
  }
  const environment = plainToInstance(Environment, input);
  const errors = validateSync(environment, { skipMissingProperties: false });
  if (errors.length > 0) {
    const details = errors
      .map((e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`)
      .join('\n  ');
    throw new Error(`Invalid configuration:\n  ${details}`);
  }
  return environment;
}
