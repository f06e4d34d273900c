/**
 * `VDIShare` (`vdi.kasm.io/v1alpha1`, namespaced, in the sessions' namespace): the owner of a
 * session lets one named colleague (a user) or a group of the identity provider into her desktop,
 * either to watch (`view`) or to drive it (`control`), until `expiresAt`. The API writes shares
 * (GraphQL shareSession/updateShare/revokeShare) with an owner reference to the session, so a
 * share dies with its session; forward-auth admits a grantee only while a live share names them.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { V1ObjectMeta } from '@kubernetes/client-node';
import { StringEnum, type K8sSchemaOptions } from './schema.js';
import { API_VERSION } from './v1alpha1.js';

export const KIND_SHARE = 'VDIShare';
export const PLURAL_SHARE = 'vdishares';

/** `view`: the desktop's picture only (Selkies' viewer role); `control`: keyboard and mouse too. */
export const SHARE_ROLES = ['view', 'control'] as const;
export type ShareRole = (typeof SHARE_ROLES)[number];

/** Labels the API puts on a share, so a session's shares and a grantee's are found by selector. */
export const LABEL_SHARE_SESSION = 'vdi.kasm.io/session';
export const LABEL_SHARE_GRANTEE_USER = 'vdi.kasm.io/grantee-user';
export const LABEL_SHARE_GRANTEE_GROUP = 'vdi.kasm.io/grantee-group';

export const ShareGranteeSchema = Type.Object(
  {
    user: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description: 'the identity provider username (Keycloak) of the colleague the session is shared with',
      }),
    ),
    subject: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        description:
          "the user's subject (sub), resolved by the API from the identity provider when the share is made: a later account of the same username is not the grantee",
      }),
    ),
    group: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 256,
        pattern: '^[^\\s]+$',
        description: "a group of the identity provider, as the token's groups claim names it (e.g. /team-a)",
      }),
    ),
  },
  {
    description: 'whom the session is shared with: exactly one of user or group',
    'x-kubernetes-validations': [
      {
        rule: 'has(self.user) != has(self.group)',
        message: 'name exactly one of grantee.user or grantee.group',
      },
      { rule: '!has(self.subject) || has(self.user)', message: 'grantee.subject goes with grantee.user' },
      { rule: 'self == oldSelf', message: 'the grantee cannot change; revoke this share and make another' },
    ],
  } as K8sSchemaOptions,
);
export type ShareGrantee = Static<typeof ShareGranteeSchema>;

export const VDIShareSpecSchema = Type.Object({
  session: Type.String({
    minLength: 1,
    maxLength: 63,
    pattern: '^[a-z]([-a-z0-9]*[a-z0-9])?$',
    description: 'the name of the shared VDISession (same namespace)',
    'x-kubernetes-validations': [
      { rule: 'self == oldSelf', message: 'a share cannot move to another session' },
    ],
  } as K8sSchemaOptions),
  grantee: ShareGranteeSchema,
  role: StringEnum(SHARE_ROLES, {
    description:
      "view: the picture only (Selkies' viewer role, input dropped by the server); control: input too",
  }),
  expiresAt: Type.String({
    format: 'date-time',
    description:
      'when the share stops admitting the grantee (RFC 3339; the schema checks the format, the API that it is in the future and within its maximum — CEL has no clock)',
  }),
});
export type VDIShareSpec = Static<typeof VDIShareSpecSchema>;

export const VDIShareStatusSchema = Type.Object({
  /** When forward-auth first admitted the grantee under this share (ShareUsed is said once). */
  firstUsedAt: Type.Optional(Type.String({ format: 'date-time' })),
  /** Who used it first (the username; a group share names the member). */
  firstUsedBy: Type.Optional(Type.String({ maxLength: 256 })),
});
export type VDIShareStatus = Static<typeof VDIShareStatusSchema>;

export interface VDIShare {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND_SHARE;
  metadata: V1ObjectMeta;
  spec: VDIShareSpec;
  status?: VDIShareStatus;
}

/** The CRD generator's entry for VDIShare (crd.ts). */
export const SHARE_CRD = {
  kind: KIND_SHARE,
  plural: PLURAL_SHARE,
  singular: 'vdishare',
  shortNames: ['vdish'],
  scope: 'Namespaced' as const,
  spec: VDIShareSpecSchema,
  status: VDIShareStatusSchema,
  columns: [
    { name: 'Session', type: 'string', jsonPath: '.spec.session' },
    { name: 'User', type: 'string', jsonPath: '.spec.grantee.user' },
    { name: 'Group', type: 'string', jsonPath: '.spec.grantee.group' },
    { name: 'Role', type: 'string', jsonPath: '.spec.role' },
    { name: 'Expires', type: 'date', jsonPath: '.spec.expiresAt' },
    { name: 'Used', type: 'date', jsonPath: '.status.firstUsedAt', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
