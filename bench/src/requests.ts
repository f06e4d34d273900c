/**
 * What a request to the Kubernetes API is, by verb and resource: `APPLY pods`, `PATCH
 * vdisessions/status`, `WATCH nodes`, `LIST pods`. The operator's request counts per session
 * are made of these.
 */

export interface RequestKind {
  verb: string;
  resource: string;
}

/**
 * The kind of a request from its method, path (with query) and Content-Type. A PATCH is APPLY
 * (server-side apply), MERGE (merge patch) or JSONPATCH; a GET is LIST, WATCH or GET.
 */
export function classifyRequest(method: string, path: string, contentType = ''): RequestKind {
  const [pathname = '', query = ''] = path.split('?');
  const parts = pathname.split('/').filter(Boolean);
  // /api/v1/... or /apis/<group>/<version>/...
  const rest = parts[0] === 'api' ? parts.slice(2) : parts[0] === 'apis' ? parts.slice(3) : undefined;
  if (!rest || rest.length === 0) return { verb: method.toUpperCase(), resource: 'discovery' };
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const [resource = '', name, sub] = scoped;
  const named = name !== undefined;
  const params = new URLSearchParams(query);
  let verb = method.toUpperCase();
  if (verb === 'GET')
    verb = params.get('watch') === 'true' || params.get('watch') === '1' ? 'WATCH' : named ? 'GET' : 'LIST';
  else if (verb === 'PATCH') {
    if (contentType.includes('apply-patch')) verb = 'APPLY';
    else if (contentType.includes('merge-patch')) verb = 'MERGE';
    else if (contentType.includes('json-patch')) verb = 'JSONPATCH';
    else if (contentType.includes('strategic')) verb = 'STRATEGIC';
  } else if (verb === 'POST') verb = 'CREATE';
  // `namespaces/<ns>` itself is a named namespace, not a scope.
  const kind = rest[0] === 'namespaces' && rest.length < 3 ? 'namespaces' : resource;
  return { verb, resource: sub ? `${kind}/${sub}` : kind };
}

/** Counts by `VERB resource` → totals: every request, and those that are not watches. */
export function requestTotals(counts: Record<string, number>): { all: number; nonWatch: number } {
  let all = 0;
  let nonWatch = 0;
  for (const [key, n] of Object.entries(counts)) {
    all += n;
    if (!key.startsWith('WATCH ')) nonWatch += n;
  }
  return { all, nonWatch };
}

/** The difference of two count snapshots (what happened in between), without zero entries. */
export function countsDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) {
    const d = n - (before[key] ?? 0);
    if (d !== 0) out[key] = d;
  }
  return out;
}
