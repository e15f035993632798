// `filterNdjson`'s answer for plain bytes: the matching lines copied once, straight from
// the caller's bytes, instead of collected in the module's memory and copied out of it.
// `ranges` holds [start, end) pairs of byte offsets (a view of the module's memory, valid
// during this call only); `newline` adds the `\n` a last line without one gets.
export function gather(input, ranges, newline) {
  let size = newline ? 1 : 0;
  for (let i = 0; i < ranges.length; i += 2) size += ranges[i + 1] - ranges[i];
  const out = new Uint8Array(size);
  const { buffer, byteOffset } = input;
  let at = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    const n = ranges[i + 1] - ranges[i];
    out.set(new Uint8Array(buffer, byteOffset + ranges[i], n), at);
    at += n;
  }
  if (newline) out[at] = 10;
  return out;
}
