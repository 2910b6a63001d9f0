# per target of a bench.sh fixed-rate run: median over its runs of the mean CPU 1 and CPU 0 busy % (mpstat, SYS_LOG=1) during the recorded part
# usage: python3 cpu-by-target.py bench.log mpstat.txt[.gz]   (CPU 0 busy excludes iowait: Sluice's idle io_uring wait is counted as iowait)
import re,sys,datetime,statistics,gzip
log, mp = sys.argv[1], sys.argv[2]
op = gzip.open if mp.endswith('.gz') else open
rows={}
for line in op(mp,'rt'):
    f=line.split()
    if len(f)==12 and f[1] in ('0','1') and re.match(r'\d\d:\d\d:\d\d',f[0]):
        rows[(f[0],f[1])]=[float(x) for x in f[2:]]
def t(s): return datetime.datetime.strptime(s,'%H:%M:%S')
acc={}
for line in open(log):
    m=re.match(r'\[(\d\d:\d\d:\d\d)\] round (\d+) rate (\S+): rate=.*p99_ms=([0-9.]+)',line)
    if not m: continue
    end=t(m.group(1)); tgt=m.group(3)
    c1=[];c0=[]
    for k in range(3,15):
        s=(end-datetime.timedelta(seconds=k)).strftime('%H:%M:%S')
        if (s,'1') in rows:
            v=rows[(s,'1')]; c1.append((100-v[3]-v[9], v[0]+v[1], v[2], v[5]))
            v0=rows[(s,'0')]; c0.append(100-v0[3]-v0[9])
    if c1:
        acc.setdefault(tgt,[]).append((statistics.mean(x[0] for x in c1),statistics.mean(x[1] for x in c1),statistics.mean(x[2] for x in c1),statistics.mean(x[3] for x in c1),statistics.mean(c0)))
for tgt,v in acc.items():
    print(f"{tgt:14s} runs {len(v)}  cpu1 busy {statistics.median(x[0] for x in v):.1f}% user {statistics.median(x[1] for x in v):.1f} sys {statistics.median(x[2] for x in v):.1f} soft {statistics.median(x[3] for x in v):.1f}  cpu0 busy {statistics.median(x[4] for x in v):.1f}%")
