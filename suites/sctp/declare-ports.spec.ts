// KEP-614 basic test: "Pods, Services, and NetworkPolicies can declare SCTP ports".
// Only the API: objects are created with protocol SCTP and read back unchanged. No SCTP packet is sent,
// and no container opens an SCTP socket.

import { describeE2E, expect, Tag, useE2E } from '../../lib/e2e.ts';

describeE2E('SCTP', [Tag.SCTP, Tag.LinuxOnly], () => {
  const f = useE2E('sctp-declare', { sctpModuleGuard: true });

  describe('Pods, Services, and NetworkPolicies can declare SCTP ports', () => {
    f.it('a Pod declares an SCTP containerPort and keeps it', async () => {
      await f.createPod({
        name: 'sctp-port',
        image: f.config.images.test,
        args: f.pauseArgs(),
        ports: [{ name: 'sip', protocol: 'SCTP', containerPort: 5060 }],
      });
      const p = await f.readPod('sctp-port');
      expect(p.spec?.containers[0]?.ports, 'ports read back from the API').to.deep.equal([{ name: 'sip', protocol: 'SCTP', containerPort: 5060 }]);
    });

    for (const variant of [
      { kind: 'ClusterIP', opts: {} },
      { kind: 'headless', opts: { headless: true } },
      { kind: 'NodePort', opts: { type: 'NodePort' as const } },
      { kind: 'externalIPs', opts: { externalIPs: ['192.0.2.10'] } },
      { kind: 'LoadBalancer', opts: { type: 'LoadBalancer' as const } },
    ]) {
      f.it(`a ${variant.kind} Service declares an SCTP port and keeps it`, async () => {
        const svc = await f.createService({
          name: `sctp-${variant.kind.toLowerCase()}`,
          selector: { app: 'none' },
          ports: [{ name: 'sip', protocol: 'SCTP', port: 5060, targetPort: 5061 }],
          ...variant.opts,
        });
        const back = await f.readService(svc.metadata!.name!);
        const port = back.spec?.ports?.[0];
        expect(port, `ports of ${variant.kind} Service ${f.ns}/${back.metadata?.name}`).to.include({
          name: 'sip',
          protocol: 'SCTP',
          port: 5060,
          targetPort: 5061,
        });
        if (variant.kind === 'headless') expect(back.spec?.clusterIP).to.equal('None');
        else expect(back.spec?.clusterIP, 'a ClusterIP was allocated').to.match(/^\d+\.\d+\.\d+\.\d+$|:/);
        if (variant.kind === 'NodePort' || variant.kind === 'LoadBalancer') {
          expect(port?.nodePort, `${variant.kind} Service got a nodePort for its SCTP port`).to.be.a('number').and.greaterThan(0);
        }
        if (variant.kind === 'externalIPs') expect(back.spec?.externalIPs).to.deep.equal(['192.0.2.10']);
      });
    }

    f.it('a Service without selector takes a hand-made EndpointSlice with an SCTP port', async () => {
      await f.createService({ name: 'sctp-noselector', ports: [{ name: 'sip', protocol: 'SCTP', port: 5060, targetPort: 5061 }] });
      await f.createEndpointSlice({
        name: 'sctp-noselector-1',
        serviceName: 'sctp-noselector',
        addresses: ['192.0.2.20'],
        ports: [{ name: 'sip', protocol: 'SCTP', port: 5061 }],
      });
      const slices = await f.endpointSlicesFor('sctp-noselector');
      expect(
        slices.map((s) => s.ports),
        'EndpointSlice ports read back',
      ).to.deep.equal([[{ name: 'sip', protocol: 'SCTP', port: 5061 }]]);
    });

    f.it('a NetworkPolicy declares SCTP ports (ingress and egress) and keeps them', async () => {
      await f.createNetworkPolicy({
        name: 'sctp-policy',
        podSelector: { app: 'sctp' },
        policyTypes: ['Ingress', 'Egress'],
        ingress: [
          {
            ports: [
              { protocol: 'SCTP', port: 5060 },
              { protocol: 'SCTP', port: 'sip' },
            ],
          },
        ],
        egress: [{ ports: [{ protocol: 'SCTP', port: 6000, endPort: 6010 }] }],
      });
      const np = await f.readNetworkPolicy('sctp-policy');
      expect(np.spec?.ingress?.[0]?.ports).to.deep.equal([
        { protocol: 'SCTP', port: 5060 },
        { protocol: 'SCTP', port: 'sip' },
      ]);
      expect(np.spec?.egress?.[0]?.ports).to.deep.equal([{ protocol: 'SCTP', port: 6000, endPort: 6010 }]);
    });

    f.it('EndpointSlices of a selector Service carry the SCTP port of a ready backend, and drop it when the pod goes', async () => {
      await f.createService({
        name: 'sctp-endpoints',
        selector: { app: 'sctp-backend' },
        ports: [{ name: 'sip', protocol: 'SCTP', port: 5060, targetPort: 5060 }],
      });
      await f.waitForEndpointSlices('sctp-endpoints', 'no endpoints before any backend', (s) => s.every((x) => !(x.endpoints ?? []).length));
      const pod = await f.runPod({
        name: 'backend',
        image: f.config.images.test,
        args: f.pauseArgs(),
        labels: { app: 'sctp-backend' },
        ports: [{ name: 'sip', protocol: 'SCTP', containerPort: 5060 }],
      });
      const ip = pod.status!.podIP!;
      const slices = await f.waitForEndpointSlices('sctp-endpoints', `ready endpoint ${ip} on port sip 5060/SCTP`, (s) =>
        s.some(
          (x) =>
            (x.ports ?? []).some((p) => p.protocol === 'SCTP' && p.port === 5060 && p.name === 'sip') &&
            (x.endpoints ?? []).some((ep) => ep.addresses.includes(ip) && ep.conditions?.ready),
        ),
      );
      expect(
        slices.flatMap((s) => s.ports ?? []).every((p) => p.protocol === 'SCTP'),
        'every EndpointSlice port is SCTP',
      ).to.equal(true);
      await f.deletePod('backend');
      await f.waitForEndpointSlices('sctp-endpoints', `endpoint ${ip} gone after the pod was deleted`, (s) =>
        s.every((x) => !(x.endpoints ?? []).some((ep) => ep.addresses.includes(ip))),
      );
    });
  });
});
