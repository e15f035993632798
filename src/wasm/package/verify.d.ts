/** `trailsift/verify`: evidence bundles and checkpoints of trailsift's verifiable log. */

/** A text file, its bytes, or (for JSON) its parsed value. */
export type Input = string | Uint8Array | ArrayBuffer | ArrayBufferView | object;

/** Verifier keys (`<name>+<key id>+<key>`): an array, or text of one a line. */
export type Keys = string | Uint8Array | readonly string[];

export interface VerifyEvidenceOptions {
  keys: Keys;
  /**
   * For a sidecar bundle (`<object>.evidence.json`): the object file, as text or bytes
   * (JSON or NDJSON, plain or gzip), or its events. Entry `i` then proves event `i`.
   */
  events?: string | Uint8Array | ArrayBuffer | ArrayBufferView | readonly (object | string)[];
}

/** The signed checkpoint a verification checked against, and the key that signed it. */
export interface CheckpointInfo {
  /** `<log origin>/<account>`. */
  origin: string;
  /** The tree size (how many events the log held). */
  size: number;
  /** The root hash, standard base64. */
  rootHash: string;
  /** The verifier key that verified the signature: `<name>+<key id>`. */
  key: string;
}

export interface Failure {
  /** The entry's position in the bundle (from 0); null when the whole bundle failed. */
  index: number | null;
  /** The entry's sequence number; null when not known. */
  seq: number | null;
  /** Stable code: `bad_signature`, `unknown_key`, `bad_checkpoint`, `bad_proof`,
   * `seq_out_of_range`, `count_mismatch`, `origin_mismatch`, `not_consistent`,
   * `bad_bundle`, `missing_event` or `bad_event`. */
  code: string;
  /** What the code means, in one sentence (the same as the CLI prints). */
  explanation: string;
  /** What exactly was found. */
  message: string;
}

export interface EvidenceVerification {
  /** No failures. */
  ok: boolean;
  /** The checkpoint, when its signature verified. */
  checkpoint: CheckpointInfo | null;
  /** How many entries proved their event. */
  verified: number;
  failures: Failure[];
}

export interface ConsistencyVerification {
  ok: boolean;
  old: CheckpointInfo | null;
  new: CheckpointInfo | null;
  failures: Failure[];
}

/** Verifies an evidence bundle against verifier keys; throws `TrailsiftError` (`bad_key`) on malformed keys. */
export declare function verifyEvidence(bundle: Input, options: VerifyEvidenceOptions): EvidenceVerification;

/** Checks that the older signed checkpoint's tree is a prefix of the newer one's. */
export declare function verifyConsistency(
  oldCheckpoint: string | Uint8Array,
  newCheckpoint: string | Uint8Array,
  proof: Input,
  options: { keys: Keys },
): ConsistencyVerification;
