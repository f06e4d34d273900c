/**
 * Fakes for unit tests of the engine, in the manner of Kubernetes' sample-controller: a client
 * that keeps objects in memory and records every call it is asked to make, and caches that are
 * plain maps the test fills (or syncs from the fake API server, as the informers would one watch
 * event later). Tests assert on the recorded calls (verb, kind, name), not on the engine's
 * internals. Not for production code.
 */
import type { V1Node, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  KIND_SESSION,
  KIND_TEMPLATE,
  KIND_USAGE,
  PLURAL_USAGE,
  type VDISession,
  type VDITemplate,
  type VDIUsage,
} from '@vdi/crd-types';
import { KubeApiError, childMetadata, type KubeJsonClient, type KubeObject } from '@vdi/kube-client';
import { apiBasePath, CHILD_KINDS, sessionOwnerHash, SliceLedger } from '@vdi/session-spec';
import { pino } from 'pino';
import type { OperatorConfig } from '../config.js';
import { CHILD_CACHE_KEYS, type Caches } from './caches.js';
import type { EventRecorder } from './events.js';
import type { OwnerIndex } from './owner-index.js';

/** One call the engine made: `get`, `list`, `create`, `apply`, `delete` or `patch` (of `subresource`). */
export interface RecordedCall {
  verb: 'get' | 'list' | 'create' | 'apply' | 'delete' | 'patch' | 'replace';
  kind: string;
  /** Empty for a list. */
  name: string;
  /** A list's label selector, as sent. */
  labelSelector?: string;
  namespace?: string;
  subresource?: string;
  /** The patch body, the applied object, or the delete's preconditions. */
  body?: unknown;
  contentType?: string;
  /** The HTTP status the fake answered with (2xx, or the error). */
  status: number;
}

type Stored = KubeObject & {
  metadata: {
    name: string;
    namespace?: string;
    uid: string;
    resourceVersion: string;
    finalizers?: string[];
    deletionTimestamp?: string;
    ownerReferences?: { uid: string }[];
  };
};

const PLURALS: Record<string, string> = {
  ...Object.fromEntries(CHILD_KINDS.map((k) => [k.kind, k.plural])),
  [KIND_SESSION]: 'vdisessions',
  [KIND_TEMPLATE]: 'vditemplates',
  [KIND_USAGE]: PLURAL_USAGE,
  Node: 'nodes',
  Event: 'events',
  Lease: 'leases',
};
const KINDS = Object.fromEntries(Object.entries(PLURALS).map(([k, p]) => [p, k]));
const CLUSTER_SCOPED = new Set([KIND_TEMPLATE, 'Node']);

/** A failure to answer instead of the fake's own, for the first call that matches. */
interface Injected {
  match: (c: Omit<RecordedCall, 'status'>) => boolean;
  error: KubeApiError;
}

export function apiError(status: number, message = `HTTP ${status}`): KubeApiError {
  return new KubeApiError(status, '', message, {});
}

/**
 * An in-memory API server behind the KubeJsonClient methods the engine uses (get, apply, delete,
 * mergePatch, path and call for PATCH, PUT, list GETs and Events). JSON patches honour their `test`
 * operations (a failed test answers 422, as the API server does), deletes their uid
 * precondition (409), and removing the last finalizer of a deleting object deletes it.
 */
export class FakeKubeClient {
  readonly calls: RecordedCall[] = [];
  private readonly store = new Map<string, Stored>();
  private readonly injected: Injected[] = [];
  private version = 100;
  private uids = 0;

  /** Calls other than reads (get, list): what the engine changed, in order. */
  writes(): RecordedCall[] {
    return this.calls.filter((c) => c.verb !== 'get' && c.verb !== 'list');
  }

  /** `verb Kind/name` (`patch VDISession/x/status`) of each call, for compact assertions. */
  summary(calls: RecordedCall[] = this.calls): string[] {
    return calls.map(
      (c) => `${c.verb} ${c.kind}${c.name ? `/${c.name}` : ''}${c.subresource ? `/${c.subresource}` : ''}`,
    );
  }

  clear(): void {
    this.calls.length = 0;
  }

  /** Answers the first call matching `match` with `error` instead. */
  failOnce(match: Injected['match'], error: KubeApiError): void {
    this.injected.push({ match, error });
  }

  /** Puts an object in the store as if someone else made it; returns the stored copy. */
  seed<T extends object>(obj: T): T & Stored {
    const o = structuredClone(obj) as unknown as Stored;
    o.metadata.uid ??= this.uid();
    o.metadata.resourceVersion = this.nextVersion();
    this.store.set(this.key(o), o);
    return structuredClone(o) as T & Stored;
  }

  /** The stored object (a copy), or undefined. */
  stored<T = Stored>(kind: string, name: string, namespace?: string): T | undefined {
    const o = this.store.get(this.key({ kind, metadata: { name, namespace } }));
    return o ? (structuredClone(o) as T) : undefined;
  }

  /** Every stored object of `kind` (copies). */
  all<T = Stored>(kind: string): T[] {
    return [...this.store.values()].filter((o) => o.kind === kind).map((o) => structuredClone(o) as T);
  }

  /** Removes an object at once, finalizers or not (a hard delete, or a test's hand). */
  remove(kind: string, name: string, namespace?: string): void {
    this.store.delete(this.key({ kind, metadata: { name, namespace } }));
  }

  /** As KubeJsonClient: where an object lives (no request; discovery is static here). */
  async path(obj: KubeObject, withName = true): Promise<string> {
    const plural = PLURALS[obj.kind!];
    if (!plural) throw new Error(`fake client: unknown kind ${obj.kind}`);
    const ns = CLUSTER_SCOPED.has(obj.kind!) ? '' : `/namespaces/${obj.metadata?.namespace ?? 'default'}`;
    return `${apiBasePath(obj.apiVersion!)}${ns}/${plural}${withName ? `/${obj.metadata?.name}` : ''}`;
  }

  async get<T = KubeObject>(obj: KubeObject): Promise<T | undefined> {
    this.answer({ verb: 'get', ...this.who(obj) });
    const o = this.store.get(this.key(obj));
    return o ? (structuredClone(o) as T) : undefined;
  }

  async apply<T extends KubeObject>(obj: T, _fieldManager: string): Promise<T & Stored> {
    this.answer({ verb: 'apply', ...this.who(obj), body: obj });
    const prev = this.store.get(this.key(obj));
    const o = structuredClone(obj) as unknown as Stored;
    o.metadata.uid = prev?.metadata.uid ?? this.uid();
    o.metadata.resourceVersion = this.nextVersion();
    this.store.set(this.key(o), o);
    return structuredClone(o) as T & Stored;
  }

  /** Deletes at once, or marks the object deleting while it has finalizers. */
  async delete(obj: KubeObject, opts: { uid?: string } = {}): Promise<boolean> {
    const o = this.store.get(this.key(obj));
    const status = !o ? 404 : opts.uid && opts.uid !== o.metadata.uid ? 409 : 200;
    this.answer({ verb: 'delete', ...this.who(obj), body: opts }, status);
    if (status !== 200) return false;
    if ((o!.metadata.finalizers ?? []).length > 0) {
      o!.metadata.deletionTimestamp ??= new Date().toISOString();
      o!.metadata.resourceVersion = this.nextVersion();
    } else this.store.delete(this.key(obj));
    return true;
  }

  async mergePatch<T extends KubeObject>(obj: KubeObject, patch: unknown, subresource?: string): Promise<T> {
    const call = {
      verb: 'patch' as const,
      ...this.who(obj),
      ...(subresource ? { subresource } : {}),
      body: patch,
      contentType: 'application/merge-patch+json',
    };
    const o = this.store.get(this.key(obj));
    const p = patch as { metadata?: { resourceVersion?: string } };
    const status = !o
      ? 404
      : p.metadata?.resourceVersion && p.metadata.resourceVersion !== o.metadata.resourceVersion
        ? 409
        : 200;
    this.answer(call, status);
    const merged = mergePatch(structuredClone(o!), patch) as Stored;
    merged.metadata.resourceVersion = this.nextVersion();
    this.store.set(this.key(merged), merged);
    return structuredClone(merged) as unknown as T;
  }

  /** PATCH of one object (JSON or merge patch, `?…` ignored) and GET of a collection. */
  async call<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const [plain] = path.split('?') as [string];
    const m =
      /^\/(?:api\/v1|apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(
        plain,
      );
    const kind = m ? KINDS[m[2]!] : undefined;
    if (!m || !kind) throw new Error(`fake client: no route for ${method} ${path}`);
    const [, namespace, , name, subresource] = m;
    const ref = { kind, metadata: { name: name ?? '', ...(namespace ? { namespace } : {}) } };
    if (method === 'POST' && kind === 'Event') return {} as T; // EventRecorder fakes cover Events
    if (method === 'POST' && !name) {
      // A create: 409 when the name is taken.
      const obj = structuredClone(body) as Stored;
      obj.metadata.namespace ??= namespace;
      const taken = this.store.has(this.key(obj));
      this.answer({ verb: 'create', ...this.who(obj), body }, taken ? 409 : 201);
      obj.metadata.uid = this.uid();
      obj.metadata.resourceVersion = this.nextVersion();
      this.store.set(this.key(obj), obj);
      return structuredClone(obj) as T;
    }
    if (method === 'GET' && !name) {
      const labelSelector = new URLSearchParams(path.split('?')[1] ?? '').get('labelSelector') ?? undefined;
      this.answer({
        verb: 'list',
        kind,
        name: '',
        ...(namespace ? { namespace } : {}),
        ...(labelSelector ? { labelSelector } : {}),
      });
      const selected = selects(labelSelector);
      const items = [...this.store.values()].filter(
        (o) => o.kind === kind && (!namespace || o.metadata.namespace === namespace) && selected(o),
      );
      return { items: structuredClone(items) } as T;
    }
    if (method === 'PUT' && name) {
      // A replace: 409 unless it carries the stored resourceVersion.
      const obj = structuredClone(body) as Stored;
      const o = this.store.get(this.key(ref));
      const status = !o ? 404 : obj.metadata.resourceVersion !== o.metadata.resourceVersion ? 409 : 200;
      this.answer({ verb: 'replace', ...this.who(ref), body }, status);
      obj.metadata = { ...obj.metadata, uid: o!.metadata.uid, resourceVersion: this.nextVersion() };
      this.store.set(this.key(ref), obj);
      return structuredClone(obj) as T;
    }
    if (method !== 'PATCH' || !name) throw new Error(`fake client: ${method} ${path} is not faked`);
    const call = {
      verb: 'patch' as const,
      ...this.who(ref),
      ...(subresource ? { subresource } : {}),
      body,
      ...(contentType ? { contentType } : {}),
    };
    const o = this.store.get(this.key(ref));
    if (!o) this.answer(call, 404);
    let next: Stored;
    if (contentType === 'application/json-patch+json') {
      const result = jsonPatch(structuredClone(o!), body as PatchOp[]);
      this.answer(call, result ? 200 : 422);
      next = result as Stored;
    } else {
      this.answer(call);
      next = mergePatch(structuredClone(o!), body) as Stored;
    }
    // What the API server keeps of the change: metadata and spec, or only the status subresource.
    const saved =
      subresource === 'status'
        ? { ...o!, status: (next as { status?: unknown }).status }
        : { ...next, status: o!.status };
    if (!subresource) saved.metadata = next.metadata;
    saved.metadata = { ...saved.metadata, uid: o!.metadata.uid };
    if (saved.metadata.deletionTimestamp && (saved.metadata.finalizers ?? []).length === 0) {
      // The last finalizer of a deleting object: it is deleted, and the answer is its last state.
      this.store.delete(this.key(ref));
      return structuredClone(saved) as T;
    }
    saved.metadata.resourceVersion = this.nextVersion();
    this.store.set(this.key(ref), saved);
    return structuredClone(saved) as T;
  }

  /** Records the call, then throws an injected error or the status given when it is not 2xx. */
  private answer(call: Omit<RecordedCall, 'status'>, status = 200): void {
    const i = this.injected.findIndex((x) => x.match(call));
    if (i >= 0) {
      const [{ error }] = this.injected.splice(i, 1) as [Injected];
      this.calls.push({ ...call, status: error.status });
      throw error;
    }
    this.calls.push({ ...call, status });
    if (status === 409 && call.verb === 'create')
      throw new KubeApiError(409, 'AlreadyExists', `${call.kind}/${call.name} already exists`, {});
    if (status >= 300 && !(call.verb === 'delete' && (status === 404 || status === 409)))
      throw apiError(status, `${call.verb} ${call.kind}/${call.name}: HTTP ${status}`);
  }

  private who(obj: KubeObject): { kind: string; name: string; namespace?: string } {
    return {
      kind: obj.kind!,
      name: obj.metadata?.name ?? '',
      ...(obj.metadata?.namespace ? { namespace: obj.metadata.namespace } : {}),
    };
  }

  private key(obj: { kind?: string; metadata?: { name?: string; namespace?: string } }): string {
    return `${obj.kind}/${CLUSTER_SCOPED.has(obj.kind!) ? '' : (obj.metadata?.namespace ?? 'default')}/${obj.metadata?.name}`;
  }

  private nextVersion(): string {
    return String(++this.version);
  }

  private uid(): string {
    return `00000000-0000-4000-8000-${String(++this.uids).padStart(12, '0')}`;
  }
}

interface PatchOp {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

/** RFC 6902 on plain JSON, as far as the engine uses it; undefined when a `test` fails. */
function jsonPatch(doc: unknown, ops: PatchOp[]): unknown {
  for (const op of ops) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent = doc as Record<string, unknown> | unknown[];
    for (const p of parts) parent = (parent as Record<string, unknown>)[p] as Record<string, unknown>;
    if (parent === undefined || parent === null) return undefined;
    if (op.op === 'test') {
      const at = Array.isArray(parent) ? parent[Number(last)] : parent[last];
      if (JSON.stringify(at) !== JSON.stringify(op.value)) return undefined;
    } else if (op.op === 'remove') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (Array.isArray(parent)) {
      if (last === '-') parent.push(op.value);
      else parent.splice(Number(last), op.op === 'replace' ? 1 : 0, op.value);
    } else parent[last] = op.value;
  }
  return doc;
}

/** RFC 7386. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out = (target && typeof target === 'object' && !Array.isArray(target) ? target : {}) as Record<
    string,
    unknown
  >;
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** An in-memory cache: what the engine reads of an informer's ObjectCache. */
export class FakeCache<T extends { metadata?: { name?: string; namespace?: string } }> {
  private readonly items = new Map<string, T>();

  get(name: string, namespace?: string): T | undefined {
    return this.items.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): T[] {
    return [...this.items.values()].filter(
      (o) => namespace === undefined || o.metadata?.namespace === namespace,
    );
  }

  set(...objs: T[]): void {
    for (const o of objs) this.items.set(`${o.metadata?.namespace ?? ''}/${o.metadata?.name}`, o);
  }

  delete(name: string, namespace?: string): void {
    this.items.delete(`${namespace ?? ''}/${name}`);
  }

  /** Holds exactly `objs` (a relist). */
  replace(objs: T[]): void {
    this.items.clear();
    this.set(...objs);
  }
}

/** The caches the engine reads, as plain maps; `caches` is what ReconcilerDeps takes. */
export interface FakeCaches {
  /** The other children, by kind, as metadata only (as the real caches keep them). */
  children: Map<string, FakeCache<KubeObject>>;
  sessions: FakeCache<VDISession>;
  templates: FakeCache<VDITemplate>;
  pods: FakeCache<V1Pod>;
  nodes: FakeCache<V1Node>;
  claims: FakeCache<V1PersistentVolumeClaim>;
  usages: FakeCache<VDIUsage>;
  caches: Caches;
  /** Every cache the fake API server backs now holds what it stores (a watch caught up). */
  sync(client: FakeKubeClient): void;
}

export function fakeCaches(): FakeCaches {
  const children = new Map(
    CHILD_KINDS.filter((k) => k.kind !== 'Pod' && k.kind !== 'PersistentVolumeClaim').map((k) => [
      k.kind,
      new FakeCache<KubeObject>(),
    ]),
  );
  const f = {
    children,
    sessions: new FakeCache<VDISession>(),
    templates: new FakeCache<VDITemplate>(),
    pods: new FakeCache<V1Pod>(),
    nodes: new FakeCache<V1Node>(),
    claims: new FakeCache<V1PersistentVolumeClaim>(),
    usages: new FakeCache<VDIUsage>(),
  };
  // The slice count the real caches keep from pod events, here rebuilt from the pods at each question.
  const slices = {
    capacity(nodes: readonly V1Node[]) {
      const ledger = new SliceLedger('nvidia.com/gpu');
      for (const p of f.pods.list()) ledger.pod(p);
      return ledger.capacity(nodes);
    },
  };
  // The owner index the real caches keep from session events, here rebuilt at each question.
  const owners = {
    keys: (hash: string) =>
      f.sessions
        .list()
        .filter((s) => sessionOwnerHash(s) === hash)
        .map((s) => `${s.metadata.namespace}/${s.metadata.name}`),
  } satisfies Pick<OwnerIndex, 'keys'>;
  return {
    ...f,
    // Only the parts above are read by the code under test.
    caches: { ...f, slices, owners } as unknown as Caches,
    sync(client: FakeKubeClient) {
      f.sessions.replace(client.all<VDISession>(KIND_SESSION));
      f.templates.replace(client.all<VDITemplate>(KIND_TEMPLATE));
      f.pods.replace(client.all<V1Pod>('Pod'));
      f.nodes.replace(client.all<V1Node>('Node'));
      f.claims.replace(client.all<V1PersistentVolumeClaim>('PersistentVolumeClaim'));
      for (const [kind, cache] of children)
        cache.replace(client.all<KubeObject>(kind).map((o) => childMetadata(o, CHILD_CACHE_KEYS)));
    },
  };
}

/** Events recorded by the engine, as `reason` strings in order (and the whole records). */
export class RecordingEvents implements EventRecorder {
  readonly records: { session: string; type: 'Normal' | 'Warning'; reason: string; message: string }[] = [];

  record(session: VDISession, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.records.push({ session: session.metadata.name!, type, reason, message });
  }

  reasons(): string[] {
    return this.records.map((r) => r.reason);
  }
}

/** The fake as the engine's deps take it. */
export function asClient(fake: FakeKubeClient): KubeJsonClient {
  return fake as unknown as KubeJsonClient;
}

/** A logger that says nothing. */
export const silentLog = pino({ level: 'silent' });

/** An operator configuration for tests: what reconcile reads, with `platform` given. */
export function testConfig(
  platform: OperatorConfig['platform'],
  over: Partial<OperatorConfig> = {},
): OperatorConfig {
  return {
    sessionsNamespace: platform.namespace,
    platform,
    sessionKey: 'a-platform-session-key-for-engine-tests-0123456789',
    startDeadlineSeconds: 300,
    ...over,
  } as OperatorConfig;
}

/** A label selector's match (equality `k=v` and existence `k` terms, comma-separated: what the engine sends). */
function selects(selector: string | undefined): (o: KubeObject) => boolean {
  const terms = (selector ?? '').split(',').filter(Boolean);
  for (const t of terms)
    if (/[!()]|\bin\b|notin/.test(t)) throw new Error(`fake client: selector ${t} is not faked`);
  return (o) => {
    const labels = (o.metadata as { labels?: Record<string, string> } | undefined)?.labels ?? {};
    return terms.every((t) => {
      const [k, v] = t.split('=') as [string, string | undefined];
      return v === undefined ? k in labels : labels[k] === v;
    });
  };
}

/** The session API object as the API server would store it after a create. */
export function sessionObject(s: VDISession): VDISession {
  return { ...s, apiVersion: API_VERSION, kind: KIND_SESSION };
}
