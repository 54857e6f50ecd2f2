/**
 * docs/SPEC.md's origin rule. Non-browser clients send no Origin and pass; a
 * browser's Origin must be listed in CORS_ORIGINS or, when that is unset, be
 * the hub's own origin (the Host it was reached by).
 */
export function originAllowed(origin: string | undefined, host: string | undefined, allowList: readonly string[] | undefined): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowList) return allowList.includes('*') || allowList.includes(origin);
  if (!host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
