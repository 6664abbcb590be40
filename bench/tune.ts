// The tune scenario ships (src/bench/scenarios/tune.ts). The tests' validateTuning (test/ops/
// tuningValidation.test.ts) is the same run, with HypoPG installed first when it can be (the
// harness's apt-get, as root), where the shipped one only names the package.
import { validateTuning as shippedValidateTuning, type TuneValidation } from '../src/bench/scenarios/tune.ts';
import { ensureHypopg } from '../test/harness/hypopg.ts';
import { clusterMajor } from '../test/harness/pgCluster.ts';

export { LATEST_COMMENTS_OF_USER, tuneScenario, type TuneValidation } from '../src/bench/scenarios/tune.ts';

/** validateTuning of the shipped scenario, after making sure HypoPG is installed. */
export function validateTuning(opts: Parameters<typeof shippedValidateTuning>[0]): Promise<TuneValidation> {
  ensureHypopg(clusterMajor());
  return shippedValidateTuning(opts);
}
