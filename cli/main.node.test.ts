/** The `quorum` command as `npx quorum` runs it: bin/quorum.mjs through tsx, in a child process. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseVolunteerArgs, volunteerStateDir } from './volunteer/volunteerCommand.ts';
import { parseCoordinatorArgs } from './coordinator/coordinatorCommand.ts';

const BIN = fileURLToPath(new URL('../bin/quorum.mjs', import.meta.url));

function quorum(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the quorum command', () => {
  it('documents its commands with --help, and names what is wrong with a command line (exit 2)', async () => {
    const [help, bad] = await Promise.all([quorum('--help'), quorum('volunteer', '--network', 'default')]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: quorum <command>/);
    expect(help.stdout).toMatch(/quorum volunteer --server URL --network NAME \[--fp FP\] \[--count N\] \[--threads T\] \[--state DIR\]/);
    expect(help.stdout).toMatch(/quorum coordinator --network NAME --data DIR \[--serve\]/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--server is required/);
  });

  it('documents submit and results, and exits 1 with the reason when the job cannot be built (nothing is sent)', async () => {
    const [help, missing] = await Promise.all([
      quorum('--help'),
      quorum('submit', '--server', 'http://127.0.0.1:9', '--network', 'lab', '--key', 'k', '--out', 'o', '--model', '/nonexistent/m.onnx', '--inputs', 'x.npy'),
    ]);
    expect(help.stdout).toMatch(/quorum submit --server URL --network NAME --key KEY --out DIR/);
    expect(help.stdout).toMatch(/quorum results JOB --out DIR/);
    expect(help.stdout).toMatch(/--replication N {2}--quorum N/);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"/nonexistent/m.onnx" does not exist: check the path given to --model.');
  });

  it('reads the volunteer flags with their defaults, and refuses what it cannot use', () => {
    expect(parseVolunteerArgs(['--server', 'http://127.0.0.1:5173', '--network', 'lab'], 8)).toEqual({
      server: 'http://127.0.0.1:5173',
      network: 'lab',
      count: 1,
      threads: 8,
      stateRoot: '.quorum',
      fingerprint: null,
    });
    expect(parseVolunteerArgs(['--server=http://h:1', '--network=lab', '--count', '4', '--state', '/var/q'], 8)).toMatchObject({ count: 4, threads: 2 });
    expect(volunteerStateDir('.quorum', 'lab', 0)).toBe(path.join('.quorum', 'volunteer-lab-1'));
    expect(() => parseVolunteerArgs(['--server', 'http://h', '--network', 'lab', '--count', '0'])).toThrow(/--count must be a whole number from 1 to 256/);
    expect(() => parseVolunteerArgs(['--server', 'ftp://h', '--network', 'lab'])).toThrow(UsageError);
    expect(() => parseVolunteerArgs(['--server', 'http://h', '--network', 'lab', '--gpu'])).toThrow(/unknown option --gpu/);
  });

  it('[N-1] reads the coordinator flags (--serve takes no value) and refuses a command line it cannot run', async () => {
    expect(parseCoordinatorArgs(['--network', 'lab', '--data', '/srv/q', '--serve', '--port', '9000'])).toEqual({
      network: 'lab',
      dataDir: '/srv/q',
      serve: true,
      port: 9000,
    });
    expect(parseCoordinatorArgs(['--network=lab', '--data=d', '--server', 'http://h:1', '--metrics-port', '9100'])).toEqual({
      network: 'lab',
      dataDir: 'd',
      serve: false,
      server: 'http://h:1',
      metricsPort: 9100,
    });
    expect(() => parseCoordinatorArgs(['--data', 'd', '--serve'])).toThrow(/--network is required/);
    expect(() => parseCoordinatorArgs(['--network', 'lab', '--data', 'd'])).toThrow(/give --server URL .* or --serve/);
    expect(() => parseCoordinatorArgs(['--network', 'lab', '--data', 'd', '--serve', '--server', 'http://h'])).toThrow(/leave out --server/);
    expect(() => parseCoordinatorArgs(['--network', 'lab', '--data', 'd', '--serve', '--port', '70000'])).toThrow(/port number/);
    const bad = await quorum('coordinator', '--network', 'no spaces', '--data', '/tmp/x', '--serve', '--port', '0');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/quorum coordinator: .*network/i);
  });

  it("[N-5] [J-4] reads the coordinator page's job limits as flags (sizes in MiB), documents them, and refuses a value it cannot use (exit 2)", async () => {
    const base = ['--network', 'lab', '--data', 'd', '--serve'];
    expect(parseCoordinatorArgs([...base, '--max-model-mib', '64', '--max-inputs-mib=0.5', '--max-items', '5000'])).toMatchObject({
      jobLimits: { maxModelBytes: 64 * 1024 * 1024, maxInputBytes: 512 * 1024, maxItems: 5000 },
    });
    // Only the limits given: the others stay as saved (or the defaults).
    expect(parseCoordinatorArgs([...base, '--max-items', '10'])).toMatchObject({ jobLimits: { maxItems: 10 } });
    expect(parseCoordinatorArgs([...base, '--max-items', '10']).jobLimits).not.toHaveProperty('maxModelBytes');
    expect(parseCoordinatorArgs(base)).not.toHaveProperty('jobLimits');
    expect(() => parseCoordinatorArgs([...base, '--max-items', '2.5'])).toThrow(/--max-items must be a whole number from 1 to 10000000, not "2.5"/);
    expect(() => parseCoordinatorArgs([...base, '--max-items', '0'])).toThrow(/--max-items must be a whole number from 1/);
    expect(() => parseCoordinatorArgs([...base, '--max-model-mib', '300'])).toThrow(/--max-model-mib must be a size in MiB above 0 and at most 256/);
    expect(() => parseCoordinatorArgs([...base, '--max-inputs-mib', 'lots'])).toThrow(
      /--max-inputs-mib must be a size in MiB above 0 and at most 512, not "lots"/,
    );
    expect(() => parseCoordinatorArgs([...base, '--max-model-mib', '0'])).toThrow(/--max-model-mib must be a size in MiB above 0/);
    const [help, bad] = await Promise.all([
      quorum('coordinator', '--help'),
      quorum('coordinator', '--network', 'lab', '--data', '/tmp/never-made', '--serve', '--max-items', '-3'),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--max-model-mib M +the largest model a job may send, in MiB \(default 100, at most 256\)/);
    expect(help.stdout).toMatch(/--max-inputs-mib M +.*\(default 200, at most 512\)/);
    expect(help.stdout).toMatch(/--max-items N +.*\(default 1000000, at most 10000000\)/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/quorum: --max-items must be a whole number from 1 to 10000000, not "-3"/);
  });
});
