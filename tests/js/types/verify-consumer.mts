// Compiled with `tsc --strict` against the installed package by install.test.mjs: the
// declarations of `trailsift/verify` and `trailsift/verify/web`.
import { verifyEvidence, verifyConsistency, TrailsiftError, type EvidenceVerification, type Failure } from 'trailsift/verify';
import init, { verifyEvidence as verifyInPage } from 'trailsift/verify/web';

const r: EvidenceVerification = verifyEvidence('{}', { keys: ['k'] });
const first: Failure | undefined = r.failures[0];
const where: number | null = first ? first.index : null;
const root: string | undefined = r.checkpoint?.rootHash;
verifyEvidence(new Uint8Array(), { keys: 'k\n', events: [{ auditEventId: 'a' }] });
verifyEvidence({ checkpoint: '', entries: [] }, { keys: 'k', events: new Uint8Array() });
const c = verifyConsistency('old', new Uint8Array(), '{}', { keys: ['k'] });
const ok: boolean = c.ok && c.new !== null;

try {
  verifyEvidence('', { keys: '' });
} catch (e) {
  if (e instanceof TrailsiftError) console.log(e.code);
}

// @ts-expect-error keys are required
verifyEvidence('{}', {});
// @ts-expect-error a bundle is not a number
verifyEvidence(5, { keys: 'k' });

await init();
console.log(verifyInPage, where, root, ok);
