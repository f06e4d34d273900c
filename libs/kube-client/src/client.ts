/**
 * Plain-JSON access to the Kubernetes API with a KubeConfig's credentials: server-side apply,
 * get, delete, status patches and discovery of REST paths.
 *
 * Why not client-node's typed clients: they re-serialize objects through their generated models,
 * which rename or drop fields — NetworkPolicy's `from` is dropped by
 * KubernetesObjectApi (so a policy would allow every source), and custom resources have no model
 * at all. Rendered objects are sent exactly as rendered.
 */
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Metadata as the API server returns it. */
export interface StoredMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  [k: string]: unknown;
}

/** An object as the API server returns it. */
export type Stored<T extends KubeObject> = Omit<T, 'metadata'> & { metadata: StoredMeta };

/** An error answer of the API server, with its Status reason and message. */
export class KubeApiError extends Error {
  override name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
  get notFound(): boolean {
    return this.status === 404;
  }
  get conflict(): boolean {
    return this.status === 409;
  }
}

export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

interface ResourceInfo {
  plural: string;
  namespaced: boolean;
}

export class KubeJsonClient {
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();
  private readonly agent: https.Agent;
  private readonly proxied: boolean;
  private readonly server: string;
  private authApplied?: Promise<https.RequestOptions>;

  constructor(
    private readonly kc: k8s.KubeConfig,
    /** Requests per host kept open (watch-free request/response traffic). */
    maxSockets = 32,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster)
      throw new Error('the kubeconfig has no current cluster; set KUBECONFIG or use in-cluster config');
    this.server = cluster.server;
    this.agent = new https.Agent({ keepAlive: true, maxSockets });
    this.proxied = Boolean(cluster.proxyUrl);
  }

  private auth(): Promise<https.RequestOptions> {
    // Client certificates and static tokens do not change; exec/OIDC providers refresh per call.
    const user = this.kc.getCurrentUser();
    const cacheable = !user?.exec && !user?.authProvider;
    if (cacheable && this.authApplied) return this.authApplied;
    const p = (async () => {
      const opts: https.RequestOptions = { headers: {} };
      await this.kc.applyToHTTPSOptions(opts);
      return opts;
    })();
    if (cacheable) this.authApplied = p;
    return p;
  }

  /** One request; never throws for HTTP errors (see `check`). */
  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<RawResponse> {
    const url = new URL(path, this.server);
    const auth = await this.auth();
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string | number> = {
      ...(auth.headers as Record<string, string>),
      Accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['Content-Type'] = contentType;
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    // client-node's applyToHTTPSOptions always sets an agent of its own: a proxy agent when the
    // cluster has a proxy-url, else a plain https.Agent without keep-alive, with which every call
    // would open a new TLS connection. Without a proxy ours is used instead: the TLS settings
    // (ca, cert, key, servername, …) stay on the request options, and connections are reused.
    const opts: https.RequestOptions = { ...auth, method, headers, agent: this.agent };
    if (auth.agent && this.proxied) opts.agent = auth.agent;
    return new Promise((resolve, reject) => {
      const req = https.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            /* not JSON: keep the text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: no answer within 30s`)));
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A request whose non-2xx answer becomes a KubeApiError naming the object. */
  async call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<T> {
    const r = await this.request(method, path, body, contentType);
    if (r.status < 200 || r.status >= 300) {
      const message =
        typeof r.body.message === 'string' ? r.body.message : r.text.slice(0, 500) || `HTTP ${r.status}`;
      throw new KubeApiError(
        r.status,
        typeof r.body.reason === 'string' ? r.body.reason : '',
        `${method} ${path}: ${message}`,
        r.body,
      );
    }
    return r.body as T;
  }

  /** The REST path of an object (or of its collection with `withName` false), found by discovery and cached. */
  async path(obj: KubeObject, withName = true): Promise<string> {
    const apiVersion = obj.apiVersion;
    const kind = obj.kind;
    if (!apiVersion || !kind) throw new Error('object without apiVersion/kind');
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let kinds = this.discovery.get(base);
    if (!kinds) {
      kinds = this.call<{ resources?: { name: string; kind: string; namespaced: boolean }[] }>(
        'GET',
        base,
      ).then((r) => {
        const m = new Map<string, ResourceInfo>();
        for (const res of r.resources ?? [])
          if (!res.name.includes('/')) m.set(res.kind, { plural: res.name, namespaced: res.namespaced });
        return m;
      });
      kinds.catch(() => this.discovery.delete(base));
      this.discovery.set(base, kinds);
    }
    const info = (await kinds).get(kind);
    if (!info)
      throw new Error(`the API server does not serve ${kind} in ${apiVersion}; is its CRD installed?`);
    const ns = info.namespaced ? `/namespaces/${obj.metadata?.namespace ?? 'default'}` : '';
    return `${base}${ns}/${info.plural}${withName ? `/${obj.metadata?.name}` : ''}`;
  }

  /** Server-side apply of the whole object under `fieldManager` (conflicts forced: the operator owns its fields). */
  async apply<T extends KubeObject>(obj: T, fieldManager: string): Promise<Stored<T>> {
    const path = `${await this.path(obj)}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    return this.call<Stored<T>>('PATCH', path, obj, 'application/apply-patch+yaml');
  }

  /** The object, or undefined when it does not exist. */
  async get<T = KubeObject>(obj: KubeObject): Promise<T | undefined> {
    const r = await this.request('GET', await this.path(obj));
    if (r.status === 404) return undefined;
    if (r.status >= 300)
      throw new KubeApiError(
        r.status,
        String(r.body.reason ?? ''),
        `GET ${obj.kind} ${obj.metadata?.name}: ${String(r.body.message ?? r.text)}`,
        r.body,
      );
    return r.body as T;
  }

  /** Deletes the object; true when it existed. `uid` guards against deleting a newer object of the same name. */
  async delete(
    obj: KubeObject,
    opts: { uid?: string; propagationPolicy?: 'Background' | 'Foreground' | 'Orphan' } = {},
  ): Promise<boolean> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: opts.propagationPolicy ?? 'Background',
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
    };
    const r = await this.request('DELETE', await this.path(obj), body);
    if (r.status === 404) return false;
    if (r.status === 409 && opts.uid) return false; // a different object now has this name
    if (r.status >= 300)
      throw new KubeApiError(
        r.status,
        String(r.body.reason ?? ''),
        `DELETE ${obj.kind} ${obj.metadata?.name}: ${String(r.body.message ?? r.text)}`,
        r.body,
      );
    return true;
  }

  /** A JSON merge patch of the object (or of a subresource such as `status`). */
  async mergePatch<T extends KubeObject>(obj: KubeObject, patch: unknown, subresource?: string): Promise<T> {
    const path = `${await this.path(obj)}${subresource ? `/${subresource}` : ''}`;
    return this.call<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  /** A JSON patch (RFC 6902), e.g. with a `test` operation to guard a list edit. */
  async jsonPatch<T extends KubeObject>(obj: KubeObject, ops: unknown[], subresource?: string): Promise<T> {
    const path = `${await this.path(obj)}${subresource ? `/${subresource}` : ''}`;
    return this.call<T>('PATCH', path, ops, 'application/json-patch+json');
  }

  close(): void {
    this.agent.destroy();
  }
}
