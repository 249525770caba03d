import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
const NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';

/** A real nginx running a configuration written by writeEdgeFiles. */
export interface EdgeProcess {
  process: ChildProcess;
  base: string;
  stop(): Promise<void>;
}

/** Starts nginx on the generated edge in `out` and waits until `port` answers. */
export async function startEdge(out: string, port: number): Promise<EdgeProcess> {
  if (!existsSync(NGINX) || !existsSync(NJS_MODULE)) {
    throw new Error(
      `nginx with its JavaScript module not found (${NGINX}, ${NJS_MODULE}): install Debian's ` +
        'nginx and libnginx-mod-http-js packages (as .ci/run does) or set NGINX_PATH',
    );
  }
  const child = spawn(
    NGINX,
    [
      '-p',
      out,
      '-e',
      join(out, 'logs', 'error.log'),
      '-c',
      join(out, 'nginx.conf'),
      '-g',
      'daemon off;',
    ],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`nginx exited with code ${child.exitCode}`);
    try {
      await fetch(`${base}/`);
      break;
    } catch (error) {
      if (attempt > 100) throw error;
      await sleep(100);
    }
  }
  return {
    process: child,
    base,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGQUIT'); // graceful stop
      await once(child, 'exit');
    },
  };
}
