// Entry point of `npm run lint` (Biome + import boundaries, see lib/lint/lint.ts); `-- --write` applies Biome's safe fixes.
import { requireNode } from '../lib/cli/node-version.ts';

requireNode(24, 'lint');
const { runMain } = await import('../lib/framework/main.ts');
const { lint, renderLint } = await import('../lib/lint/lint.ts');
runMain('lint', () => {
  const steps = lint(process.cwd(), process.argv.slice(2));
  process.stdout.write(renderLint(steps));
  return steps.every((s) => s.ok) ? 0 : 1;
});
