#!/bin/bash
# second interleaved churn pair (after first this time), final jars
churn() { echo "=== churn $1 $(date -u +%T) $(cat /proc/loadavg)"; java -Xmx2g -cp /tmp/cp4/sluice-$1.jar:/tmp/cp4/lt-new dev.sluice.loadtest.controlplane.EndpointChurnRunner --warmup-seconds 30 --seconds 30 2>&1 | grep -v "SyncLoop - route table published\|^SLF4J\| INFO "; }
churn after2 > churn-after2-3.txt
churn before > churn-before-3.txt
echo done > measure2.done
