// The full stack's bench server ships as src/bench/servers/full.ts; this path keeps working.
import '../../src/bench/servers/full.ts';
