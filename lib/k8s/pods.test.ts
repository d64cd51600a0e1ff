// The wait's image-pull classification on pods as the API returns them (lib/k8s/testdata/pod-errimagepull.json).

import { readFileSync } from 'node:fs';
import type * as k8s from '@kubernetes/client-node';
import { expect } from 'chai';
import type { Cluster } from './client.ts';
import { describePod, IMAGE_PULL_FAILURES, imagePullFailure, waitForPodReady } from './pods.ts';

const captured = (): k8s.V1Pod => JSON.parse(readFileSync('lib/k8s/testdata/pod-errimagepull.json', 'utf8')) as k8s.V1Pod;

describe('imagePullFailure', () => {
  it("ErrImagePull: names the image as the spec has it, the node, the pod and the kubelet's message", () => {
    expect(imagePullFailure(captured())).to.equal(
      'image mirror.example/e2e-test-images/agnhost:2.56 cannot be pulled on node sctp-e2e-worker2 (pod sctp-svc-7k2lq/backend, container c): ' +
        'ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "mirror.example/e2e-test-images/agnhost:2.56": ' +
        'failed to resolve reference "mirror.example/e2e-test-images/agnhost:2.56": mirror.example/e2e-test-images/agnhost:2.56: not found; ' +
        'load the image into the nodes, or mirror it and pass --image-repo/--image-repo-list (`npm run e2e -- --list-images` lists what a run needs)',
    );
  });

  it('every pull-failure reason ends the wait, whatever the message says (a back-off is not worth waiting out)', () => {
    for (const reason of IMAGE_PULL_FAILURES) {
      const p = captured();
      p.status!.containerStatuses![0]!.state = { waiting: { reason, message: `Back-off pulling image "x"` } };
      expect(imagePullFailure(p), reason).to.match(new RegExp(`on node sctp-e2e-worker2 .*: ${reason}: Back-off pulling image "x"; `));
    }
  });

  it('a pull failure of an init container counts; a missing message and an unscheduled pod are said so', () => {
    const p = captured();
    p.spec!.nodeName = undefined;
    p.spec!.initContainers = [{ name: 'init', image: 'registry.local/agnhost-sctp:0.1.0' }];
    p.status!.initContainerStatuses = [
      {
        name: 'init',
        image: 'registry.local/agnhost-sctp:0.1.0',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { waiting: { reason: 'ErrImageNeverPull' } },
      },
    ];
    expect(imagePullFailure(p)).to.match(
      /^image registry\.local\/agnhost-sctp:0\.1\.0 cannot be pulled on node \(no node\) \(pod sctp-svc-7k2lq\/backend, container init\): ErrImageNeverPull: \(the kubelet gave no message\); /,
    );
  });

  it('a container still being created, or running, is not a pull failure', () => {
    const creating = captured();
    creating.status!.containerStatuses![0]!.state = { waiting: { reason: 'ContainerCreating' } };
    expect(imagePullFailure(creating)).to.equal(undefined);
    const running = captured();
    running.status!.containerStatuses![0]!.state = { running: { startedAt: new Date() } };
    expect(imagePullFailure(running)).to.equal(undefined);
    const noStatus = captured();
    delete noStatus.status!.containerStatuses;
    expect(imagePullFailure(noStatus)).to.equal(undefined);
  });

  it('describePod, printed under it, shows the same waiting state', () => {
    expect(describePod(captured())).to.match(
      /^pod sctp-svc-7k2lq\/backend phase=Pending node=sctp-e2e-worker2 ip=10\.244\.2\.7; c: waiting ErrImagePull \(rpc error: code = NotFound/,
    );
  });
});

describe('waitForPodReady on a pod whose image is missing', () => {
  it('ends at the first observation with the pull failure, not at the podStart deadline', async () => {
    let reads = 0;
    const c = {
      core: {
        readNamespacedPod: async () => {
          reads++;
          return captured();
        },
      },
    } as unknown as Cluster;
    const started = Date.now();
    const err = await waitForPodReady(c, 'sctp-svc-7k2lq', 'backend', 60_000).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.contain('image mirror.example/e2e-test-images/agnhost:2.56 cannot be pulled on node sctp-e2e-worker2');
    expect(err?.message).to.contain('pod sctp-svc-7k2lq/backend phase=Pending node=sctp-e2e-worker2');
    expect(reads).to.equal(1);
    expect(Date.now() - started).to.be.below(5_000);
  });
});
