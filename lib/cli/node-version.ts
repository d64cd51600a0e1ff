// Refuse an old Node before anything else is loaded (a missing API would otherwise surface as a stack dump).
// The one import is the exit-code table (plain code, loads on any Node).
import { ExitCode } from '../framework/errors.ts';

export function requireNode(major: number, what: string): void {
  const have = Number(process.versions.node.split('.')[0]);
  if (have < major) {
    process.stderr.write(
      `${what}: needs Node >= ${major} (this is ${process.version}); run it through npm (\`npm run ...\`), which puts ` +
        `the Node ${major} from node_modules/.bin first on PATH\n`,
    );
    process.exit(ExitCode.prerequisite);
  }
}
