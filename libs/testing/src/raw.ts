/**
 * Plain-JSON requests to the API server with a KubeConfig's credentials. Tests use it to send
 * rendered objects exactly as they are (client-node's typed clients re-serialize through their
 * models, which rename fields such as NetworkPolicy's `from`) and to read raw Status errors.
 */
import https from 'node:https';
import type * as k8s from '@kubernetes/client-node';

export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

export async function kubeRequest(
  kc: k8s.KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<RawResponse> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const opts: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (payload !== undefined)
    opts.headers = {
      ...opts.headers,
      'Content-Type': contentType,
      'Content-Length': Buffer.byteLength(payload),
    };
  return new Promise((resolve, reject) => {
    const req = https.request(url, opts, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

const plurals = new Map<string, Promise<Map<string, { plural: string; namespaced: boolean }>>>();

/** The REST path of an object's collection (or of the object, with `withName`), found by discovery. */
export async function resourcePath(
  kc: k8s.KubeConfig,
  obj: { apiVersion?: string; kind?: string; metadata?: { name?: string; namespace?: string } },
  withName = false,
): Promise<string> {
  const apiVersion = obj.apiVersion!;
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  let kinds = plurals.get(base);
  if (!kinds) {
    kinds = kubeRequest(kc, 'GET', base).then((r) => {
      const m = new Map<string, { plural: string; namespaced: boolean }>();
      for (const res of (r.body.resources ?? []) as { name: string; kind: string; namespaced: boolean }[]) {
        if (!res.name.includes('/')) m.set(res.kind, { plural: res.name, namespaced: res.namespaced });
      }
      return m;
    });
    plurals.set(base, kinds);
  }
  const info = (await kinds).get(obj.kind!);
  if (!info) throw new Error(`the API server does not serve ${obj.kind} in ${apiVersion}`);
  const ns = info.namespaced ? `/namespaces/${obj.metadata!.namespace}` : '';
  return `${base}${ns}/${info.plural}${withName ? `/${obj.metadata!.name}` : ''}`;
}
