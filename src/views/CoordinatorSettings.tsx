import { useState, type FormEvent } from 'react';
import { HARD_JOB_LIMITS } from '../core/jobChecks.ts';
import { rotateRequesterKey, saveJobLimits } from '../host/coordinatorRole.ts';
import { useQuorumStore } from '../stores/store.ts';
import { joinLink } from './route.ts';
import { errorMessage } from '../protocol/errorMessage.ts';

const MIB = 1024 * 1024;

/** The coordinator's requester key ([J-1]) and job size limits ([J-4]). */
export function CoordinatorSettings({ networkId }: { networkId: string }) {
  const key = useQuorumStore((s) => s.coordinator.requesterKey);
  const limits = useQuorumStore((s) => s.coordinator.jobLimits);
  const [draft, setDraft] = useState<{ model: string; input: string; items: string } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const shown = draft ?? { model: String(limits.maxModelBytes / MIB), input: String(limits.maxInputBytes / MIB), items: String(limits.maxItems) };
  const save = (e: FormEvent): void => {
    e.preventDefault();
    setStatus(null);
    saveJobLimits(networkId, {
      maxModelBytes: Math.round(Number(shown.model) * MIB),
      maxInputBytes: Math.round(Number(shown.input) * MIB),
      maxItems: Number(shown.items),
    }).then(
      () => {
        setDraft(null);
        setStatus('saved');
      },
      (err: unknown) => setStatus(errorMessage(err)),
    );
  };
  const [rotation, setRotation] = useState<string | null>(null);
  const rotate = (): void => {
    setRotation(null);
    rotateRequesterKey(networkId).then(
      () => setRotation('rotated: the old key no longer submits or reads jobs; give requesters the new link'),
      (err: unknown) => setRotation(errorMessage(err)),
    );
  };
  const fingerprint = useQuorumStore((s) => s.keyTrust.coordinatorFingerprint);
  const route = joinLink('requester', networkId, fingerprint);
  const requesterLink = key ? `${location.origin}/${route}${route.includes('?') ? '&' : '?'}key=${key}` : null;
  return (
    <div className="settings" data-testid="coordinator-settings">
      <h2>Who may submit</h2>
      <p>
        Requester key: <code data-testid="requester-key">{key ?? '…'}</code>. Only requesters holding it may submit jobs and see their progress and results.
        {requesterLink ? (
          <>
            {' '}
            Give requesters this link: <a href={requesterLink}>{requesterLink}</a>
          </>
        ) : null}
      </p>
      <p>
        <button type="button" data-testid="rotate-requester-key" onClick={rotate}>
          Rotate the requester key
        </button>{' '}
        {rotation ? <span data-testid="rotation-status">{rotation}</span> : null}
      </p>
      <form className="submit" onSubmit={save} data-testid="limits-form">
        <fieldset>
          <legend>Job limits (checked on every submission)</legend>
          <label>
            Largest model (MiB){' '}
            <input
              type="number"
              name="maxModelMiB"
              min={0.001}
              step="any"
              max={HARD_JOB_LIMITS.maxModelBytes / MIB}
              value={shown.model}
              onChange={(e) => setDraft({ ...shown, model: e.target.value })}
            />
          </label>
          <label>
            Largest inputs per job (MiB){' '}
            <input
              type="number"
              name="maxInputMiB"
              min={0.001}
              step="any"
              max={HARD_JOB_LIMITS.maxInputBytes / MIB}
              value={shown.input}
              onChange={(e) => setDraft({ ...shown, input: e.target.value })}
            />
          </label>
          <label>
            Most items per job{' '}
            <input
              type="number"
              name="maxItems"
              min={1}
              max={HARD_JOB_LIMITS.maxItems}
              value={shown.items}
              onChange={(e) => setDraft({ ...shown, items: e.target.value })}
            />
          </label>
          <button type="submit" data-testid="save-limits">
            Save limits
          </button>
          {status ? <span data-testid="limits-status">{status}</span> : null}
        </fieldset>
      </form>
    </div>
  );
}
