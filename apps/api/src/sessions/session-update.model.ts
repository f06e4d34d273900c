import { Field, ObjectType, registerEnumType } from '@nestjs/graphql';
import { SessionModel } from './session.model.js';

export enum SessionChangeType {
  ADDED = 'ADDED',
  MODIFIED = 'MODIFIED',
  DELETED = 'DELETED',
  CURRENT = 'CURRENT',
}

registerEnumType(SessionChangeType, {
  name: 'SessionChangeType',
  description:
    'ADDED, MODIFIED (spec, status or deletion started), DELETED (gone; the last known state); ' +
    'CURRENT: not a change but the session as it was when the subscription started (sessionUpdated(current: true)).',
});

@ObjectType('SessionUpdate', { description: 'A change of a session, as the watch saw it.' })
export class SessionUpdateModel {
  @Field(() => SessionChangeType) type!: SessionChangeType;
  @Field(() => SessionModel) session!: SessionModel;
}
