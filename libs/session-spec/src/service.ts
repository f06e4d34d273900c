/**
 * The desktop's Service, the target of its route: headless (no cluster IP). Traefik routes to
 * the Service's endpoints (the pod's address) either way, so a virtual IP would only cost an
 * allocation per desktop — the slowest write of a burst — and kube-proxy rules nobody uses.
 */
import type { V1Service } from '@kubernetes/client-node';
import type { VDISession } from '@vdi/crd-types';
import { childMeta, podSelector } from './labels.js';
import { childNames } from './names.js';
import { DESKTOP_PORT, type PlatformOptions } from './options.js';

export function desktopService(session: VDISession, o: PlatformOptions): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(session, childNames(session.metadata.name!).service, o.namespace, 'desktop'),
    spec: {
      type: 'ClusterIP',
      clusterIP: 'None',
      selector: podSelector(session),
      ports: [{ name: 'http', port: DESKTOP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
