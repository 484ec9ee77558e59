import { closest, distance } from 'fastest-levenshtein';

/**
 * The candidate a typo most likely meant, compared without case: only when it is close
 * (at most 2 edits, or a third of the word), since a far one misleads more than none.
 */
export function closestMatch(query: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = query.toLowerCase();
  const nearest = closest(
    lower,
    candidates.map((c) => c.toLowerCase()),
  );
  if (distance(lower, nearest) > Math.max(2, Math.floor(query.length / 3))) return undefined;
  return candidates.find((c) => c.toLowerCase() === nearest);
}

/** A hint for a name that is not among `candidates`: the likely one, else a few of them. */
export function choicesHint(query: string, candidates: readonly string[], listing: string, shown = 8): string {
  const match = closestMatch(query, candidates);
  if (match !== undefined) return `did you mean ${match}? (${listing})`;
  const few = candidates.slice(0, shown).join(', ');
  return candidates.length <= shown ? `one of: ${few}` : `one of: ${few}, ... (${candidates.length} in all; ${listing})`;
}
