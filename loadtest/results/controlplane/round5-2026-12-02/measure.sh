#!/bin/bash
# churn and table build, before (main 025c6b3) and after (ctlplane4), interleaved; same loadtest classes
churn() { echo "=== churn $1 $(date -u +%T) $(cat /proc/loadavg)"; java -Xmx2g $2 -cp /tmp/cp4/sluice-$1.jar:/tmp/cp4/lt-new dev.sluice.loadtest.controlplane.EndpointChurnRunner --warmup-seconds 30 --seconds 30 2>&1 | grep -v "SyncLoop - route table published\|^SLF4J\| INFO "; }
tb() { echo "=== table build $1 --change $2 $(date -u +%T) $(cat /proc/loadavg)"; java -Xmx2g -cp /tmp/cp4/sluice-$1.jar:/tmp/cp4/lt-new dev.sluice.loadtest.controlplane.TableBuildBenchmark --warmup 15 --rounds 60 --change $2 2>&1 | grep -v "^SLF4J"; }
churn after2 > churn-after2-1.txt
churn before > churn-before-2.txt
tb before endpoints > tb-before-endpoints.txt
tb after2 endpoints > tb-after2-endpoints.txt
churn after2 > churn-after2-2.txt
churn after2 "-agentpath:/tmp/ap-cp/linux-x64/libasyncProfiler.so=start,event=cpu,interval=1ms,threads,file=/tmp/cp4/churn-after2.collapsed,collapsed" > churn-after2-profiled.txt
echo done > measure.done
