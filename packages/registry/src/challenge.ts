/** One authentication challenge from a `WWW-Authenticate` header. */
export interface Challenge {
  /** Lower-cased: `basic`, `bearer`. */
  scheme: string;
  /** Parameter names lower-cased: realm, service, scope, error. */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` value (RFC 7235): one or more challenges, each a scheme
 * followed by comma-separated `key=value` or `key="quoted value"` parameters.
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  if (!header) return [];
  const challenges: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string): void => {
    while (i < n && chars.includes(header[i]!)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n && !' \t,="'.includes(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skip(' \t,');
    if (i >= n) break;
    const word = token();
    skip(' \t');
    if (header[i] === '=' && current) {
      i++;
      skip(' \t');
      let value: string;
      if (header[i] === '"') {
        i++;
        let out = '';
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          out += header[i];
          i++;
        }
        i++;
        value = out;
      } else {
        value = token();
      }
      current.params[word.toLowerCase()] = value;
    } else if (word !== '') {
      current = { scheme: word.toLowerCase(), params: {} };
      challenges.push(current);
    } else {
      i++;
    }
  }
  return challenges;
}
