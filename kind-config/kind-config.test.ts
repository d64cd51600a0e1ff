// Keeps the kind configs correct without kind or Docker: every YAML in this folder is parsed and
// checked against kind's v1alpha4 schema (validate.ts cites the kind sources), plus what each
// variant is for; run-kind.sh must parse and document every config.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parseDocument } from 'yaml';
import { cidrFamily, validateKindConfig } from './validate.ts';

const dir = new URL('.', import.meta.url).pathname;
const EXPECTED = ['bring-your-own-cni.yaml', 'dual-stack.yaml', 'iptables.yaml', 'ipvs.yaml', 'nftables.yaml'];

type Cfg = {
  networking?: { kubeProxyMode?: string; disableDefaultCNI?: boolean; ipFamily?: string; podSubnet?: string; serviceSubnet?: string };
  nodes?: { role?: string }[];
  [k: string]: unknown;
};

function load(text: string, where: string): Cfg {
  const doc = parseDocument(text, { uniqueKeys: true });
  expect(
    doc.errors.map((e) => e.message),
    `${where} parses as YAML`,
  ).to.deep.equal([]);
  return doc.toJS() as Cfg;
}
const read = (f: string) => readFileSync(join(dir, f), 'utf8');

describe('kind-config', () => {
  it('holds exactly the five documented cluster variants', () => {
    expect(
      readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort(),
    ).to.deep.equal(EXPECTED);
  });

  for (const file of EXPECTED) {
    describe(file, () => {
      it('is a valid kind.x-k8s.io/v1alpha4 Cluster with only known fields', () => {
        const cfg = load(read(file), file);
        expect(validateKindConfig(cfg), file).to.deep.equal([]);
        expect(cfg.apiVersion).to.equal('kind.x-k8s.io/v1alpha4');
        expect(cfg.kind).to.equal('Cluster');
      });

      it('has a control-plane and a worker node, so cross-node tests run', () => {
        expect(load(read(file), file).nodes?.map((n) => n.role)).to.deep.equal(['control-plane', 'worker']);
      });

      it('is commented and names how to run it', () => {
        const text = read(file);
        expect(text.split('\n').filter((l) => /^\s*#/.test(l)).length, 'comment lines').to.be.greaterThan(5);
        expect(text).to.include('run-kind.sh');
        // The SCTP facts every variant must state: shared host kernel, and why no SCTP port mappings.
        expect(text).to.match(/HOST kernel/);
        expect(text).to.match(/kubernetes-sigs\/kind#2301/);
      });
    });
  }

  for (const mode of ['iptables', 'nftables', 'ipvs']) {
    it(`${mode}.yaml runs kube-proxy in ${mode} mode`, () => {
      expect(load(read(`${mode}.yaml`), mode).networking?.kubeProxyMode).to.equal(mode);
    });
  }

  it('bring-your-own-cni.yaml disables the default CNI (and only it does)', () => {
    for (const f of EXPECTED) {
      expect(load(read(f), f).networking?.disableDefaultCNI ?? false, f).to.equal(f === 'bring-your-own-cni.yaml');
    }
  });

  it('dual-stack.yaml is ipFamily dual with an IPv4 and an IPv6 pod and service subnet', () => {
    const n = load(read('dual-stack.yaml'), 'dual-stack.yaml').networking!;
    expect(n.ipFamily).to.equal('dual');
    for (const s of [n.podSubnet, n.serviceSubnet]) {
      expect(s, 'subnet').to.be.a('string');
      expect(s!.split(',').map(cidrFamily)).to.deep.equal([4, 6]);
    }
  });

  describe('the validator rejects what kind would reject', () => {
    const base = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  kubeProxyMode: iptables
nodes:
  - role: control-plane
  - role: worker
`;
    const errs = (text: string) => validateKindConfig(load(text, 'inline'));

    it('accepts the base document (so the rejections below are about the change)', () => {
      expect(errs(base)).to.deep.equal([]);
    });

    it('a typo in a top-level field', () => {
      expect(errs(base.replace('networking:', 'netwroking:')))
        .to.have.lengthOf(1)
        .and.to.match(/unknown field "netwroking"/);
    });

    it('a typo in a networking field', () => {
      expect(errs(base.replace('kubeProxyMode:', 'kubeProxyMod:'))).to.deep.equal([
        'networking: unknown field "kubeProxyMod" (kind v1alpha4 knows: ipFamily, apiServerPort, apiServerAddress, podSubnet, serviceSubnet, disableDefaultCNI, kubeProxyMode, dnsSearch)',
      ]);
    });

    it('a typo in a node field and a lower-case port-mapping protocol', () => {
      const bad = base.replace(
        '  - role: worker\n',
        '  - role: worker\n    extraPortMapping: []\n  - role: worker\n    extraPortMappings:\n      - containerPort: 5060\n        protocol: sctp\n',
      );
      const e = errs(bad);
      expect(e).to.have.lengthOf(2);
      expect(e[0]).to.match(/nodes\[1\]: unknown field "extraPortMapping"/);
      expect(e[1]).to.equal('nodes[2].extraPortMappings[0].protocol must be one of TCP|UDP|SCTP (upper case), got "sctp"');
    });

    it('an unknown kubeProxyMode, wrong apiVersion and an unknown role', () => {
      const e = errs(base.replace('iptables', 'userspace').replace('v1alpha4', 'v1alpha3').replace('role: worker', 'role: master'));
      expect(e).to.have.lengthOf(3);
      expect(e.join('\n'))
        .to.match(/apiVersion/)
        .and.match(/kubeProxyMode must be one of iptables\|nftables\|ipvs\|none, got "userspace"/)
        .and.match(/nodes\[1\]\.role/);
    });

    it('dual-stack with two IPv4 subnets, and single-stack with two', () => {
      expect(errs(base.replace('networking:\n', 'networking:\n  ipFamily: dual\n  podSubnet: 10.244.0.0/16,10.245.0.0/16\n'))).to.deep.equal([
        'networking.podSubnet: dual-stack needs one IPv4 and one IPv6 CIDR, got "10.244.0.0/16,10.245.0.0/16"',
      ]);
      expect(errs(base.replace('networking:\n', 'networking:\n  serviceSubnet: 10.96.0.0/16,fd00:10:96::/112\n'))).to.have.lengthOf(1);
    });

    it('a duplicate key is a YAML error, not a silent override', () => {
      const doc = parseDocument(base.replace('networking:\n', 'networking:\n  kubeProxyMode: ipvs\n'), { uniqueKeys: true });
      expect(doc.errors.map((x) => x.code)).to.include('DUPLICATE_KEY');
    });
  });

  describe('run-kind.sh', () => {
    const script = join(dir, 'run-kind.sh');

    it('passes bash -n', () => {
      execFileSync('bash', ['-n', script]); // throws with bash's message on a syntax error
    });

    it('names every config it documents and every command', () => {
      const text = readFileSync(script, 'utf8');
      for (const f of EXPECTED) expect(text, f).to.include(`kind-config/${f}`);
      for (const c of ['create', 'test', 'delete', 'periodic']) expect(text).to.match(new RegExp(`run-kind\\.sh ${c}\\b`));
      for (const x of ['kind load image-archive', '--node-access docker', '--junit', 'kind delete cluster']) expect(text).to.include(x);
    });

    it('rejects an unknown command and a missing config with exit 2 before needing kind', () => {
      const run = (...args: string[]) => {
        try {
          execFileSync('bash', [script, ...args], { stdio: 'pipe' });
          return { code: 0, err: '' };
        } catch (e) {
          const x = e as { status: number; stderr: Buffer };
          return { code: x.status, err: x.stderr.toString() };
        }
      };
      expect(run('bogus')).to.deep.equal({ code: 2, err: "run-kind.sh: unknown command 'bogus' (create, test, delete, periodic)\n" });
      const r = run('create', '--config', 'no-such.yaml');
      expect(r.code).to.equal(2);
      expect(r.err).to.match(/config file 'no-such\.yaml' does not exist/);
      expect(run('periodic').code).to.equal(2);
    });
  });
});
