import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { type Types } from 'mongoose';

export type Role = 'admin' | 'user';

/** Who is calling: the token's user and the application (OAuth client) it was issued to. */
export interface Principal {
  userId: Types.ObjectId;
  role: Role;
  applicationId: Types.ObjectId | null;
}

/** The caller of an authenticated route (set by the bearer guard). */
export const CurrentPrincipal = createParamDecorator(
  (_: unknown, context: ExecutionContext): Principal =>
    context.switchToHttp().getRequest<Request & { user: Principal }>().user,
);

/** The filter that limits a query to what the caller may see: an admin sees everything. */
export function ownedBy(principal: Principal): { user?: Types.ObjectId } {
  return principal.role === 'admin' ? {} : { user: principal.userId };
}

/** Acting for the owner of a piece of queued work (workers have no request). */
export function ownerOf(work: {
  user: Types.ObjectId;
  application: Types.ObjectId | null;
}): Principal {
  return { userId: work.user, role: 'user', applicationId: work.application };
}
