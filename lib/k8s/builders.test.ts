// A deep import of the client's own wire serializer (not re-exported by the package index)
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { expect } from 'chai';
import { endpointSlice, networkPolicy, pod, service } from './builders.ts';

// The client's serializer is what goes on the wire: check the manifests survive it with SCTP intact.
const wire = (type: string, o: unknown) => JSON.parse(JSON.stringify(ObjectSerializer.serialize(o, type))) as Record<string, any>;

describe('builders', () => {
  it('pod keeps an SCTP containerPort and hostPort', () => {
    const p = wire('V1Pod', pod({ name: 'p', image: 'img:1', ports: [{ protocol: 'SCTP', containerPort: 5060, hostPort: 5060 }] }));
    expect(p.spec.containers[0].ports).to.deep.equal([{ protocol: 'SCTP', containerPort: 5060, hostPort: 5060 }]);
  });

  it('service variants: headless, NodePort, externalIPs, targetPort', () => {
    const s = wire('V1Service', service({ name: 's', headless: true, ports: [{ name: 'sip', protocol: 'SCTP', port: 5060, targetPort: 5061 }] }));
    expect(s.spec.clusterIP).to.equal('None');
    expect(s.spec.ports[0]).to.include({ protocol: 'SCTP', port: 5060, targetPort: 5061, name: 'sip' });
    const n = wire('V1Service', service({ name: 'n', type: 'NodePort', externalIPs: ['10.199.0.50'], ports: [{ protocol: 'SCTP', port: 1 }] }));
    expect(n.spec.type).to.equal('NodePort');
    expect(n.spec.externalIPs).to.deep.equal(['10.199.0.50']);
  });

  it('network policy: from peers serialize as "from", ports keep SCTP', () => {
    const np = wire(
      'V1NetworkPolicy',
      networkPolicy({
        name: 'allow',
        podSelector: { pod: 'a' },
        ingress: [{ from: [{ namespaceSelector: { ns: 'y' } }], ports: [{ protocol: 'SCTP', port: 81 }] }],
      }),
    );
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels).to.deep.equal({ ns: 'y' });
    expect(np.spec.ingress[0].ports[0]).to.deep.equal({ protocol: 'SCTP', port: 81 });
    expect(np.spec.policyTypes).to.deep.equal(['Ingress']);
  });

  it('endpoint slice carries the service-name label and SCTP port', () => {
    const es = wire('V1EndpointSlice', endpointSlice({ name: 'e', serviceName: 's', addresses: ['10.0.0.1'], ports: [{ protocol: 'SCTP', port: 5060 }] }));
    expect(es.metadata.labels['kubernetes.io/service-name']).to.equal('s');
    expect(es.ports[0]).to.deep.equal({ name: '', protocol: 'SCTP', port: 5060 });
  });

  it('a pod limited to some nodes gets a required hostname affinity; nodeName wins over it', () => {
    const p = pod({ name: 'x', image: 'i', nodeNames: ['sctp-e2e-vm'] });
    expect(p.spec!.affinity!.nodeAffinity!.requiredDuringSchedulingIgnoredDuringExecution!.nodeSelectorTerms[0]!.matchExpressions).to.deep.equal([
      { key: 'kubernetes.io/hostname', operator: 'In', values: ['sctp-e2e-vm'] },
    ]);
    expect(pod({ name: 'x', image: 'i', nodeName: 'n1', nodeNames: ['vm'] }).spec!.affinity).to.equal(undefined);
    expect(pod({ name: 'x', image: 'i', nodeNames: [] }).spec!.affinity).to.equal(undefined);
  });

  it('dual-stack: Service ipFamilyPolicy/ipFamilies, an IPv6 EndpointSlice typed IPv6, an ipBlock peer alone in its peer', () => {
    const s = wire(
      'V1Service',
      service({ name: 's', ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'], ports: [{ protocol: 'SCTP', port: 5060 }] }),
    );
    expect(s.spec).to.deep.include({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] });
    const e6 = wire('V1EndpointSlice', endpointSlice({ name: 'e', serviceName: 's', addresses: ['fd00:244:1::5'], ports: [{ protocol: 'SCTP', port: 5060 }] }));
    expect(e6.addressType).to.equal('IPv6');
    const e4 = wire('V1EndpointSlice', endpointSlice({ name: 'e', serviceName: 's', addresses: ['10.244.1.5'], ports: [{ protocol: 'SCTP', port: 5060 }] }));
    expect(e4.addressType).to.equal('IPv4');
    const np = wire(
      'V1NetworkPolicy',
      networkPolicy({ name: 'n', ingress: [{ from: [{ ipBlock: { cidr: 'fd00:244:1::7/128' } }], ports: [{ protocol: 'SCTP', port: 5061 }] }] }),
    );
    expect(np.spec.ingress[0].from).to.deep.equal([{ ipBlock: { cidr: 'fd00:244:1::7/128' } }]);
  });
});
