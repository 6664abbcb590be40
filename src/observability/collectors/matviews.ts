// Materialized view staleness from pgpress's refresh bookkeeping (pgpress_matview_staleness).
import { matviewStaleness } from '../../ops/matviews.ts';
import { gauge, type Collector, type Sample } from './types.ts';

/** Age, pending source changes and last refresh duration of each analytics view. */
export const matviewsCollector: Collector = {
  name: 'matviews',
  families: [
    gauge('pgpress_matview_age_seconds', 'Seconds since each analytics view was last refreshed (absent: never refreshed).', ['view']),
    gauge('pgpress_matview_pending_changes', 'Source-table statements committed since each view\'s last refresh (0: current).', ['view']),
    gauge('pgpress_matview_last_refresh_duration_seconds', 'How long each view\'s last refresh took.', ['view']),
  ],
  async collect(db) {
    const out: Sample[] = [];
    for (const v of await matviewStaleness(db)) {
      if (v.ageSeconds !== null) out.push({ name: 'pgpress_matview_age_seconds', labels: { view: v.view }, value: v.ageSeconds });
      out.push({ name: 'pgpress_matview_pending_changes', labels: { view: v.view }, value: v.pendingChanges });
      if (v.lastDurationMs !== null) out.push({ name: 'pgpress_matview_last_refresh_duration_seconds', labels: { view: v.view }, value: v.lastDurationMs / 1000 });
    }
    return out;
  },
};
