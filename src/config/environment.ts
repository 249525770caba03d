import { plainToInstance, Transform } from 'class-transformer';
import {
  Equals,
  IsBoolean,
  IsEmail,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MinLength,
  Min,
  ValidateIf,
  validateSync,
} from 'class-validator';
import { parseTrustProxy } from './trust-proxy.js';
import { MIN_PASSWORD_LENGTH } from './password-policy.js';

/** 'true' / 'false' as a boolean; anything else unchanged, for the validator to reject. */
export function toBoolean(value: unknown): unknown {
  return value === 'true' ? true : value === 'false' ? false : value;
}

/** A string of decimal digits as a number; anything else unchanged, for the validator to reject. */
export function toInteger(value: unknown): unknown {
  return typeof value === 'string' && /^-?\d{1,15}$/.test(value) ? Number(value) : value;
}

/** A decimal or scientific number (1e-6, 0.0001) as a number; anything else unchanged. */
export function toDecimal(value: unknown): unknown {
  return typeof value === 'string' && /^\d*\.?\d+(e-?\d{1,3})?$/i.test(value)
    ? Number(value)
    : value;
}

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
  @MinLength(MIN_PASSWORD_LENGTH, {
    message: `ADMIN_PASSWORD must be at least ${MIN_PASSWORD_LENGTH} characters`,
  })
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

  /**
   * How long an idle keep-alive connection is kept open. Above the idle timeout of the proxies
   * and load balancers in front (commonly 60 s), so they never reuse a connection the server
   * is closing; Node's own 5 s default also cut clients that were still reading a download.
   */
  @IsInt()
  @Min(1000)
  KEEP_ALIVE_TIMEOUT_MS = 65_000;

  /**
   * How long a client may take to send a request's headers; must exceed KEEP_ALIVE_TIMEOUT_MS
   * (unset: a second more).
   */
  @IsInt()
  @Min(1000)
  HEADERS_TIMEOUT_MS = 66_000;

  /**
   * The reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed: `false`, a
   * hop count, or their addresses (see parseTrustProxy).
   */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? (parseTrustProxy(value) ?? value) : value,
  )
  @ValidateIf((_, value) => value !== false && typeof value !== 'number' && !Array.isArray(value))
  @Equals(null, {
    message:
      'TRUST_PROXY must be false, the number of proxies in front (e.g. 1) or their addresses (e.g. 10.0.0.1,10.0.0.2 or loopback); true would believe any X-Forwarded-For',
  })
  TRUST_PROXY: false | number | string[] = false;

  /**
   * Secret behind every watermark key and codeword. Unset = generated on first start and
   * kept in the database (so every instance shares it) and in DATA_DIR.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'AUTOGRAPH_SECRET must be at least 32 characters' })
  AUTOGRAPH_SECRET?: string;

  /**
   * Bound on the probability that a backtrace accuses any innocent autograph of its job,
   * whatever their number (each is held to this divided by the job's autographs).
   */
  @Transform(({ value }: { value: unknown }) => toDecimal(value))
  @IsNumber({}, { message: 'FALSE_ACCUSATION_PROBABILITY must be a number such as 1e-6' })
  @Min(Number.MIN_VALUE, { message: 'FALSE_ACCUSATION_PROBABILITY must be above 0' })
  @Max(1e-3, { message: 'FALSE_ACCUSATION_PROBABILITY must be at most 1e-3' })
  FALSE_ACCUSATION_PROBABILITY = 1e-6;

  /** Whether this process runs the job (and extraction) workers; false = API only. */
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

  /** Base URL of the CDN edge (see `npm run edge:config`) named in `playback.edge`. */
  @IsUrl({ require_tld: false, require_protocol: true })
  EDGE_URL = 'http://localhost:8080';

  /** Lifetime of an edge token (CWT): a player needs a new one after it. */
  @IsInt()
  @Min(60)
  EDGE_TOKEN_TTL_SECONDS = 6 * 3600;
}

/** Validates process.env into a typed Environment, or throws naming every bad variable. */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  // Every field is an own property of an instance (optional ones too, as undefined), and a
  // field's default says how to read its text: numeric settings are integers.
  const defaults: Record<string, unknown> = { ...new Environment() };
  const input: Record<string, unknown> = {};
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = raw[key];
    if (value === undefined || value === '') continue;
    input[key] =
      typeof fallback === 'number'
        ? toInteger(value)
        : typeof fallback === 'boolean'
          ? toBoolean(value)
          : value;
  }
  const environment = plainToInstance(Environment, input);
  const errors = validateSync(environment, { skipMissingProperties: false });
  const details = errors.map(
    (e) => `${e.property}: ${Object.values(e.constraints ?? {}).join('; ')}`,
  );
  // Unset, the header timeout follows the keep-alive timeout it must exceed.
  if (input.HEADERS_TIMEOUT_MS === undefined) {
    environment.HEADERS_TIMEOUT_MS = environment.KEEP_ALIVE_TIMEOUT_MS + 1000;
  }
  if (errors.length === 0 && environment.HEADERS_TIMEOUT_MS <= environment.KEEP_ALIVE_TIMEOUT_MS) {
    details.push('HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS');
  }
  if (details.length > 0) {
    throw new Error(`Invalid configuration:\n  ${details.join('\n  ')}`);
  }
  return environment;
}
