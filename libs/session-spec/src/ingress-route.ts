/**
 * The Traefik route to a desktop (`traefik.io/v1alpha1`, Traefik v3 as shipped by K3s) and its
 * middlewares, all in the session's namespace (cross-namespace middlewares need an opt-in in
 * Traefik). In forwardAuth mode Traefik asks the API for every request; the session is named
 * in the address, so the API never has to parse hosts or paths to know which desktop is meant.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { childMeta } from './labels.js';
import { childNames } from './names.js';
import { DESKTOP_PORT, type PlatformOptions } from './options.js';
import { sessionHost } from './url.js';

export const TRAEFIK_API_VERSION = 'traefik.io/v1alpha1';

export interface TraefikObject extends KubernetesObject {
  spec: Record<string, unknown>;
}

/** The header in which the API's auth answer names the user; forwarded to the desktop. */
export const AUTH_USER_HEADER = 'X-Forwarded-User';

export function sessionMiddlewares(session: VDISession, o: PlatformOptions): TraefikObject[] {
  const name = session.metadata.name!;
  const names = childNames(name);
  const out: TraefikObject[] = [];
  if (o.accessMode === 'forwardAuth') {
    const address = new URL(o.forwardAuthUrl);
    address.searchParams.set('session', `${o.namespace}/${name}`);
    out.push({
      apiVersion: TRAEFIK_API_VERSION,
      kind: 'Middleware',
      metadata: childMeta(session, names.forwardAuthMiddleware, o.namespace, 'route'),
      spec: {
        forwardAuth: {
          address: address.toString(),
          // Traefik sets X-Forwarded-* itself; a client's own X-Forwarded-* must not be believed.
          trustForwardHeader: false,
          // Authorization: the desktop's own basic-auth password for an admitted request, in place
          // of whatever the client sent (Traefik removes the client's header when copying these).
          authResponseHeaders: [AUTH_USER_HEADER, 'Authorization'],
          // The API answers with a redirect or a one-line refusal; a bigger body is not its answer
          // (and Traefik 3.6 warns about every forwardAuth without a limit).
          maxResponseBodySize: 65536,
        },
      },
    });
  }
  return out;
}

export function sessionIngressRoute(session: VDISession, o: PlatformOptions): TraefikObject {
  const name = session.metadata.name!;
  const names = childNames(name);
  const match = `Host(\`${sessionHost(name, o)}\`)`;
  const middlewares = sessionMiddlewares(session, o).map((m) => ({ name: m.metadata!.name! }));
  return {
    apiVersion: TRAEFIK_API_VERSION,
    kind: 'IngressRoute',
    metadata: childMeta(session, names.ingressRoute, o.namespace, 'route'),
    spec: {
      entryPoints: [...o.entryPoints],
      routes: [
        {
          kind: 'Rule',
          match,
          ...(middlewares.length > 0 ? { middlewares } : {}),
          services: [{ name: names.service, port: DESKTOP_PORT }],
        },
      ],
      ...(o.tls ? { tls: { ...o.tls } } : {}),
    },
  };
}
