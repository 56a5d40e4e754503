// A time limit on one call to the Docker daemon: dockerode has only a
// client-wide timeout, which would also cut the event stream that lives for days.

/**
 * Runs `run` with an abort signal that fires after `timeoutMs` (the error
 * says which call and how long) or when `outer` aborts; rejects at that
 * moment even if the client library missed the abort. `controller` outlives
 * the call when it returns a stream: aborting it later ends the stream.
 */
export async function timedCall<T>(
  what: string,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
  outer: AbortSignal,
  controller = new AbortController(),
): Promise<T> {
  const timer = setTimeout(() => controller.abort(new Error(`Docker did not answer ${what} within ${timeoutMs / 1000} s`)), timeoutMs);
  const onOuterAbort = () => controller.abort(outer.reason);
  if (outer.aborted) onOuterAbort();
  outer.addEventListener('abort', onOuterAbort, { once: true });
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      run(controller.signal),
      new Promise<never>((_resolve, reject) => {
        onAbort = () => reject(controller.signal.reason as Error);
        if (controller.signal.aborted) onAbort();
        else controller.signal.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuterAbort);
    if (onAbort !== undefined) controller.signal.removeEventListener('abort', onAbort);
  }
}
