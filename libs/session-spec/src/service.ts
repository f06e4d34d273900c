/** The desktop's ClusterIP Service, the target of its route. */
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
      selector: podSelector(session),
      ports: [{ name: 'http', port: DESKTOP_PORT, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}
