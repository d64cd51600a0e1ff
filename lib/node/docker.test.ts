// Command construction only: no Docker engine on the project machine (kind cannot run here).
import { expect } from 'chai';
import { dockerArgv, dockerExec, dockerFailure } from './docker.ts';

describe('docker exec transport (construction only; no Docker engine here)', () => {
  it('passes the command as one sh -c argument, unquoted and unsplit', () => {
    expect(dockerArgv('kind-worker', "iptables-save -t nat | grep 'sctp'")).to.deep.equal([
      'exec',
      'kind-worker',
      'sh',
      '-c',
      "iptables-save -t nat | grep 'sctp'",
    ]);
  });
  it('uses the node name as the container name by default, and describes itself', () => {
    const e = dockerExec({ node: 'kind-control-plane', docker: 'docker' });
    expect(e.description).to.equal('docker exec kind-control-plane');
    expect(dockerExec({ node: 'n', container: 'c', docker: 'podman' }).description).to.equal('podman exec c');
  });
  it("tells docker's own failures from the command's exit code", () => {
    expect(dockerFailure(125, 'Error response from daemon: No such container: kind-worker\n')).to.equal(
      'Error response from daemon: No such container: kind-worker',
    );
    expect(dockerFailure(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n')).to.match(/^Cannot connect/);
    expect(dockerFailure(1, '')).to.equal(undefined); // grep found nothing: a normal exit
    expect(dockerFailure(127, 'sh: ipvsadm: not found\n')).to.equal(undefined);
  });
});
