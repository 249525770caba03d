/**
 * The load generator of bench:delivery, a child process (forked) so that it shares no event loop
 * with the API it measures (autocannon takes a worker thread for one of its own): autocannon
 * with `connections` viewers, each playing the copy of one random viewer segment after segment
 * (`viewers[v][s]` = the path of segment s for v).
 */
import autocannon from 'autocannon';

export interface LoadRequest {
  base: string;
  viewers: string[][];
  connections: number;
  seconds: number;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load({ base, viewers, connections, seconds }: LoadRequest): Promise<LoadResult> {
  const result = await autocannon({
    url: base,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context: { viewer?: string[]; next?: number }) => {
          context.viewer ??= viewers[Math.floor(Math.random() * viewers.length)];
          const next = context.next ?? 0;
          context.next = (next + 1) % context.viewer.length;
          return { ...request, path: context.viewer[next] };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

process.once('message', (request: LoadRequest) => {
  void load(request).then((result) => {
    process.send?.(result);
    process.disconnect();
  });
});
