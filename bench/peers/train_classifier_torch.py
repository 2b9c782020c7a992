"""PyTorch peer for bench/train-classifier.ts: one training step of the spam classifier.

Usage: python3 train_classifier_torch.py '<json cfg>'   (cfg: CLASSIFIER_CFG, threads, the batch, reps)
Prints one JSON line: {"version", "threads", "ms" (median ms/step), "n", "loss0", "loss1", "params"}.

Same model as heed's EncoderClassifier at the spam task's defaults: token embedding (padding row)
+ learned positions, dropout, nn.TransformerEncoder (batch_first, norm_first, exact GELU) with a
final LayerNorm, the mean of the non-padding positions, dropout, linear head; cross-entropy;
AdamW (foreach), zero_grad(set_to_none=True).
"""
import json, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from step_timer import time_steps

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


time_steps(step, cfg, model)
