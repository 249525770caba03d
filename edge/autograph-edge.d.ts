// Types of the njs edge script's exports, for the specs that run it under Node.
export function decodeCbor(bytes: Buffer): unknown;
export function verifyToken(
  token: string,
  keys: Record<string, string>,
): Record<string, unknown> | null;
export function selectsB(pattern: Uint8Array, position: number): boolean;
declare const handlers: { serve(request: unknown): void };
export default handlers;
