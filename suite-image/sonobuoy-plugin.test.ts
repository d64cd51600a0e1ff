// suite-image/sonobuoy-plugin.yaml against Sonobuoy's documented plugin contract (Sonobuoy itself cannot be built
// here): Job driver, JUnit results, the results emptyDir mounted where RESULTS_DIR points, the suite image and its
// version, and the conformance entrypoint writing what the worker waits for (a "done" file naming the results).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { DONE_FILE, JUNIT_FILE, planFromEnv, saveResults } from '../lib/cli/conformance-entry.ts';

interface Plugin {
  'sonobuoy-config': { driver: string; 'plugin-name': string; 'result-format': string };
  spec: { name: string; image: string; env: { name: string; value: string }[]; volumeMounts: { mountPath: string; name: string }[] };
}

const plugin = parse(readFileSync('suite-image/sonobuoy-plugin.yaml', 'utf8')) as Plugin;
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const env = (name: string) => plugin.spec.env.find((e) => e.name === name)?.value;

describe('the Sonobuoy plugin definition (suite-image/sonobuoy-plugin.yaml)', () => {
  it('is a Job plugin with JUnit results, named sctp-e2e, running the suite image of this version', () => {
    expect(plugin['sonobuoy-config']).to.include({ driver: 'Job', 'plugin-name': 'sctp-e2e', 'result-format': 'junit' });
    expect(plugin.spec.image).to.equal(`registry.local/sctp-e2e-suite:${version}`);
    // the suite-image Pod manifest names the same image
    expect(readFileSync('suite-image/pod.yaml', 'utf8')).to.contain(`image: ${plugin.spec.image}`);
  });

  it('writes its results into the worker\'s results volume: RESULTS_DIR is where the "results" emptyDir is mounted', () => {
    const mount = plugin.spec.volumeMounts.find((m) => m.name === 'results');
    expect(mount?.mountPath).to.equal('/tmp/sonobuoy/results');
    expect(env('RESULTS_DIR')).to.equal(mount?.mountPath);
  });

  it('its environment is the conformance-image contract: every variable it sets is one the entrypoint maps', () => {
    for (const e of plugin.spec.env) expect(['RESULTS_DIR', 'E2E_FOCUS', 'E2E_SKIP', 'E2E_EXTRA_ARGS']).to.include(e.name);
    const p = planFromEnv({ RESULTS_DIR: env('RESULTS_DIR'), E2E_FOCUS: env('E2E_FOCUS'), E2E_SKIP: env('E2E_SKIP'), E2E_EXTRA_ARGS: env('E2E_EXTRA_ARGS') });
    expect(p.argv).to.include('--junit').and.include(`/tmp/sonobuoy/results/${JUNIT_FILE}`);
  });

  it('the entrypoint ends with what the worker waits for: "done" holding the absolute path of a tarball with the JUnit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-e2e-sonobuoy-'));
    try {
      writeFileSync(join(dir, JUNIT_FILE), '<testsuites/>');
      const s = saveResults(dir);
      expect(readFileSync(join(dir, DONE_FILE), 'utf8')).to.equal(s.tarball);
      expect(s.tarball.startsWith('/')).to.equal(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
