import { expect } from 'chai';
import {
  allocate,
  cidrsOverlap,
  DEFAULT_POOL,
  type Decision,
  decide,
  desiredIngress,
  inPool,
  LB_CLASS,
  parsePool,
  parseProtocols,
  type SvcView,
} from './pool.ts';

const svc = (name: string, o: Partial<SvcView> = {}): SvcView => ({
  namespace: 'ns',
  name,
  uid: `uid-${name}`,
  type: 'LoadBalancer',
  protocols: ['SCTP'],
  ingressIPs: [],
  created: `2026-11-22T10:00:0${name.length % 10}Z`,
  ...o,
});
const pool = parsePool('10.199.2.0/29'); // .1-.6
const st = { pool, rejectProtocols: new Set<string>() };
const brief = (ds: Decision[]) => ds.map((d) => `${d.svc.name}:${d.kind}${'ip' in d ? `:${d.ip}` : ''}${'ips' in d ? `:${d.ips.join(',')}` : ''}`);

describe('cluster/lb pool', () => {
  it('parses CIDRs (without network and broadcast) and ranges', () => {
    const p = parsePool(DEFAULT_POOL);
    expect([p.cidr, p.size]).to.deep.equal(['10.199.2.0/26', 62]);
    expect(inPool(p, '10.199.2.0')).to.equal(false);
    expect(inPool(p, '10.199.2.1')).to.equal(true);
    expect(inPool(p, '10.199.2.62')).to.equal(true);
    expect(inPool(p, '10.199.2.63')).to.equal(false);
    expect(inPool(p, 'not-an-ip')).to.equal(false);
    const r = parsePool('10.199.2.10-10.199.2.49');
    expect([r.cidr, r.size]).to.deep.equal(['10.199.2.0/26', 40]);
    expect(parsePool('10.199.2.7/32').size).to.equal(1);
  });

  it('rejects malformed pools with the reason', () => {
    expect(() => parsePool('10.199.2.1/26')).to.throw(/host bits are set/);
    expect(() => parsePool('10.199.2.9-10.199.2.1')).to.throw(/ends before it starts/);
    expect(() => parsePool('10.199.2.0/8')).to.throw(/16\.\.32/);
    expect(() => parsePool('foo')).to.throw(/neither/);
    expect(() => parsePool('10.199.2.300/32')).to.throw(/not an IPv4/);
  });

  it('knows which ranges overlap', () => {
    expect(cidrsOverlap('10.199.2.0/26', '10.199.0.0/24')).to.equal(false);
    expect(cidrsOverlap('10.199.2.0/26', '10.199.1.0/24')).to.equal(false);
    expect(cidrsOverlap('10.199.0.192/26', '10.199.0.0/24')).to.equal(true);
    expect(cidrsOverlap('10.0.0.0/8', '10.199.2.5/32')).to.equal(true);
  });

  it('allocates the lowest free address, honours a requested one, says when it cannot', () => {
    expect(allocate(pool, new Set())).to.deep.equal({ ip: '10.199.2.1' });
    expect(allocate(pool, new Set(['10.199.2.1', '10.199.2.2']))).to.deep.equal({ ip: '10.199.2.3' });
    expect(allocate(pool, new Set(), '10.199.2.5')).to.deep.equal({ ip: '10.199.2.5' });
    expect(allocate(pool, new Set(['10.199.2.5']), '10.199.2.5').note).to.match(/already assigned/);
    expect(allocate(pool, new Set(), '10.1.1.1').note).to.match(/not in the pool/);
    const full = new Set(['1', '2', '3', '4', '5', '6'].map((x) => `10.199.2.${x}`));
    expect(allocate(pool, full).note).to.match(/no free address in the pool 10\.199\.2\.0\/29 \(6 addresses/);
  });

  it('parses protocol lists', () => {
    expect([...parseProtocols('sctp, UDP')]).to.deep.equal(['SCTP', 'UDP']);
    expect(parseProtocols('').size).to.equal(0);
    expect(() => parseProtocols('QUIC')).to.throw(/unknown protocol "QUIC"/);
  });
});

describe('cluster/lb decide', () => {
  it('assigns every LoadBalancer Service an address, SCTP included, and keeps what is held', () => {
    const ds = decide([svc('a', { ingressIPs: ['10.199.2.1'] }), svc('bb', { protocols: ['TCP', 'SCTP'] }), svc('ccc', { protocols: ['UDP'] })], st);
    expect(brief(ds)).to.deep.equal(['a:keep:10.199.2.1', 'bb:assign:10.199.2.2', 'ccc:assign:10.199.2.3']);
    expect(desiredIngress(ds[1]!)).to.deep.equal([{ ip: '10.199.2.2', ipMode: 'VIP' }]);
    expect(desiredIngress(ds[0]!)).to.equal(undefined);
  });

  it('leaves other types and other load-balancer classes alone', () => {
    const ds = decide(
      [
        svc('a', { type: 'ClusterIP' }),
        svc('b', { type: 'NodePort' }),
        svc('c', { loadBalancerClass: 'example.com/other' }),
        svc('d', { loadBalancerClass: LB_CLASS }),
      ],
      st,
    );
    expect(brief(ds)).to.deep.equal(['d:assign:10.199.2.1']);
  });

  it('releases the address of a Service that is no longer of type LoadBalancer (and reuses it)', () => {
    const ds = decide([svc('a', { type: 'ClusterIP', ingressIPs: ['10.199.2.1', '192.0.2.9'] }), svc('bb')], st);
    expect(brief(ds)).to.deep.equal(['a:release:10.199.2.1', 'bb:assign:10.199.2.1']);
    expect(desiredIngress(ds[0]!)).to.deep.equal([{ ip: '192.0.2.9', ipMode: 'VIP' }]);
  });

  it('a deleted Service frees its address: it is simply not held any more', () => {
    expect(brief(decide([svc('bb')], st))).to.deep.equal(['bb:assign:10.199.2.1']);
  });

  it('settles a duplicate on the older Service and moves the younger one', () => {
    const ds = decide(
      [
        svc('young', { created: '2026-11-22T11:00:00Z', ingressIPs: ['10.199.2.1'] }),
        svc('old', { created: '2026-11-22T09:00:00Z', ingressIPs: ['10.199.2.1'] }),
      ],
      st,
    );
    expect(brief(ds)).to.deep.equal(['old:keep:10.199.2.1', 'young:assign:10.199.2.2']);
  });

  it('with rejected protocols: a Warning decision, nothing assigned, a held address released', () => {
    const rej = { pool, rejectProtocols: new Set(['SCTP']) };
    const ds = decide([svc('a'), svc('bb', { ingressIPs: ['10.199.2.4'] }), svc('ccc', { protocols: ['TCP'] })], rej);
    expect(brief(ds)).to.deep.equal(['a:reject', 'bb:reject', 'ccc:assign:10.199.2.1']);
    const r = ds[0] as Extract<Decision, { kind: 'reject' }>;
    expect(r.message).to.equal(
      'Error syncing load balancer: failed to ensure load balancer: SCTP not supported by this load balancer (allowed protocols: TCP, UDP)',
    );
    // What the e2e spec looks for in an Event to call it a provider rejecting SCTP.
    expect(`Warning SyncLoadBalancerFailed: ${r.message}`)
      .to.match(/fail|error|reject/i)
      .and.match(/sctp/i);
    expect(desiredIngress(ds[0]!)).to.equal(undefined);
    expect(desiredIngress(ds[1]!)).to.deep.equal([]);
  });

  it('reports an exhausted pool as pending', () => {
    const many = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'ggggggg'].map((n) => svc(n));
    const ds = decide(many, st);
    expect(ds.filter((d) => d.kind === 'assign')).to.have.length(6);
    const p = ds.find((d) => d.kind === 'pending') as Extract<Decision, { kind: 'pending' }>;
    expect(p.svc.name).to.equal('ggggggg');
    expect(p.message).to.match(/no free address/);
  });

  it('honours spec.loadBalancerIP in the pool', () => {
    expect(brief(decide([svc('a', { requestedIP: '10.199.2.6' }), svc('bb')], st))).to.deep.equal(['a:assign:10.199.2.6', 'bb:assign:10.199.2.1']);
  });
});
