"""`make bench`: cold start, work per event, hot keys, throughput, export and cost, measured on a
local stack this package starts itself; results are printed and written to docs/performance.md."""
