import { copyFileSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EdgeConfigDto } from './dto/edge.dto.js';
import { positionsIn } from './wm-pace-info.js';

/**
 * The njs script every generated edge runs, kept in the repository's edge/ folder: found from
 * this module upwards (it runs from src/, dist/ or dist-bench/src/).
 */
function edgeScript(): string {
  for (
    let dir = dirname(fileURLToPath(import.meta.url));
    dir !== dirname(dir);
    dir = dirname(dir)
  ) {
    const script = join(dir, 'edge', 'autograph-edge.js');
    if (existsSync(script)) return script;
  }
  throw new Error('edge/autograph-edge.js not found above this module');
}
const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

export interface EdgeFilesOptions {
  /** Folder to write into (created; regenerated files are replaced). */
  out: string;
  /** nginx `listen` value, e.g. `127.0.0.1:8080` or `8080`. */
  listen: string;
  /** nginx worker processes (`auto`: one per core). */
  workers?: string;
  /** The user nginx workers run as when started by root: by default whoever writes the edge. */
  user?: string;
}

/** One neutral object of a job: [position (-1 = same for all), URI of A, URI of B, height]. */
type EdgeObject = [number, string, string, number];

/** Where the edge serves a job's files from: a link to the job's output folder. */
const originUri = (jobId: string, path: string) => `/_origin/${jobId}/${path}`;
const playlistUri = (jobId: string, uri: string) => `/_playlists/${jobId}/${uri}`;

/**
 * Writes a complete nginx edge for a job set: nginx.conf, the njs script, the preloaded
 * lookup table (edge-config.json: token keys, and per job each neutral URI's WMPaceInfo
 * position and variant files, read from the sidecars), the neutral playlists, the WMPaceInfo
 * sidecar files, links to the jobs' output folders, and an empty revocation list unless one
 * is there. Run nginx with `nginx -p OUT -c nginx.conf`.
 */
export function writeEdgeFiles(config: EdgeConfigDto, options: EdgeFilesOptions): void {
  const out = resolve(options.out);
  for (const folder of ['playlists', 'wm_pace_info', 'origin']) {
    rmSync(join(out, folder), { recursive: true, force: true });
  }
  for (const folder of ['logs', 'tmp', 'origin']) mkdirSync(join(out, folder), { recursive: true });
  const jobs: Record<string, { objects: Record<string, EdgeObject> }> = {};
  for (const job of config.jobs) {
    const objects: Record<string, EdgeObject> = {};
    symlinkSync(job.output_dir, join(out, 'origin', job.id));
    for (const [uri, text] of Object.entries(job.playlists)) {
      writeIn(out, join('playlists', job.id, uri), text);
      objects[uri] = [-1, playlistUri(job.id, uri), '', 0];
    }
    for (const rendition of job.renditions) {
      const sidecar = Buffer.from(rendition.wm_pace_info, 'base64');
      writeIn(out, join('wm_pace_info', job.id, `${rendition.name}.cbor`), sidecar);
      const names = rendition.segments.map((segment) => basename(segment.uri));
      const positions = positionsIn(sidecar, names);
      rendition.segments.forEach((segment, i) => {
        const a = originUri(job.id, segment.a);
        objects[segment.uri] = [positions[i], a, originUri(job.id, segment.b), rendition.height];
      });
    }
    for (const file of job.unmarked) {
      objects[file.uri] = [-1, originUri(job.id, file.path), '', 0];
    }
    jobs[job.id] = { objects };
  }
  writeIn(out, 'edge-config.json', JSON.stringify({ keys: config.keys, jobs }));
  if (!existsSync(join(out, 'revoked.json'))) {
    writeIn(out, 'revoked.json', JSON.stringify({ autographs: {} }));
  }
  copyFileSync(edgeScript(), join(out, 'autograph-edge.js'));
  writeIn(out, 'nginx.conf', nginxConf(out, options));
}

function writeIn(out: string, path: string, content: string | Buffer): void {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), content, { mode: 0o600 });
}

/**
 * The JSON access log line: the fields the access stats need (`npm run edge:ship` sends them)
 * and the token id. `$request_completion` is OK only when the whole answer was sent.
 */
const LOG_FORMAT = [
  '"time":$msec',
  '"ip":"$remote_addr"',
  '"user_agent":"$http_user_agent"',
  '"accept_language":"$http_accept_language"',
  '"method":"$request_method"',
  '"status":$status',
  '"bytes":$body_bytes_sent',
  '"complete":"$request_completion"',
  '"token_id":"$wm_token_id"',
  '"autograph":"$wm_autograph"',
  '"job":"$wm_job"',
  '"object":"$wm_object"',
  '"position":"$wm_position"',
  '"height":"$wm_height"',
].join(',');

/** Segment and playlist types by the extensions jobs write (MPEG-TS or CMAF). */
const MIME_TYPES = {
  'application/vnd.apple.mpegurl': 'm3u8',
  'video/mp2t': 'ts',
  'video/mp4': 'mp4 m4s m4v',
  'audio/mp4': 'm4a',
  'audio/aac': 'aac',
};

function nginxConf(
  out: string,
  { listen, workers = 'auto', user = userInfo().username }: EdgeFilesOptions,
): string {
  const types = Object.entries(MIME_TYPES).map(([type, ext]) => `    ${type} ${ext};`);
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `  ${kind}_temp_path ${out}/tmp/${kind};`,
  );
  return `# Autograph edge (ETSI TS 104 002 A/B delivery), written by npm run edge:config.
# Run: nginx -p ${out} -e logs/error.log -c nginx.conf   (reload after edge:ship refreshed revoked.json: nginx -s reload)
load_module ${NJS_MODULE};
user ${user};
worker_processes ${workers};
pid ${out}/nginx.pid;
error_log ${out}/logs/error.log warn;
events { worker_connections 4096; }
http {
  types {
${types.join('\n')}
  }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 100000;
  server_tokens off;
${temp.join('\n')}
  js_path ${out};
  js_import edge from autograph-edge.js;
  js_preload_object edge_config from ${out}/edge-config.json;
  js_preload_object revoked from ${out}/revoked.json;
  log_format autograph_edge escape=json '{${LOG_FORMAT}}';
  server {
    listen ${listen};
    access_log ${out}/logs/access.log autograph_edge;
    # /JOB/[~TOKEN/]OBJECT: the token as a path segment keeps relative playlist URIs working
    # for players that cannot send headers; otherwise header CTA-Common-Access-Token or cookie wmt.
    location ~ "^/(?<wm_job>[0-9a-f]{24})/(?:~(?<wm_path_token>[A-Za-z0-9_-]{1,4096})/)?(?<wm_object>[^~].*)$" {
      set $wm_autograph "";
      set $wm_token_id "";
      set $wm_position "";
      set $wm_height "";
      js_content edge.serve;
    }
    location /_origin/ {
      internal;
      alias ${out}/origin/;
      add_header Cache-Control "private, no-store" always;
      add_header Access-Control-Allow-Origin "*" always;
    }
    location /_playlists/ {
      internal;
      alias ${out}/playlists/;
      add_header Cache-Control "no-cache" always;
      add_header Access-Control-Allow-Origin "*" always;
    }
    location / { return 404; }
  }
}
`;
}
