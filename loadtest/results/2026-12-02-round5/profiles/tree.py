import sys, collections
f=sys.argv[1]; root=sys.argv[2]; depth=int(sys.argv[3]); minp=float(sys.argv[4])
tree={}; tot=0
def add(node, frames, n):
    node.setdefault('#',0); node['#']+=n
    if not frames: return
    add(node.setdefault(frames[0],{}), frames[1:], n)
T={}
for line in open(f):
    st,_,n=line.rstrip().rpartition(' '); n=int(n); tot+=n
    fr=st.split(';')
    if root in fr:
        i=fr.index(root); add(T, fr[i:], n)
def short(s):
    s=s.replace('io/netty/handler/codec/','').replace('io/netty/channel/','ch/').replace('io/netty/','').replace('dev/sluice/gateway/proxy/','')
    return s[:110]
def pr(node, d, ind):
    if d>depth: return
    kids=[(k,v) for k,v in node.items() if k!='#']
    kids.sort(key=lambda kv:-kv[1]['#'])
    for k,v in kids:
        p=100*v['#']/tot
        if p<minp: continue
        # collapse single-child chains
        print(f"{ind}{p:5.1f}% {short(k)}")
        pr(v, d+1, ind+'  ')
print('total', tot)
pr(T,0,'')
