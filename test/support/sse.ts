/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** Events received so far, in order. */
  events: SseEvent[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Resolves once at least `count` events arrived. */
  waitForEvents(count: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

/** Parses one event block (the lines between blank lines) of a text/event-stream. */
function parseBlock(block: string, stream: SseStream): void {
  const data: string[] = [];
  const event: Partial<SseEvent> = {};
  for (const line of block.split('\n')) {
    // Comment lines (`: keep-alive`) carry nothing for the client.
    if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    else if (line.startsWith('id:')) event.id = line.slice(3).trim();
    else if (line.startsWith('event:')) event.event = line.slice(6).trim();
  }
  if (data.length > 0) stream.events.push({ ...event, data: data.join('\n') });
}

/** Opens an SSE stream with fetch and collects its events until the server ends it. */
export async function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  const events: SseEvent[] = [];
  const waiters: Array<() => void> = [];
  const stream: SseStream = {
    status: response.status,
    headers: response.headers,
    events,
    ended: Promise.resolve(),
    waitForEvents: (count, timeoutMs = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `fewer than ${count} events within ${timeoutMs} ms: ${JSON.stringify(events)}`,
              ),
            ),
          timeoutMs,
        );
        const check = (): void => {
          if (events.length >= count) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      }),
    close: () => controller.abort(),
  };
  stream.ended = (async () => {
    if (!response.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          parseBlock(buffer.slice(0, end), stream);
          buffer = buffer.slice(end + 2);
        }
        for (const waiter of waiters.splice(0)) waiter();
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
  })();
  return stream;
}
