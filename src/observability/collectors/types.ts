// What a database collector is: the metric families it fills and one function that reads them.
import type { Queryable } from '../../db/queryable.ts';

/** One metric family a collector fills (name, help, type, label names). */
export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
}

/** One value of a family. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Reads one statistics source (a view or a pgpress table) into samples. */
export interface Collector {
  /** Short name: the `collector` label of pgpress_collector_up. */
  name: string;
  families: readonly MetricFamily[];
  /** A costlier read (table scans): cached for the slow interval, not the scrape cache time. */
  slow?: boolean;
  /** db runs every statement on the background lane within the collector's deadline. */
  collect(db: Queryable): Promise<Sample[]>;
}

/** A gauge family. */
export function gauge(name: string, help: string, labelNames: readonly string[] = []): MetricFamily {
  return { name, help, type: 'gauge', labelNames };
}

/** A counter family (a cumulative figure PostgreSQL keeps). */
export function counter(name: string, help: string, labelNames: readonly string[] = []): MetricFamily {
  return { name, help, type: 'counter', labelNames };
}

/** PostgreSQL's table name as a label: schema-qualified outside public. */
export const TABLE_LABEL_SQL = "CASE WHEN schemaname = 'public' THEN relname ELSE schemaname || '.' || relname END";
