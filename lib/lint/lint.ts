// `npm run lint` and the first step of `npm test`: Biome (formatter + linter, biome.jsonc) over the tree, then
// the import boundaries (rules.ts). Returns what to print; never throws for findings.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { checkBoundaries, renderBoundaryResult, repoTsFiles } from './boundaries.ts';
import { ALLOWED, RULES } from './rules.ts';

export interface LintStep {
  name: string;
  ok: boolean;
  output: string;
}

export function biomeCheck(root: string, args: string[] = []): LintStep {
  const biome = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');
  const r = spawnSync(process.execPath, [biome, 'check', '--colors=off', ...args, '.'], { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`.trim();
  return { name: 'biome check', ok: r.status === 0, output };
}

export function boundaryCheck(root: string): LintStep {
  const r = checkBoundaries({ root, files: repoTsFiles(root), rules: RULES, allow: ALLOWED });
  const text = renderBoundaryResult(r);
  return {
    name: 'import boundaries',
    ok: text === '',
    output: text || `${RULES.length} rules kept (${r.allowed} known violations allowed, see lib/lint/rules.ts)`,
  };
}

export function lint(root: string, biomeArgs: string[] = []): LintStep[] {
  return [biomeCheck(root, biomeArgs), boundaryCheck(root)];
}

export function renderLint(steps: LintStep[]): string {
  return steps.map((s) => `lint: ${s.name}: ${s.ok ? 'ok' : 'FAILED'}\n${s.output}\n`).join('');
}
