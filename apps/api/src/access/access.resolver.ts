import { Args, Field, Mutation, ObjectType, Resolver } from '@nestjs/graphql';
import { CurrentUser } from '../auth/current-user.js';
import type { Principal } from '../auth/principal.js';
import { AccessService } from './access.service.js';

@ObjectType('SessionAccess', { description: 'A one-time link to a desktop.' })
export class SessionAccessModel {
  @Field(() => String, {
    description: 'The desktop URL with a one-time ticket; open it in the browser before expiresAt.',
  })
  url!: string;
  @Field(() => String, { description: 'When the ticket stops working (ISO 8601).' })
  expiresAt!: string;
}

@Resolver()
export class AccessResolver {
  constructor(private readonly access: AccessService) {}

  @Mutation(() => SessionAccessModel, {
    description:
      'A short-lived, one-time link to one of your Running sessions (any session for admins). ' +
      'Redeeming it sets a cookie for that desktop only.',
  })
  openSession(
    @CurrentUser() p: Principal,
    @Args('name', { type: () => String }) name: string,
  ): Promise<SessionAccessModel> {
    return this.access.open(p, name);
  }
}
