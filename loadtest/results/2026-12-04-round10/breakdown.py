import sys, statistics
ev=[l.split() for l in open(sys.argv[1]) if l.startswith('TRACE')]
rows=[]; cur=None
for e in ev:
    k=e[1]; t=int(e[2])/1e6
    if k=='write':
        cur={'write':t}; rows.append(cur)
    elif cur is not None and k not in cur:
        cur[k]=t
keys=['event','scanstart','scanned','rebuild','translated','done','served']
prev='write'
for k in keys:
    d=sorted(r[k]-r[prev] for r in rows[-300:] if k in r and prev in r)
    print(f'{prev:>10} -> {k:<10} median {statistics.median(d):6.1f}  p90 {d[int(len(d)*0.9)]:6.1f}  max {d[-1]:6.1f}')
    prev=k
