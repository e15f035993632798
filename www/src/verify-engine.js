// The page's evidence verification, run inside the engine worker: the verifier's own
// module (pkg/verify-web.js, apart from the main one) is imported on first use, so opening
// the page never loads it and the main thread never verifies.

let verifier = null;

function load() {
  verifier ||= import('../pkg/verify-web.js').then(async (m) => {
    await m.default();
    return m;
  });
  // A failed load is tried again on the next verification.
  verifier.catch(() => { verifier = null; });
  return verifier;
}

// `bundle` and `object` are the files' bytes, `keys` verifier keys one a line.
export async function verifyEvidence({ bundle, object, keys }) {
  const m = await load();
  return m.verifyEvidence(bundle, { keys, events: object || undefined });
}
