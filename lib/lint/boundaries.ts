// Import boundaries between the rooms (docs/ARCHITECTURE.md): every relative import of every .ts file is
// resolved to a repository path and checked against the rules in rules.ts. A violation names the file, the line,
// the import as written, what it resolves to and the rule with its reason. Run by `npm run lint` and `npm test`.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import ts from 'typescript';

export interface BoundaryRule {
  /** A short name; allow-list entries and messages refer to it. */
  name: string;
  /** Files the rule applies to (globs relative to the repository root: `*` within a segment, `**` any depth). */
  from: string[];
  /** Import targets those files must not reach (resolved, relative to the root). */
  forbid: string[];
  /** Targets matched by `forbid` that are nevertheless allowed. */
  except?: string[];
  why: string;
}

/** A known violation left on purpose: exactly this file importing exactly this target under this rule. */
export interface AllowedViolation {
  rule: string;
  file: string;
  target: string;
  todo: string;
}

export interface Violation {
  rule: string;
  file: string;
  line: number;
  specifier: string;
  target: string;
  why: string;
}

export interface BoundaryResult {
  violations: Violation[];
  /** Allow-list entries that matched nothing: the debt is paid, remove the entry. */
  stale: AllowedViolation[];
  allowed: number;
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const matches = (globs: string[] | undefined, path: string) => (globs ?? []).some((g) => globToRegExp(g).test(path));

/** The relative imports of one source text: static, type-only, re-exports and dynamic import('…') with a literal. */
export function importsOf(source: string): { specifier: string; line: number }[] {
  const info = ts.preProcessFile(source, true, true);
  const lineOf = (pos: number) => source.slice(0, pos).split('\n').length;
  return info.importedFiles.filter((f) => f.fileName.startsWith('.')).map((f) => ({ specifier: f.fileName, line: lineOf(f.pos) }));
}

export function checkBoundaries(o: {
  root: string;
  files: string[];
  rules: BoundaryRule[];
  allow?: AllowedViolation[];
  read?: (path: string) => string;
}): BoundaryResult {
  const read = o.read ?? ((p: string) => readFileSync(join(o.root, p), 'utf8'));
  const allow = o.allow ?? [];
  const used = new Set<AllowedViolation>();
  const violations: Violation[] = [];
  let allowed = 0;
  for (const file of o.files) {
    const rules = o.rules.filter((r) => matches(r.from, file));
    if (!rules.length) continue;
    for (const imp of importsOf(read(file))) {
      const target = normalize(join(dirname(file), imp.specifier)).replaceAll('\\', '/');
      for (const r of rules) {
        if (!matches(r.forbid, target) || matches(r.except, target)) continue;
        const entry = allow.find((a) => a.rule === r.name && a.file === file && a.target === target);
        if (entry) {
          used.add(entry);
          allowed++;
          continue;
        }
        violations.push({ rule: r.name, file, line: imp.line, specifier: imp.specifier, target, why: r.why });
      }
    }
  }
  return { violations, stale: allow.filter((a) => !used.has(a)), allowed };
}

export function renderBoundaryResult(r: BoundaryResult): string {
  const lines = r.violations.map((v) => `${v.file}:${v.line}: import '${v.specifier}' (${v.target}) breaks rule ${v.rule}: ${v.why}`);
  for (const s of r.stale) lines.push(`lib/lint/rules.ts: allow-list entry ${s.rule} ${s.file} -> ${s.target} matches nothing any more: remove it`);
  return lines.join('\n');
}

const SKIP_DIRS = new Set(['node_modules', 'artifacts', 'out']);

/** The repository's .ts files (not under node_modules, artifacts, build output or dot-directories), sorted. */
export function repoTsFiles(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    const p = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) out.push(...repoTsFiles(root, p));
    else if (e.isFile() && e.name.endsWith('.ts')) out.push(p);
  }
  return out.sort();
}
