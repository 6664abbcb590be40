// The bench servers' side of the IPC handshake lives in src/bench/servers/serverProcess.ts.
export * from '../../src/bench/servers/serverProcess.ts';
