import type { Request } from 'express';

/**
 * The caller's address as Express sees it (TRUST_PROXY applied); IPv4 clients of a dual-stack
 * socket arrive IPv4-mapped and are written plainly.
 */
export function clientAddress(request: Request): string {
  return (request.ip ?? request.socket.remoteAddress ?? 'N/A').replace(/^::ffff:(?=\d+\.)/, '');
}
