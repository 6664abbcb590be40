// Throwaway PostgreSQL clusters (a primary plus streaming replicas) for tests: the one
// implementation ships with `pgpress bench` (src/bench/clusters.ts, which its replicas and tune
// scenarios start); the tests keep importing it from here.
export {
  bindir,
  clusterMajor,
  initdbCluster,
  pgOwner,
  pidAlive,
  signalServer,
  startCluster,
  sweepStaleClusters,
  tailFile,
  type PgNode,
  type PgReplica,
  type TestCluster,
} from '../../src/bench/clusters.ts';
