import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Principal } from './principal.js';

/** The GraphQL context of a request; the auth hook guarantees a principal. */
export interface GqlContext {
  principal: Principal;
}

/** Resolver parameter: the verified caller. */
export const CurrentUser = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = GqlExecutionContext.create(ctx).getContext<GqlContext>().principal;
  // Unreachable behind the auth hook; a guard against wiring mistakes, not an expected path.
  if (!principal) throw new Error('no principal in the GraphQL context');
  return principal;
});
