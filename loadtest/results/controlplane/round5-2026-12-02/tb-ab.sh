#!/bin/bash
# interleaved A/B of the table build: before (main) and after (ctlplane4) jars, same loadtest classes
for round in 1 2; do
  for jar in before after1; do
    for change in endpoints none; do
      echo "=== $jar --change $change (round $round) $(cat /proc/loadavg)"
      java -Xmx2g -cp /tmp/cp4/sluice-$jar.jar:/tmp/cp4/lt-new dev.sluice.loadtest.controlplane.TableBuildBenchmark --warmup 15 --rounds 60 --change $change 2>&1 | grep -v "^SLF4J"
    done
  done
done
