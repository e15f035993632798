/** A chunk a trailsift stream accepts. Strings are encoded as UTF-8. */
export type StreamChunk = Uint8Array | ArrayBufferView | ArrayBuffer | string;

/**
 * A `TransformStream` that passes on the NDJSON lines matching `filter`, unchanged
 * (bytes in, bytes out). Memory stays bounded whatever the input size.
 *
 * ```js
 * const out = file.stream().pipeThrough(createFilterStream(compileFilter('action:DELETE')));
 * ```
 */
export declare function createFilterStream(filter: Filter): TransformStream<StreamChunk, Uint8Array>;

/**
 * A `TransformStream` that converts its input as `convert(input, options)` would, holding
 * at most one partial record (bytes in, bytes out; gzip in and out as the options say).
 */
export declare function createConvertStream(options: ConvertOptions): TransformStream<StreamChunk, Uint8Array>;
