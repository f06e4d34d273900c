import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from './current-user.js';
import type { Principal } from './principal.js';

@ObjectType('User', { description: 'The caller, as the access token says.' })
export class UserModel {
  @Field(() => String, { description: 'The identity that owns sessions (spec.user).' })
  user!: string;
  @Field(() => String)
  username!: string;
  @Field(() => String, { nullable: true })
  email?: string;
  @Field(() => String, { nullable: true })
  name?: string;
  @Field(() => [String], { description: 'Realm roles, e.g. vdi-user, vdi-admin.' })
  roles!: string[];
  @Field(() => Boolean)
  isAdmin!: boolean;
}

@Resolver(() => UserModel)
export class MeResolver {
  @Query(() => UserModel, { description: 'Who the token belongs to.' })
  me(@CurrentUser() p: Principal): UserModel {
    return {
      user: p.user,
      username: p.username,
      ...(p.email ? { email: p.email } : {}),
      ...(p.name ? { name: p.name } : {}),
      roles: p.roles,
      isAdmin: p.isAdmin,
    };
  }
}
