"""PyTorch peer for bench/train-classifier.ts: one training step of the spam classifier.

Usage: python3 train_classifier_torch.py '<json cfg>'   (cfg: CLASSIFIER_CFG, threads, the batch, reps)
Prints one JSON line: {"version", "threads", "ms" (median ms/step), "n", "loss0", "loss1", "params"}.

Same model as heed's EncoderClassifier at the spam task's defaults: token embedding (padding row)
+ learned positions, dropout, nn.TransformerEncoder (batch_first, norm_first, exact GELU) with a
final LayerNorm, the mean of the non-padding positions, dropout, linear head; cross-entropy;
AdamW (foreach), zero_grad(set_to_none=True).
"""
import json, statistics, sys, time

import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg['threads'])
torch.manual_seed(0)
D, B, T = cfg['dModel'], cfg['B'], cfg['T']


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(cfg['vocab'], D, padding_idx=cfg['pad'])
        self.pos = nn.Embedding(cfg['maxLen'], D)
        self.drop = nn.Dropout(cfg['dropout'])
        layer = nn.TransformerEncoderLayer(D, cfg['heads'], dim_feedforward=cfg['ff'], dropout=cfg['dropout'], activation='gelu',
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg['layers'], norm=nn.LayerNorm(D), enable_nested_tensor=False)
        self.head = nn.Linear(D, cfg['classes'])

    def forward(self, ids):
        pad = ids == cfg['pad']
        x = self.drop(self.tok(ids) + self.pos(torch.arange(ids.shape[1]))[None])
        h = self.encoder(x, src_key_padding_mask=pad)
        keep = (~pad).float()[..., None]
        pooled = (h * keep).sum(1) / keep.sum(1).clamp(min=1)
        return self.head(self.drop(pooled))


model = Classifier()
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=cfg['lr'], weight_decay=cfg['weightDecay'], foreach=True)
ids = torch.tensor(cfg['ids'], dtype=torch.long).view(B, T)
labels = torch.tensor(cfg['labels'], dtype=torch.long)


def step():
    opt.zero_grad(set_to_none=True)
    loss = F.cross_entropy(model(ids), labels)
    loss.backward()
    opt.step()
    return loss.item()


loss0 = step()
for _ in range(cfg['warm']):
    step()
ts = []
t_start = time.perf_counter()
loss1 = loss0
for _ in range(cfg['reps']):
    t0 = time.perf_counter()
    loss1 = step()
    ts.append((time.perf_counter() - t0) * 1e3)
    if (time.perf_counter() - t_start) * 1e3 > cfg['budgetMs'] and len(ts) >= 3:
        break
print(json.dumps({'version': torch.__version__, 'threads': cfg['threads'], 'ms': statistics.median(ts), 'n': len(ts),
                  'loss0': loss0, 'loss1': loss1, 'params': sum(p.numel() for p in model.parameters())}))
