"""Splits a V8 .cpuprofile of bench/infer-profile.ts into kernels, JavaScript in the fused encoder, other JavaScript
and the inferenceMode walk (samples under inferenceMode only). Usage: python3 tools/cpuprofile-categories.py <file>"""
import json,sys,collections
p=json.load(open(sys.argv[1]))
nodes={n['id']:n for n in p['nodes']}
parent={}
for n in p['nodes']:
    for c in n.get('children',[]): parent[c]=n['id']
def stack(i):
    out=[]
    while i is not None:
        cf=nodes[i]['callFrame']; out.append((cf['functionName'],cf['url'].split('/')[-1])); i=parent.get(i)
    return out
# only samples under the timed loop: stacks containing inferenceMode
cat=collections.Counter(); total=0
native={'sgemm':'sgemm','attentionForward':'attention kernel','layerNormForward':'layerNorm kernel','permute':'permute kernel (head split/merge)','int8GemmPacked':'int8 GEMM','unary':'elementwise kernels','binarySame':'elementwise kernels','conv2dForward':'other kernels','embeddingForward':'other kernels','reduce':'other kernels'}
for s,d in zip(p['samples'],p['timeDeltas']):
    st=stack(s)
    if not any(f=='inferenceMode' for f,_ in st): continue
    total+=d
    f,u=st[0]
    if f=='(garbage collector)': cat['garbage collector']+=d; continue
    if u=='' and f in native: cat[native[f]]+=d; continue
    if u=='' and f not in ('(program)',): cat['other native: '+f]+=d; continue
    infused=any(uu=='fused-encoder.ts' for _,uu in st)
    if any(ff=='liveStorages' or ff=='close' and uu=='storage-pool.ts' for ff,uu in st): cat['inferenceMode walk/pool']+=d; continue
    cat['JS in the fused encoder' if infused else 'JS outside the encoder (embedding, pooling, head, ...)']+=d
print(f"samples under inferenceMode: {total/1e3:.0f} ms")
for k,v in cat.most_common(): print(f"{100*v/total:5.1f}%  {k}")
