// Partition maintenance: the public surface.
export { maintainPartitions, createMonthPartitions, policyFromSettings, type PartitionPolicy, type MaintenanceReport, type TableReport } from './maintain.ts';
export { monthOf, addMonths, monthRange } from './months.ts';
export { PARTITIONED_TABLES, type PartitionedTable } from './queries.ts';
