import { EdgeApiClient } from '../edge-agent.js';

/** The API client of the edge tools: API URL from --api, credentials from the environment. */
export function edgeClient(api: string | undefined): EdgeApiClient {
  const { EDGE_CLIENT_ID, EDGE_CLIENT_SECRET } = process.env;
  if (!api || !EDGE_CLIENT_ID || !EDGE_CLIENT_SECRET) {
    throw new Error(
      'Give --api URL and set EDGE_CLIENT_ID and EDGE_CLIENT_SECRET (an application of the jobs’ owner, see README).',
    );
  }
  return new EdgeApiClient(api, EDGE_CLIENT_ID, EDGE_CLIENT_SECRET);
}

/** Runs a tool's main function: its error as one line and exit code 1. */
export function runTool(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error((error as Error).message);
    process.exit(1);
  });
}
