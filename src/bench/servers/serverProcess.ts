// The bench servers' side of startServerProcess (bench/httpLoad.ts): report the URL over the IPC
// channel, and exit when the channel closes (the bench process ended, however it ended).

/** Sends url to the parent and ties this process's life to the parent's; close runs on SIGTERM. */
export function serveForParent(url: string, close: () => Promise<unknown>): void {
  process.send!({ url });
  process.once('disconnect', () => process.exit(0));
  process.once('SIGTERM', () => void close().then(() => process.exit(0)));
}
