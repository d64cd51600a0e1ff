// The tag registry: every bracketed tag a spec title may carry. A unit test fails on any other.
// Meanings (../../docs and STYLE.md): [Feature:SCTP] sends no SCTP packets; [Feature:SCTPConnectivity]
// sends real SCTP (may load sctp.ko); [Serial] must not share the cluster; [Disruptive] changes nodes.

export const Tag = {
  SCTP: '[Feature:SCTP]',
  SCTPConnectivity: '[Feature:SCTPConnectivity]',
  NetworkPolicy: '[Feature:NetworkPolicy]',
  Serial: '[Serial]',
  Disruptive: '[Disruptive]',
  LinuxOnly: '[LinuxOnly]',
  LoadBalancer: '[Feature:LoadBalancer]',
  MultiNode: '[Feature:MultiNode]',
  /** Needs IPv4 and IPv6 addresses for pods and Services (upstream's tag of its one dual-stack SCTP spec). */
  IPv6DualStack: '[Feature:IPv6DualStack]',
} as const;

export type TagName = keyof typeof Tag;
export type TagValue = (typeof Tag)[TagName];

const known = new Set<string>(Object.values(Tag));

/** Every `[...]` token in a title. */
export function bracketTags(title: string): string[] {
  return title.match(/\[[^\][]+\]/g) ?? [];
}

/** Tags in a title that are not in the registry. */
export function unknownTags(title: string): string[] {
  return bracketTags(title).filter((t) => !known.has(t));
}

/** Ginkgo-style title: text followed by its tags, so upstream greps work. */
export function tagged(text: string, tags: readonly TagValue[]): string {
  return tags.length ? `${text} ${tags.join(' ')}` : text;
}

/** Escape a literal for use in a mocha --grep regex. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Validate a --grep pattern given by a user. Returns an error sentence or undefined.
 * A bare `[Feature:SCTP]` is a character class in a regex (matches almost anything): we refuse it
 * and say how to escape it, rather than silently running the wrong tests.
 */
export function checkGrepPattern(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
  } catch (e) {
    return `invalid --grep pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`;
  }
  for (const t of known) {
    const inner = t.slice(1, -1);
    if (pattern.includes(t) && !pattern.includes(escapeRegex(t))) {
      return (
        `--grep ${JSON.stringify(pattern)} uses ${t} unescaped, which a regex reads as a character class; write ${JSON.stringify(escapeRegex(t))} ` +
        `(or use --tag ${inner})`
      );
    }
  }
  return undefined;
}

/** Resolve a tag given by name ("SCTP", "Feature:SCTP", "[Feature:SCTP]") to its value. */
export function resolveTag(name: string): TagValue | undefined {
  const n = name.replace(/^\[|\]$/g, '');
  for (const v of Object.values(Tag)) if (v.slice(1, -1) === n || v.slice(1, -1) === `Feature:${n}`) return v;
  return undefined;
}

export function tagsOf(title: string): TagValue[] {
  return bracketTags(title).filter((t): t is TagValue => known.has(t));
}

/** One regex for mocha: every --grep/--tag group must match, no --skip-tag may. */
export function selectionPattern(all: string[], none: string[]): string | undefined {
  if (!all.length && !none.length) return undefined;
  return `^${all.map((g) => `(?=.*(?:${g}))`).join('')}${none.length ? `(?!.*(?:${none.join('|')}))` : ''}`;
}
