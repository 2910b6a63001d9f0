import sys, collections
f = sys.argv[1]; n = int(sys.argv[2]) if len(sys.argv) > 2 else 40
keys = sys.argv[3:]
self_c = collections.Counter(); incl = collections.Counter(); total = 0
for line in open(f):
    stack, _, c = line.rstrip().rpartition(' ')
    c = int(c); total += c
    frames = stack.split(';')
    self_c[frames[-1]] += c
    seen = set()
    for fr in frames:
        if fr not in seen:
            seen.add(fr); incl[fr] += c
print("total", total)
print("--- self")
for k, v in self_c.most_common(n): print(f"{100*v/total:5.1f}% {k[:150]}")
print("--- inclusive")
for k, v in incl.most_common(n*2):
    print(f"{100*v/total:5.1f}% {k[:150]}")
