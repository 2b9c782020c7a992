"""Not heed: a word-presence logistic-regression baseline for the spam split (numpy only).
Run the two dump scripts first (they write /tmp/spam.json and /tmp/spamh.json), then:
  python3 tools/baselines/spam_logreg.py [--out bench/results/spam-logreg.json]
Prints valid/test accuracy for body-only (head+tail 255 words) and with header-field sets, and
with --out writes them (with split sizes and one standard error, sqrt(p(1-p)/n)) as raw JSON.
This is a reference point, not a model choice: no heed setting is picked from its test column."""
import json, re, numpy as np, collections, sys, time, os
d = json.load(open('/tmp/spam.json')); H = json.load(open('/tmp/spamh.json'))
W = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[$!]")
def toks(t, n=255):
    w = W.findall(t.lower())
    if len(w) <= n: return w
    h = (n+1)//2; return w[:h] + w[len(w)-(n-h):]
def htoks(h, keys):
    out = []
    for k in keys:
        if k in h: out += [k + ':' + w for w in W.findall(h[k].lower())]
        else: out.append(k + ':<none>')
    return out
def run(keys):
    tr = [(l, toks(t) + htoks(h, keys)) for (l, t, g), h in zip(d['train'], H['train'])]
    cnt = collections.Counter(w for _, ws in tr for w in ws)
    vocab = {w: i for i, (w, c) in enumerate(cnt.most_common(20000)) if c >= 2}
    def vec(ws):
        v = np.zeros(len(vocab))
        for w in set(ws):
            if w in vocab: v[vocab[w]] = 1
        return v
    X = np.array([vec(ws) for _, ws in tr]); y = np.array([l for l, _ in tr])
    w = np.zeros(X.shape[1]); b = 0.0
    for it in range(300):
        p = 1/(1+np.exp(-(X@w+b))); g = X.T@(p-y)/len(y) + 1e-4*w; w -= 2.0*g; b -= 2.0*(p-y).mean()
    out = {}
    row = {'headerFields': keys, 'vocabulary': len(vocab)}
    for s in ['valid', 'test']:
        Xs = np.array([vec(toks(t) + htoks(h, keys)) for (l, t, g), h in zip(d[s], H[s])]); ys = np.array([l for l, t, g in d[s]])
        p = float((((Xs@w+b) > 0) == ys).mean())
        out[s] = round(100*p, 2)
        row[s] = {'accuracy': p, 'examples': len(ys), 'standardError': (p*(1-p)/len(ys))**0.5}
    print(keys, out, flush=True)
    RESULTS.append(row)
RESULTS = []
started = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())
run([])
run(['content-type', 'x-mailer', 'user-agent', 'mime-version', 'x-priority', 'x-msmail-priority'])
run(['from', 'reply-to'])
run(['from', 'reply-to', 'content-type', 'x-mailer', 'user-agent', 'mime-version', 'x-priority', 'x-msmail-priority'])
run(['from', 'reply-to', 'to', 'content-type', 'x-mailer', 'user-agent', 'message-id', 'mime-version', 'x-priority', 'x-msmail-priority', 'precedence', 'list-id', 'list-unsubscribe'])
if '--out' in sys.argv:
    path = sys.argv[sys.argv.index('--out') + 1]
    json.dump({'what': 'not heed: word-presence logistic regression on the spam split (tools/baselines/spam_logreg.py)',
               'command': 'node --import tsx tools/baselines/spam-dump.mts && node --import tsx tools/baselines/spam-headers-dump.mts && /usr/bin/python3 tools/baselines/spam_logreg.py --out ' + path,
               'started': started, 'finished': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
               'training': 'full-batch gradient descent, 300 iterations, lr 2.0, L2 1e-4; vocabulary: the 20,000 most frequent training tokens seen at least twice',
               'rows': RESULTS}, open(path, 'w'), indent=2)
    print('written to', path)
