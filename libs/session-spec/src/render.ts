/**
 * renderSession: the whole desired state of one desktop session, as pure data.
 *
 * Objects are plain Kubernetes JSON (send them as JSON, not through client-node's model
 * serializer, which renames fields such as NetworkPolicy's `from`).
 *
 * Inputs that are not pure (keys, cluster facts) come in as arguments: the encoder plan
 * (chooseEncoder with the cluster's free GPU slices), the session password and the TURN REST key
 * (both derived from the platform's session key by the operator).
 *
 * Fixed at creation: the pod (pods are immutable in the fields that matter: image, env,
 * resources, affinity), the home claim's size and class, the encoder. May be updated later:
 * labels and annotations of every child, the route and
 * its middlewares (URL mode, TLS, entry points), the NetworkPolicy. The operator decides which
 * of these it re-applies; the renderer always computes every object whole, as server-side apply
 * needs.
 */
import type {
  KubernetesObject,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import { SESSION_NAME_MAX, templateSpecErrors, type VDISession, type VDITemplate } from '@vdi/crd-types';
import type { EncoderPlan } from './encoder.js';
import { SessionSpecError } from './errors.js';
import { homeClaim } from './home-pvc.js';
import { sessionIngressRoute, sessionMiddlewares, type TraefikObject } from './ingress-route.js';
import { sessionNetworkPolicy, type NetworkPolicyJson } from './network-policy.js';
import { assertPlatformOptions, type PlatformOptions } from './options.js';
import { desktopPod } from './pod.js';
import { resolveSession, type EffectiveSession } from './resolve.js';
import { authSecret } from './secrets.js';
import { desktopService } from './service.js';
import { sessionUrl } from './url.js';

export interface RenderInputs {
  encoderPlan: EncoderPlan;
  sessionPassword: string;
  /** The key a WebRTC desktop fetches its TURN credentials with (turnRestKey); unused otherwise. */
  turnRestKey: string;
  /**
   * The per-user home claim to mount (persistence `user`), as userHomeClaimName picked it from
   * the namespace's claims: a home the admin migration handed to the owner keeps its old name.
   * Default: defaultUserHomeClaim of the spec.
   */
  userHomeClaim?: string;
}

export interface RenderedSession {
  url: string;
  effective: EffectiveSession;
  encoderPlan: EncoderPlan;
  pod: V1Pod;
  service: V1Service;
  /** The home claim, and whether the session owns it (persistence `session`) or the user does. */
  home?: { claim: V1PersistentVolumeClaim; ownedBySession: boolean };
  middlewares: TraefikObject[];
  ingressRoute: TraefikObject;
  authSecret: V1Secret;
  networkPolicy: NetworkPolicyJson;
}

export function renderSession(
  session: VDISession,
  template: VDITemplate,
  options: PlatformOptions,
  inputs: RenderInputs,
): RenderedSession {
  const name = session.metadata.name;
  if (!name || name.length > SESSION_NAME_MAX || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw new SessionSpecError(
      'metadata.name',
      `'${name}' is not a DNS-1035 label of at most ${SESSION_NAME_MAX} characters`,
    );
  }
  const templateErrors = templateSpecErrors(template.spec);
  if (templateErrors.length > 0) {
    throw new SessionSpecError(
      `template ${template.metadata.name}`,
      `is not usable: ${templateErrors.join('; ')}`,
      'TemplateInvalid',
    );
  }
  assertPlatformOptions(options);
  if (
    inputs.encoderPlan.device === 'nvenc' &&
    (session.spec.resources?.gpu ?? template.spec.resources.defaultGPU) === 0
  ) {
    throw new SessionSpecError('spec.resources.gpu', 'an NVENC encoder plan needs a GPU session');
  }
  const effective: EffectiveSession = {
    ...resolveSession(session.spec, template.spec),
    ...(inputs.userHomeClaim ? { userHomeClaim: inputs.userHomeClaim } : {}),
  };
  const claim = homeClaim(session, effective, options);
  return {
    url: sessionUrl(name, options),
    effective,
    encoderPlan: inputs.encoderPlan,
    pod: desktopPod(session, effective, inputs.encoderPlan, options),
    service: desktopService(session, options),
    ...(claim ? { home: { claim, ownedBySession: effective.persistence === 'session' } } : {}),
    middlewares: sessionMiddlewares(session, options),
    ingressRoute: sessionIngressRoute(session, options),
    authSecret: authSecret(
      session,
      options,
      inputs.sessionPassword,
      effective.streamMode === 'webrtc' ? inputs.turnRestKey : undefined,
    ),
    networkPolicy: sessionNetworkPolicy(session, options, effective.egress, effective.streamMode),
  };
}

/**
 * Every object of a rendered session in apply order: what the pod mounts and what isolates it
 * come before the pod, so a desktop never starts without its credentials or its policy.
 */
export function renderedObjects(r: RenderedSession): KubernetesObject[] {
  return [
    // What the desktop needs to start: its credentials, its home, and the policy that isolates it
    // (a desktop never runs without it).
    r.authSecret,
    ...(r.home ? [r.home.claim] : []),
    r.networkPolicy,
    // The desktop itself, as early as that allows: it takes seconds to start, the rest does not.
    r.pod,
    // What reaches it, needed only once it is ready.
    r.service,
    ...r.middlewares,
    r.ingressRoute,
  ];
}
