/**
 * Who holds a desktop cookie of a session: the annotation `vdi.kasm.io/access-holders`, written
 * when a ticket is redeemed, read by the revocation loop (revocation.ts) to find open desktops
 * whose identity is no longer live. A JSON array, newest first, at most MAX_HOLDERS entries, one
 * per (owner, login session).
 */
export const ANNOTATION_ACCESS_HOLDERS = 'vdi.kasm.io/access-holders';
export const MAX_HOLDERS = 4;

export interface Holder {
  /** The owner key (ownerKey) of the cookie's user. */
  owner: string;
  /** Shown only. */
  username: string;
  /** The identity provider's login session the cookie came from. */
  idpSession?: string;
}

export function decodeHolders(value: string | undefined): Holder[] {
  if (!value) return [];
  try {
    const list = JSON.parse(value) as unknown;
    if (!Array.isArray(list)) return [];
    return list.filter(
      (h): h is Holder =>
        typeof h === 'object' &&
        h !== null &&
        typeof (h as Holder).owner === 'string' &&
        typeof (h as Holder).username === 'string' &&
        ((h as Holder).idpSession === undefined || typeof (h as Holder).idpSession === 'string'),
    );
  } catch {
    return [];
  }
}

const same = (a: Holder, b: Holder) => a.owner === b.owner && a.idpSession === b.idpSession;

/** The annotation value with `h` first (and any earlier entry of the same login removed). */
export function withHolder(value: string | undefined, h: Holder): string {
  return JSON.stringify([h, ...decodeHolders(value).filter((x) => !same(x, h))].slice(0, MAX_HOLDERS));
}

/** The annotation value without the holders in `gone`. */
export function withoutHolders(value: string | undefined, gone: Holder[]): string {
  return JSON.stringify(decodeHolders(value).filter((x) => !gone.some((g) => same(g, x))));
}
