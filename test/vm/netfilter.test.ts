// lib/node/netfilter readers against real kernel state in the kernel-lane VM (through lib/node/ssh.ts):
// IPVS SCTP virtual services (ipvsadm -Ln; IPVS is not built into the host kernel) and nftables rules
// with `meta l4proto sctp` / `sctp dport` in kube-proxy's nftables-mode shape (vm/kube-proxy-like.nft).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { nodeNetfilter } from '../../lib/node/netfilter/index.ts';
import { type Lane, must, openLane, REPO, skipWith } from './lane.ts';

const IPVS_SETUP = [
  'modprobe ip_vs',
  'ipvsadm -C',
  'ipvsadm -A --sctp-service 10.96.0.11:5060 -s rr',
  'ipvsadm -a --sctp-service 10.96.0.11:5060 -r 10.244.1.2:5061 -m -w 1',
  'ipvsadm -a --sctp-service 10.96.0.11:5060 -r 10.244.2.2:5061 -m -w 1',
  'ipvsadm -A --sctp-service 10.0.2.15:30060 -s rr',
  'ipvsadm -a --sctp-service 10.0.2.15:30060 -r 10.244.1.2:5061 -m -w 1',
  'ipvsadm -A -t 10.96.0.12:80 -s rr',
  'ipvsadm -a -t 10.96.0.12:80 -r 10.244.1.3:8080 -m -w 1',
].join(' && ');

describe('kernel lane: netfilter readers on real ipvs and nftables state in the VM (integration)', function () {
  this.timeout(120_000);
  let lane: Lane | undefined;

  before(async function () {
    const l = await openLane();
    if (typeof l === 'string') skipWith(this, l);
    lane = l;
  });
  after(async () => {
    await lane?.exec.close();
  });

  describe('ipvs (ipvsadm -Ln)', () => {
    before(async () => {
      await must(lane!.exec, IPVS_SETUP);
    });
    after(async () => {
      await lane?.exec.run('ipvsadm -C', { timeoutMs: 20_000 });
    });

    it('finds the SCTP ClusterIP virtual service and both real servers, and nothing TCP/UDP for it', async () => {
      const rules = await nodeNetfilter(lane!.exec, { mode: 'ipvs', timeoutMs: 20_000 }).serviceRules({ ip: '10.96.0.11', port: 5060 });
      console.log(
        rules
          .render()
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n'),
      );
      expect(rules.errors).to.deep.equal([]);
      expect(rules.sctp.map((r) => r.role)).to.deep.equal(['virtual-service', 'real-server', 'real-server']);
      expect(rules.sctp[0]!.text).to.match(/^SCTP\s+10\.96\.0\.11:5060 rr/);
      expect(rules.tcpOrUdp).to.deep.equal([]);
      expect(rules.dnatTargets).to.deep.equal(['10.244.1.2:5061', '10.244.2.2:5061']);
    });

    it('finds an SCTP NodePort by port and tells a TCP service apart', async () => {
      const nf = nodeNetfilter(lane!.exec, { mode: 'ipvs', timeoutMs: 20_000 });
      const np = await nf.serviceRules({ nodePort: 30060 });
      expect(np.sctp.map((r) => r.text)[0]).to.match(/^SCTP\s+10\.0\.2\.15:30060 rr/);
      expect(np.dnatTargets).to.deep.equal(['10.244.1.2:5061']);
      const tcp = await nf.serviceRules({ ip: '10.96.0.12', port: 80 });
      expect(tcp.sctp).to.deep.equal([]);
      expect(tcp.tcpOrUdp.map((r) => r.protocol)).to.deep.equal(['tcp', 'tcp']);
    });
  });

  describe('nftables (nft -j list ruleset)', () => {
    before(async () => {
      await lane!.exec.run('nft delete table ip kube-proxy 2>/dev/null; nft delete table inet sctp-e2e-filter 2>/dev/null; true');
      const nft = readFileSync(join(REPO, 'vm', 'kube-proxy-like.nft'), 'utf8');
      await must(lane!.exec, `nft -f - <<'SCTPE2E_EOF'\n${nft}\nSCTPE2E_EOF`);
    });
    after(async () => {
      await lane?.exec.run('nft delete table ip kube-proxy; nft delete table inet sctp-e2e-filter', { timeoutMs: 20_000 });
    });

    it('follows the service-ips verdict map to `meta l4proto sctp dnat to 10.244.1.2:5061`', async () => {
      const rules = await nodeNetfilter(lane!.exec, { mode: 'nftables', timeoutMs: 20_000 }).serviceRules({ ip: '10.96.0.11', port: 5060 });
      console.log(
        rules
          .render()
          .split('\n')
          .slice(0, 12)
          .map((l) => `      ${l}`)
          .join('\n'),
      );
      expect(rules.errors).to.deep.equal([]);
      expect(rules.tcpOrUdp).to.deep.equal([]);
      expect(rules.dnatTargets).to.deep.equal(['10.244.1.2:5061']);
      expect(rules.sctp.some((r) => r.role === 'element' && r.where === 'ip kube-proxy service-ips')).to.equal(true);
      expect(rules.sctp.some((r) => r.role === 'dnat' && /dnat/.test(r.text))).to.equal(true);
    });

    it('finds the SCTP NodePort element and nothing SCTP for the TCP service', async () => {
      const nf = nodeNetfilter(lane!.exec, { mode: 'nftables', timeoutMs: 20_000 });
      const np = await nf.serviceRules({ nodePort: 30060 });
      expect(np.sctp.some((r) => r.where === 'ip kube-proxy service-nodeports')).to.equal(true);
      expect(np.dnatTargets).to.deep.equal(['10.244.1.2:5061']);
      const tcp = await nf.serviceRules({ ip: '10.96.0.12', port: 80 });
      expect(tcp.sctp).to.deep.equal([]);
      expect(tcp.tcpOrUdp.length).to.be.greaterThan(0);
      expect(tcp.dnatTargets).to.deep.equal([]);
    });

    it('reads native `sctp dport` rules as hostPort-style rules (inet sctp-e2e-filter)', async () => {
      const hp = await nodeNetfilter(lane!.exec, { mode: 'nftables', timeoutMs: 20_000 }).hostPortRules({ port: 9999 });
      expect(hp.sctp.map((r) => r.where)).to.deep.equal(['inet sctp-e2e-filter input']);
      expect(hp.sctp[0]!.text).to.match(/sctp dport 9999/);
    });
  });
});
