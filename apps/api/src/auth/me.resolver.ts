import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { CurrentUser } from './current-user.js';
import type { Principal } from './principal.js';

@ObjectType('User', { description: 'The caller, as the access token says.' })
export class UserModel {
  @Field(() => String, {
    description:
      'How the platform shows you (spec.user of your sessions): your verified e-mail, else your subject. Shown only: issuer + subject own your sessions.',
  })
  user!: string;
  @Field(() => String, {
    description: "The token's issuer (iss): with subject, the identity that owns sessions.",
  })
  issuer!: string;
  @Field(() => String, {
    description: "The token's subject (sub): with issuer, the identity that owns sessions.",
  })
  subject!: string;
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
      issuer: p.owner.issuer,
      subject: p.owner.subject,
      username: p.username,
      ...(p.email ? { email: p.email } : {}),
      ...(p.name ? { name: p.name } : {}),
      roles: p.roles,
      isAdmin: p.isAdmin,
    };
  }
}
