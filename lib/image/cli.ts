// tsx lib/image/cli.ts --name NAME:TAG --out F --file SRC:DEST[:MODE] ... [--dir DEST[:MODE]]
//   [--symlink TARGET:DEST] [--entrypoint '["/x"]'] [--cmd '["a"]'] [--env K=V] [--label K=V]
// Prints one JSON line {path,digest,configDigest,size,name,...}; exits 2 on a usage error.
import { ExitCode, errorMessage, UsageError, UserError } from '../framework/errors.ts';
import { runMain } from '../framework/main.ts';
import { type ImageSpec, writeImageArchive } from './archive.ts';

export function parseImageArgs(argv: string[]): { spec: ImageSpec; out: string } {
  const spec: ImageSpec = { name: '', files: [], dirs: [], symlinks: [], env: [], labels: {} };
  let out = '';
  const jsonArray = (flag: string, v: string): string[] => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      throw new Error(`${flag} must be a JSON array of strings, got ${v}`);
    }
    if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`${flag} must be a JSON array of strings, got ${v}`);
    return parsed;
  };
  const mode = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^[0-7]{3,4}$/.test(v)) throw new Error(`${flag}: mode must be octal like 0755, got ${v}`);
    return parseInt(v, 8);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const eq = flag.indexOf('=');
    const [key, inline] = flag.startsWith('--') && eq > 0 ? [flag.slice(0, eq), flag.slice(eq + 1)] : [flag, undefined];
    const val = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    switch (key) {
      case '--name':
        spec.name = val();
        break;
      case '--out':
        out = val();
        break;
      case '--file': {
        const [src, dest, m, ...rest] = val().split(':');
        if (!src || !dest || rest.length) throw new Error(`--file wants SRC:DEST[:MODE], got ${argv[i]}`);
        spec.files.push({ src, dest, mode: mode('--file', m) });
        break;
      }
      case '--dir': {
        const [dest, m] = val().split(':');
        if (!dest) throw new Error('--dir wants DEST[:MODE]');
        spec.dirs!.push({ path: dest, mode: mode('--dir', m) });
        break;
      }
      case '--symlink': {
        const [target, dest, ...rest] = val().split(':');
        if (!target || !dest || rest.length) throw new Error(`--symlink wants TARGET:DEST, got ${argv[i]}`);
        spec.symlinks!.push({ target, dest });
        break;
      }
      case '--entrypoint':
        spec.entrypoint = jsonArray('--entrypoint', val());
        break;
      case '--cmd':
        spec.cmd = jsonArray('--cmd', val());
        break;
      case '--env': {
        const v = val();
        if (!v.includes('=')) throw new Error(`--env wants K=V, got ${v}`);
        spec.env!.push(v);
        break;
      }
      case '--label': {
        const v = val();
        const k = v.indexOf('=');
        if (k <= 0) throw new Error(`--label wants K=V, got ${v}`);
        spec.labels![v.slice(0, k)] = v.slice(k + 1);
        break;
      }
      default:
        throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!spec.name) throw new Error('--name NAME:TAG is required');
  if (!out) throw new Error('--out FILE is required');
  return { spec, out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runMain('image', () => {
    let parsed: ReturnType<typeof parseImageArgs>;
    try {
      parsed = parseImageArgs(process.argv.slice(2));
    } catch (e) {
      throw new UsageError(errorMessage(e));
    }
    try {
      const r = writeImageArchive(parsed.spec, parsed.out);
      process.stdout.write(JSON.stringify(r) + '\n');
    } catch (e) {
      throw new UserError(errorMessage(e), ExitCode.failed); // an unreadable source file, an unwritable --out
    }
  });
}
