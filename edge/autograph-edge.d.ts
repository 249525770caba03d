// Types of the njs edge script's export, for the spec that runs it under Node.
declare const edge: {
  serve(request: unknown): void;
  decodeCbor(bytes: Buffer): unknown;
  verifyToken(token: string, keys: Record<string, string>): Record<string, unknown> | null;
  selectsB(pattern: Uint8Array, position: number): boolean;
};
export default edge;
