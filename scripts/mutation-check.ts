/**
 * `npx tsx scripts/mutation-check.ts [--only R-6,L-9] [--json out.json]`
 *
 * Do the tests notice when a rule stops being enforced? Each entry below disables one rule's key
 * line (replaces exact, unique pieces of one file), runs the vitest files that should catch it,
 * and restores the file, whatever happens. A mutation is *caught* when vitest fails; one that
 * *survives* is a rule no test checks. Prints a table; the last line is one JSON object.
 *
 * The edits are made in the working tree, one at a time: do not run this beside a build or a test
 * run of the same checkout. An interrupted run (Ctrl-C) still restores the file it changed; a
 * vitest run that hangs (a mutation that loops) is stopped after `TEST_RUN_LIMIT_MS` and counts as
 * caught. Each file is read back after its restore, and the run ends by comparing `git status`
 * with how it found the tree: a run that leaves the tree otherwise says so and exits 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorMessage } from '../src/protocol/errorMessage.ts';
import { cliArgs } from './lib/measureCli.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** One mutation's vitest run longer than this hangs (every test file has a 60 s limit per test). */
const TEST_RUN_LIMIT_MS = 5 * 60_000;

export interface Edit {
  readonly find: string;
  readonly replace: string;
}

export interface Mutation {
  /** The SPEC.md rule id the line enforces. */
  readonly rule: string;
  /** What the mutation does, in a few words. */
  readonly what: string;
  /** Relative to the repository root. */
  readonly file: string;
  /** Each `find` must occur exactly once in the file; all are replaced (a rule may be guarded twice). */
  readonly edits: readonly Edit[];
  /** Test files or folders to run (vitest filters), relative to the repository root. */
  readonly tests: readonly string[];
}

const CORE = ['src/core/coordinator', 'src/core/verification', 'src/core/volunteer', 'src/core/simulation.test.ts'];

export const MUTATIONS: readonly Mutation[] = [
  {
    rule: 'R-6',
    what: 'late results are not judged',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: 'this.judgement.judgeLateResult(state.id, msg, shard, this.jobs.policyOf(job), now);', replace: 'void this.judgement;' }],
    tests: CORE,
  },
  {
    rule: 'L-9',
    what: 'the waiting set is not reset after a nudge',
    file: 'src/core/coordinator/volunteerNotices.ts',
    edits: [{ find: '    this.waitingForWork.clear();\n  }\n}', replace: '  }\n}' }],
    tests: CORE,
  },
  {
    rule: 'W-6',
    what: 'chunks off the grid are accepted',
    file: 'src/core/volunteer/modelDownload.ts',
    edits: [{ find: 'if (offset % this.chunkBytes !== 0 || offset >= this.total) {', replace: 'if (offset >= this.total) {' }],
    tests: CORE,
  },
  {
    rule: 'L-5',
    what: 'model bytes are sent again for the same lease',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: 'const unsent = needing.filter((id) => !this.modelSent.has(id));', replace: 'const unsent = needing;' }],
    tests: CORE,
  },
  {
    rule: 'B-6',
    what: 'no hello deadline',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: 'if (peer.role === null && now - peer.connectedAtMs > this.budgets.helloTimeoutMs) {', replace: 'if (peer.role === null && now < 0) {' }],
    tests: CORE,
  },
  {
    rule: 'R-7',
    what: 'results are not checked against the output signature',
    file: 'src/core/coordinator/shardChecks.ts',
    edits: [{ find: '(job.outputSignature ? checkOutputSignature(result.outputs, job.outputSignature) : null)', replace: 'null' }],
    tests: CORE,
  },
  {
    rule: 'R-2',
    what: 'a volunteer may add a second replica of one shard',
    file: 'src/core/coordinator/shardChecks.ts',
    edits: [
      {
        find: 'if ((replicas[i] as Replica).volunteer === volunteer) return true;',
        replace: 'if ((replicas[i] as Replica).volunteer === volunteer) return false;',
      },
    ],
    tests: CORE,
  },
  {
    rule: 'X-2',
    what: 'a quarantined volunteer is leased work',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: 'if (this.reputation.isQuarantined(state.id)) {\n      // [X-5] One that may be lifted',
        replace: 'if (state.id.length < 0) {\n      // [X-5] One that may be lifted',
      },
    ],
    tests: CORE,
  },
  {
    rule: 'V-3',
    what: 'allclose scales by |y| only',
    file: 'src/core/verification/compare.ts',
    edits: [{ find: 'const tol = atol + rtol * Math.max(Math.abs(xi), Math.abs(yi));', replace: 'const tol = atol + rtol * Math.abs(yi);' }],
    tests: CORE,
  },
  {
    rule: 'O-1',
    what: "an observer's lease-request is handled (both guards off)",
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: '      return this.flush();\n    }\n    switch (msg.t) {',
        replace: "      if (msg.t === 'submit-job') return this.flush();\n    }\n    switch (msg.t) {",
      },
      {
        find: "    if (state.role !== 'volunteer') {\n      this.log('warn', `${state.role} ${state.id} asked for a lease",
        replace: "    if (state.role === 'requester') {\n      this.log('warn', `${state.role} ${state.id} asked for a lease",
      },
    ],
    tests: [...CORE, 'src/host/observerTelemetry.test.ts'],
  },
  {
    rule: 'V-8',
    what: 'the default tolerance is ten times looser',
    file: 'src/protocol/policy.ts',
    edits: [
      {
        find: "DEFAULT_COMPARATOR: Comparator = { kind: 'allclose', atol: 1e-4, rtol: 1e-3 }",
        replace: "DEFAULT_COMPARATOR: Comparator = { kind: 'allclose', atol: 1e-3, rtol: 1e-2 }",
      },
    ],
    tests: [...CORE, 'src/protocol'],
  },
  {
    rule: 'I-2',
    what: "a volunteer's key proof is not checked",
    file: 'src/host/volunteerKey.ts',
    edits: [{ find: 'if (!(await verifyBytes(key, sig, volunteerProofPayload(ctx)))) {', replace: "if (key === '') {" }],
    tests: ['src/host/volunteerKey.test.ts', 'src/host/coordinatorHost.volunteerKeys.test.ts'],
  },
  {
    rule: 'I-2',
    what: "a known id is served to another volunteer's key",
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: "const ownsIt = known === undefined || known === credential || (!known.startsWith(KEY_CREDENTIAL) && secretsEqual(msg.resume ?? '', known));",
        replace: 'const ownsIt = true;',
      },
    ],
    tests: ['src/core/coordinator/volunteerKeys.test.ts'],
  },
  {
    rule: 'I-3',
    what: "a result's signature is not checked",
    file: 'src/host/volunteerKey.ts',
    edits: [{ find: 'if (!(await verifyBytes(publicKey, sig, resultPayload(subject))))', replace: "if (sig === '')" }],
    tests: ['src/host/volunteerKey.test.ts', 'src/host/coordinatorHost.volunteerKeys.test.ts'],
  },
  {
    rule: 'J-11',
    what: 'results go to a requester without the key',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '    if (!state.ownsJobs) {', replace: '    if (state.id.length < 0) {' }],
    tests: ['src/core/coordinator/jobOwnership.test.ts'],
  },
  {
    rule: 'J-12',
    what: 'a rotation leaves connected requesters their proof',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '    for (const peer of this.peers.values()) peer.ownsJobs = false;\n', replace: '' }],
    tests: ['src/core/coordinator/jobOwnership.test.ts'],
  },
  {
    rule: 'B-12',
    what: "a requester without the key gets a submission's allowance",
    file: 'src/host/coordinatorHost.ts',
    edits: [
      {
        find: "this.endpoint?.greeted(peer, role === 'requester' && !this.core.ownsJobs(peer) ? 'volunteer' : role);",
        replace: 'this.endpoint?.greeted(peer, role);',
      },
    ],
    tests: ['src/host/coordinatorHost.owners.node.test.ts'],
  },
  {
    rule: 'AU-1',
    what: 'canonical JSON keeps keys in insertion order',
    file: 'src/protocol/canonicalJson.ts',
    edits: [{ find: '      .filter((k) => record[k] !== undefined)\n      .sort();', replace: '      .filter((k) => record[k] !== undefined);' }],
    tests: ['src/protocol/canonicalJson.test.ts', 'src/protocol/receipt.test.ts'],
  },
  {
    rule: 'AU-2',
    what: 'a proof with extra hashes is accepted',
    file: 'src/protocol/merkle.ts',
    edits: [{ find: 'return used === proof.length ? hash : null;', replace: 'return hash;' }],
    tests: ['src/protocol/merkle.test.ts'],
  },
  {
    rule: 'AU-3',
    what: 'results go out without their receipt',
    file: 'src/host/coordinatorHost.ts',
    edits: [{ find: '.then((receipt) => this.endpoint?.send(to, receipt ? { ...msg, receipt } : msg))', replace: '.then(() => this.endpoint?.send(to, msg))' }],
    tests: ['src/host/coordinatorHost.receipts.node.test.ts'],
  },
  {
    rule: 'AU-4',
    what: 'a receipt by another key than the pinned one verifies',
    file: 'src/protocol/receiptCheck.ts',
    edits: [
      {
        find: 'if (deps.expectedFingerprint !== null && fingerprint !== deps.expectedFingerprint) {',
        replace: "if (deps.expectedFingerprint === '') {",
      },
    ],
    tests: ['src/host/receiptSigner.test.ts', 'src/protocol/receipt.test.ts'],
  },
  {
    rule: 'AU-5',
    what: 'a re-opened job is not fetched again once done',
    file: 'src/host/requesterHost.ts',
    edits: [{ find: '      if (!j.done) this.fetched.delete(j.jobId);\n', replace: '' }],
    tests: ['src/host/requesterHost.test.ts'],
  },
  {
    rule: 'AU-6',
    what: 'the JSON export of tensors drops its receipt',
    file: 'src/workloads/export/exporters.ts',
    edits: [{ find: '  yield* receiptAtoms(r);\n', replace: '' }],
    tests: ['src/host/receiptSigner.test.ts', 'src/workloads/export/export.test.ts'],
  },
  {
    rule: 'K-7',
    what: 'another key may claim a reserved coordinator id',
    file: 'server/coordinatorIds.ts',
    edits: [{ find: 'if (reserved !== null && reserved !== fingerprint) {', replace: "if (reserved === '') {" }],
    tests: ['server/coordinatorIds.test.ts'],
  },
  {
    rule: 'E-1',
    what: 'constructions past the limit are not refused',
    file: 'src/transport/pageConnections.ts',
    edits: [{ find: '          if (used >= limit) {', replace: '          if (used < 0) {' }],
    tests: ['src/transport/pageConnections.test.ts'],
  },
  {
    rule: 'E-2',
    what: 'the count is not kept across reloads',
    file: 'src/transport/pageConnections.ts',
    edits: [{ find: '          write(COUNT_KEY, String(used));\n', replace: '' }],
    tests: ['src/transport/pageConnections.test.ts'],
  },
  {
    rule: 'E-3',
    what: 'no early warning, only when spent',
    file: 'src/core/connectionBudget.ts',
    edits: [{ find: 'const warnAt = Math.floor(safeLimit * BUDGET_WARN_SHARE);', replace: 'const warnAt = safeLimit;' }],
    tests: ['src/core/connectionBudget.test.ts'],
  },
  {
    rule: 'E-4',
    what: 'an absent coordinator is dialed anyway',
    file: 'src/host/coordinatorLink.ts',
    edits: [
      {
        find: "if (answer.kind === 'absent' || answer.kind === 'slow-down') return this.waitForCoordinator(answer);",
        replace: "if (answer.kind === 'slow-down') return this.waitForCoordinator(answer);",
      },
    ],
    tests: ['src/host/coordinatorLink.presence.test.ts'],
  },
  {
    rule: 'P-8',
    what: 'chunks of a frame still arriving are no sign of life (core)',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '    state.lastSeenMs = Math.max(state.lastSeenMs, now);\n  }\n\n  /** [B-3]', replace: '  }\n\n  /** [B-3]' }],
    tests: ['src/core/coordinator/liveness.test.ts'],
  },
  {
    rule: 'P-8',
    what: 'the coordinator host does not pass chunk progress to the core',
    file: 'src/host/coordinatorHost.ts',
    edits: [{ find: 'progress: (peer) => this.core.heard(peer, this.now()),', replace: 'progress: () => undefined,' }],
    tests: ['src/host/coordinatorHost.liveness.test.ts'],
  },
  {
    rule: 'B-13',
    what: 'one-chunk frames wait behind big ones',
    file: 'src/transport/chunker.ts',
    edits: [{ find: '(m.count === 1 ? this.urgent : this.queue).push(m);', replace: 'this.queue.push(m);' }],
    tests: ['src/transport/chunker.test.ts'],
  },
  {
    rule: 'J-13',
    what: 'unanswered submissions are not sent on the next connection',
    file: 'src/host/requesterClient.ts',
    edits: [{ find: '          this.hello(requesterKey());\n          this.sendUnanswered();\n', replace: '          this.hello(requesterKey());\n' }],
    tests: ['src/host/requesterClient.test.ts', 'src/host/requesterHost.test.ts'],
  },
  {
    rule: 'N-6',
    what: 'a big write is one transaction',
    file: 'src/persistence/sqliteCoordinatorStore.node.ts',
    edits: [{ find: 'while (!next.done && (bytes === 0 || bytes + next.value.bytes <= this.chunkBytes)) {', replace: 'while (!next.done) {' }],
    tests: ['src/persistence/sqliteCoordinatorStore.node.test.ts'],
  },
  {
    rule: 'X-5',
    what: 'strikes are never reviewed',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '    this.judgement.reviewStrikes(state.id);\n', replace: '' }],
    tests: ['src/core/coordinator/verification.test.ts', 'src/core/sim/smallNetwork.test.ts'],
  },
  {
    rule: 'S-3',
    what: 'a failed write is dropped',
    file: 'src/host/storageWriteQueue.ts',
    edits: [
      { find: '          this.keep({ op, what, at });\n          this.fail(what, err);', replace: '          this.fail(what, err);' },
      { find: '        this.keep({ op, what, at });\n        this.fail(what, err);', replace: '        this.fail(what, err);' },
    ],
    tests: ['src/host/storageWriteQueue.test.ts'],
  },
  {
    rule: 'S-3',
    what: 'volunteers are leased work while storage fails',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: 'state.leases.size >= this.config.maxLeasesPerVolunteer || this.storageProblem !== null) {',
        replace: 'state.leases.size >= this.config.maxLeasesPerVolunteer) {',
      },
    ],
    tests: ['src/core/coordinator/durability.test.ts', 'src/core/coordinator/coordinator.test.ts'],
  },
  {
    rule: 'I-2',
    what: "the proof does not cover the connection's DTLS fingerprints",
    file: 'src/protocol/volunteerProof.ts',
    edits: [{ find: 'ctx.peerId, ctx.dtls.coordinator, ctx.dtls.client]', replace: 'ctx.peerId]' }],
    tests: ['src/host/volunteerKey.test.ts'],
  },
  {
    rule: 'I-2',
    what: "a volunteer's later frames do not wait behind its check",
    file: 'src/host/volunteerGate.ts',
    edits: [{ find: 'if (waiting === undefined && !needsCheck) {', replace: 'if (!needsCheck) {' }],
    tests: ['src/host/volunteerKey.test.ts', 'src/host/coordinatorHost.volunteerKeys.test.ts'],
  },
  {
    rule: 'I-2',
    what: 'frames checked for a closed connection are still delivered',
    file: 'src/host/volunteerGate.ts',
    edits: [{ find: '        if ((this.epochs.get(peer) ?? 0) !== epoch) return; // forgotten: that connection is gone\n', replace: '' }],
    tests: ['src/host/volunteerKey.test.ts', 'src/host/coordinatorHost.volunteerKeys.test.ts'],
  },
  {
    rule: 'I-3',
    what: 'a result signed by another key than the one proved counts',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '!(checked?.ok === true && checked.publicKey === state.volunteerKey)', replace: '!(checked?.ok === true)' }],
    tests: ['src/core/coordinator/volunteerKeys.test.ts'],
  },
  {
    rule: 'J-11',
    what: 'a hello with a wrong key leaves an earlier proof',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: "if (msg.role === 'requester') state.ownsJobs = this.keyProves(msg.requesterKey);",
        replace: "if (msg.role === 'requester' && this.keyProves(msg.requesterKey)) state.ownsJobs = true;",
      },
    ],
    tests: ['src/core/coordinator/jobOwnership.test.ts'],
  },
  {
    rule: 'J-12',
    what: 'an empty key is taken as a rotation',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: "    if (key === '') throw new Error('a rotated requester key cannot be empty",
        replace: "    if (key === '#') throw new Error('a rotated requester key cannot be empty",
      },
    ],
    tests: ['src/core/coordinator/jobOwnership.test.ts'],
  },
  {
    rule: 'B-12',
    what: 'the requester does not prove a new key before submitting under it',
    file: 'src/host/requesterClient.ts',
    edits: [{ find: "    if (this.proven && spec.requesterKey !== '' && spec.requesterKey !== this.helloKey) this.hello(spec.requesterKey);\n", replace: '' }],
    tests: ['src/host/requesterClient.test.ts', 'src/host/requesterKeyProof.node.test.ts'],
  },
  {
    rule: 'B-12',
    what: "a rotation leaves the old key's tabs their allowance",
    file: 'src/host/coordinatorHost.ts',
    edits: [{ find: '    for (const peer of proven) this.greet(peer);\n', replace: '' }],
    tests: ['src/host/coordinatorHost.owners.node.test.ts'],
  },
  {
    rule: 'AU-1',
    what: 'float32 NaN payload bits count',
    file: 'src/protocol/receipt.ts',
    edits: [
      {
        find: '    for (let at = 0; at < size; at += 4) if (Number.isNaN(view.getFloat32(at, true))) view.setUint32(at, 0x7fc00000, true);',
        replace: '    void view;',
      },
    ],
    tests: ['src/protocol/receipt.test.ts'],
  },
  {
    rule: 'AU-2',
    what: 'an odd last node is paired with itself',
    file: 'src/protocol/merkle.ts',
    edits: [{ find: ': (level[i] as Uint8Array));', replace: ': await nodeHash(digest, level[i] as Uint8Array, level[i] as Uint8Array));' }],
    tests: ['src/protocol/merkle.test.ts'],
  },
  {
    rule: 'AU-3',
    what: 'the receipt is signed without its label',
    file: 'src/protocol/receipt.ts',
    edits: [{ find: 'return utf8(RECEIPT_LABEL + canonicalJson(body));', replace: 'return utf8(canonicalJson(body));' }],
    tests: ['src/protocol/receipt.test.ts', 'src/host/receiptSigner.test.ts'],
  },
  {
    rule: 'AU-4',
    what: 'an export shard without a leaf passes',
    file: 'src/protocol/receiptCheck.ts',
    edits: [{ find: '    if (!seen.has(s.shard)) problems.push(', replace: '    if (s.shard < 0) problems.push(' }],
    tests: ['src/host/receiptSigner.test.ts', 'src/protocol/receipt.test.ts'],
  },
  {
    rule: 'AU-4',
    what: 'volunteer signatures in a receipt are not checked',
    file: 'src/protocol/receiptCheck.ts',
    edits: [{ find: 'if (!(await deps.verifySignature(v.key, v.sig, payload))) {', replace: "if (v.sig === '') {" }],
    tests: ['src/host/receiptSigner.test.ts'],
  },
  {
    rule: 'K-7',
    what: 'a nonce may be used twice',
    file: 'server/coordinatorIds.ts',
    edits: [{ find: '      nonces.delete(nonce);\n', replace: '' }],
    tests: ['server/coordinatorIds.test.ts'],
  },
  {
    rule: 'K-7',
    what: 'a ticket for one id registers another',
    file: 'server/coordinatorIds.ts',
    edits: [{ find: 'if (!ticket || ticket.id !== id) {', replace: 'if (!ticket) {' }],
    tests: ['server/coordinatorIds.test.ts'],
  },
  {
    rule: 'E-2',
    what: 'a page with no construction left still dials',
    file: 'src/transport/pageConnections.ts',
    edits: [{ find: 'canConstruct: () => used < limit,', replace: 'canConstruct: () => true,' }],
    tests: ['src/transport/pageConnections.test.ts'],
  },
  {
    rule: 'P-8',
    what: 'chunks before hello are a sign of life',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [
      {
        find: 'if (state === undefined || state.role === null || this.closing.has(peer)) return;\n    state.lastSeenMs',
        replace: 'if (state === undefined) return;\n    state.lastSeenMs',
      },
    ],
    tests: ['src/core/coordinator/liveness.test.ts'],
  },
  {
    rule: 'P-8',
    what: "a client does not count its coordinator's chunks as life",
    file: 'src/host/coordinatorLink.ts',
    edits: [{ find: 'if (live(peer) && this.connected) this.lastFrameAt = Date.now();', replace: 'void live;' }],
    tests: ['src/host/coordinatorLink.test.ts'],
  },
  {
    rule: 'J-13',
    what: 'a submission sent on a connection that closed waits forever',
    file: 'src/host/requesterClient.ts',
    edits: [{ find: '          for (const [ref, u] of this.unanswered) this.awaitConnection(ref, u);\n', replace: '' }],
    tests: ['src/host/requesterClient.test.ts', 'src/host/requesterHost.test.ts'],
  },
  {
    rule: 'N-6',
    what: 'pieces of a write cut short are not swept at open',
    file: 'src/persistence/sqliteCoordinatorStore.node.ts',
    edits: [{ find: '    if (migrations === MIGRATIONS) sweepUnnamedPieces(db);\n', replace: '' }],
    tests: ['src/persistence/sqliteCoordinatorStore.node.test.ts'],
  },
  {
    rule: 'X-5',
    what: 'a withdrawn strike does not lift the quarantine',
    file: 'src/core/coordinator/judgement.ts',
    edits: [
      {
        find: 'if (this.reputation.isQuarantined(peer) && !struckOut) this.hooks.lift(peer, reason);',
        replace: 'if (peer.length < 0) this.hooks.lift(peer, reason);',
      },
    ],
    tests: ['src/core/coordinator/verification.test.ts'],
  },
  {
    rule: 'S-3',
    what: 'submissions are admitted while storage fails',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '    if (this.storageProblem !== null) return reject(STORAGE_REJECT_REASON); // [S-3]\n', replace: '' }],
    tests: ['src/core/coordinator/durability.test.ts'],
  },
  {
    rule: 'A-6',
    what: 'a debtor with no canary left is never audited',
    file: 'src/core/coordinator/coordinator.ts',
    edits: [{ find: '        if (audit) this.decider.reopenForAudit(audit, now);\n', replace: '' }],
    tests: ['src/core/coordinator/verification.test.ts'],
  },
  {
    rule: 'N-7',
    what: 'no group commit: one transaction per write',
    file: 'src/persistence/sqliteCoordinatorStore.node.ts',
    edits: [
      {
        find: '    if (next.done === true && this.groupCommit) return this.joinGroup(first, plan);',
        replace: '    if (next.done === true && this.groupCommit && this.chunkBytes < 0) return this.joinGroup(first, plan);',
      },
    ],
    tests: ['src/persistence/sqliteGroupCommit.node.test.ts'],
  },
  {
    rule: 'K-8',
    what: 'a claimed coordinator socket gets the ordinary budget',
    file: 'server/signalingGuard.ts',
    edits: [
      {
        find: "const budget = claimed && id !== null && id !== '' ? coordinatorBudget(id, ws) : socketBudget();",
        replace: "const budget = claimed && id !== null && id !== '' && id === '' ? coordinatorBudget(id, ws) : socketBudget();",
      },
    ],
    tests: ['server/coordinatorSignalingBudget.test.ts'],
  },
  {
    rule: 'C-4',
    what: 'an outvote by an answer not yet established kills the outvoted volunteer’s answers at once',
    file: 'src/core/verification/canaries.ts',
    edits: [
      { find: 'if (small ? r.invalid - this.contested(v) !== s.settledAt[i] : r.invalid !== s.invalidAt[i])', replace: 'if (r.invalid !== s.invalidAt[i])' },
    ],
    tests: ['src/core/verification/canaries.test.ts'],
  },
];

export interface Outcome {
  readonly rule: string;
  readonly what: string;
  readonly file: string;
  readonly caught: boolean;
  /** Failed test names vitest reported (at most a few), or why the mutation could not be applied. */
  readonly detail: string;
  readonly seconds: number;
}

/** `text` with `m`'s edits made; throws when a `find` is not exactly once in it (the code moved on). */
function mutate(m: Mutation, text: string): string {
  let mutated = text;
  for (const e of m.edits) {
    const at = mutated.indexOf(e.find);
    if (at < 0 || mutated.indexOf(e.find, at + 1) >= 0) {
      throw new Error(`[${m.rule}] "${e.find.slice(0, 60)}…" must occur exactly once in ${m.file}: update the mutation list`);
    }
    mutated = mutated.slice(0, at) + e.replace + mutated.slice(at + e.find.length);
  }
  return mutated;
}

/** Why each of `chosen` cannot be made in today's tree (empty when all can): checked before any runs. */
export function staleMutations(chosen: readonly Mutation[]): string[] {
  const problems: string[] = [];
  for (const m of chosen) {
    try {
      mutate(m, fs.readFileSync(path.join(root, m.file), 'utf8'));
    } catch (e) {
      problems.push(errorMessage(e));
    }
    for (const t of m.tests) if (!fs.existsSync(path.join(root, t))) problems.push(`[${m.rule}] test path ${t} does not exist: update the mutation list`);
  }
  return problems;
}

/**
 * Runs vitest on `tests` in a process group of its own, so that a run past `limitMs` (a mutation
 * that loops) is stopped whole: its test workers too, which would otherwise keep spinning.
 */
function runVitest(
  tests: readonly string[],
  limitMs: number,
  onStart: (stop: () => void) => void,
): Promise<{ status: number | null; stdout: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(path.join(root, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=json', ...tests], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const stop = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    onStart(stop);
    let stdout = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, limitMs);
    child.on('error', () => undefined);
    child.on('close', (status) => {
      clearTimeout(timer);
      stop(); // workers a finished run left behind, if any
      resolve({ status, stdout, timedOut });
    });
  });
}

/** Applies `m`, runs its tests, restores the file; throws when a `find` is not exactly once in it. */
export async function runMutation(m: Mutation, limitMs: number = TEST_RUN_LIMIT_MS): Promise<Outcome> {
  const file = path.join(root, m.file);
  const original = fs.readFileSync(file, 'utf8');
  const mutated = mutate(m, original);
  const restore = (): void => fs.writeFileSync(file, original);
  let stopTests = (): void => undefined;
  // Ctrl-C reaches only this process (the tests run in a group of their own): it stops them too.
  const onSignal = (): void => {
    stopTests();
    restore();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const started = Date.now();
  let outcome: Outcome;
  try {
    fs.writeFileSync(file, mutated);
    const run = await runVitest(m.tests, limitMs, (stop) => (stopTests = stop));
    const failed = failedTests(run.stdout);
    const caught = run.status !== 0;
    const detail = !caught
      ? ''
      : run.timedOut
        ? `vitest hung: stopped after ${limitMs / 1000} s`
        : failed.length > 0
          ? failed.slice(0, 3).join(' | ') + (failed.length > 3 ? ` (+${failed.length - 3})` : '')
          : `vitest exited ${run.status}`;
    outcome = { rule: m.rule, what: m.what, file: m.file, caught, detail, seconds: Math.round((Date.now() - started) / 1000) };
  } finally {
    restore();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  // A restore that did not take would leave a rule disabled in the tree, unnoticed: stop here.
  if (fs.readFileSync(file, 'utf8') !== original) throw new Error(`[${m.rule}] ${m.file} was not restored: git checkout it before anything else`);
  return outcome;
}

/** `git status --porcelain` of the checkout: what a run must leave as it found it. */
function treeState(): string {
  const git = spawnSync('git', ['status', '--porcelain'], { cwd: root, encoding: 'utf8' });
  return git.status === 0 ? git.stdout : `git status failed: ${git.stderr}`;
}

/** The full names of the failed tests in vitest's JSON report (empty when it did not parse). */
function failedTests(stdout: string): string[] {
  const start = stdout.indexOf('{');
  if (start < 0) return [];
  try {
    const report = JSON.parse(stdout.slice(start)) as { testResults?: { assertionResults?: { status: string; fullName: string }[] }[] };
    return (report.testResults ?? []).flatMap((f) => (f.assertionResults ?? []).filter((a) => a.status === 'failed').map((a) => a.fullName));
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const { option } = cliArgs(process.argv.slice(2));
  const only = option('--only', '')
    .split(',')
    .map((s) => s.trim().replace(/^\[|\]$/g, ''))
    .filter(Boolean);
  const out = option('--out', option('--json', ''));
  const chosen = only.length > 0 ? MUTATIONS.filter((m) => only.includes(m.rule)) : MUTATIONS;
  // A list the code has moved away from fails at once, not after minutes of runs.
  const stale = staleMutations(chosen);
  if (stale.length > 0) {
    for (const line of stale) console.error(line);
    process.exitCode = 1;
    return;
  }
  const outcomes: Outcome[] = [];
  const before = treeState();
  const started = Date.now();
  for (const m of chosen) {
    process.stdout.write(`[${m.rule}] ${m.what} … `);
    const o = await runMutation(m);
    outcomes.push(o);
    console.log(`${o.caught ? 'caught' : 'SURVIVED'} (${o.seconds} s)`);
  }
  console.log('\n| rule | mutation | caught | by |\n|---|---|---|---|');
  for (const o of outcomes) console.log(`| [${o.rule}] | ${o.what} | ${o.caught ? 'yes' : '**no**'} | ${o.detail.replace(/\|/g, '/')} |`);
  const seconds = Math.round((Date.now() - started) / 1000);
  const summary = { caught: outcomes.filter((o) => o.caught).length, total: outcomes.length, seconds, outcomes };
  console.log(`\n${summary.caught} of ${summary.total} caught in ${seconds} s`);
  const after = treeState();
  if (out) fs.writeFileSync(path.resolve(out), JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary));
  if (summary.caught < summary.total) process.exitCode = 1;
  if (after !== before) {
    console.error(`the run left the working tree otherwise than it found it (git status --porcelain):\nbefore:\n${before}after:\n${after}`);
    process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
