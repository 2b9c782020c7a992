"""PyTorch peer for bench/train.ts: one training step of the G2P seq2seq Transformer.

Usage: python3 train_torch.py '<json cfg>'   (cfg: the TRAIN_CFG dims, threads, the batch ids, reps)
Prints one JSON line: {"version", "threads", "ms" (median ms/step), "n", "loss0", "loss1", "params"}.

Same model as heed's Seq2SeqTransformer at the G2P defaults: embeddings x sqrt(d) + sinusoidal
positions + dropout, nn.Transformer(batch_first, norm_first, relu; its final encoder/decoder
norms are heed's too), output projection tied to the target embedding; cross-entropy with
label smoothing and ignore_index = pad; AdamW (foreach), zero_grad(set_to_none=True).
"""
import json, math, sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from step_timer import time_steps

cfg = json.loads(sys.argv[1])
torch.set_num_threads(cfg['threads'])
torch.manual_seed(0)
D, V = cfg['dModel'], cfg['tgtVocab']
B, S, T = cfg['B'], cfg['S'], cfg['T']


def sinusoid(n, d):
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2] = torch.sin(pos * div)
    pe[:, 1::2] = torch.cos(pos * div)
    return pe


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.src_embed = nn.Embedding(cfg['srcVocab'], D, padding_idx=cfg['pad'])
        self.tgt_embed = nn.Embedding(V, D, padding_idx=cfg['pad'])
        self.register_buffer('pe', sinusoid(48, D))
        self.drop = nn.Dropout(cfg['dropout'])
        self.transformer = nn.Transformer(d_model=D, nhead=cfg['heads'], num_encoder_layers=cfg['encLayers'],
                                          num_decoder_layers=cfg['decLayers'], dim_feedforward=cfg['ff'],
                                          dropout=cfg['dropout'], activation='relu', batch_first=True, norm_first=True)

    def embed(self, emb, ids):
        return self.drop(emb(ids) * math.sqrt(D) + self.pe[: ids.shape[1]])

    def forward(self, src, tgt_in):
        src_pad = src == cfg['pad']
        causal = torch.full((tgt_in.shape[1], tgt_in.shape[1]), float('-inf')).triu(1)
        h = self.transformer(self.embed(self.src_embed, src), self.embed(self.tgt_embed, tgt_in), tgt_mask=causal,
                             src_key_padding_mask=src_pad, memory_key_padding_mask=src_pad)
        return F.linear(h, self.tgt_embed.weight)  # tied output projection


model = Seq2Seq()
with torch.no_grad():  # the G2P task's embedding init: N(0, d^-1/2), pad row 0
    for emb in (model.src_embed, model.tgt_embed):
        nn.init.normal_(emb.weight, 0, D ** -0.5)
        emb.weight[cfg['pad']].zero_()
model.train()
opt = torch.optim.AdamW(model.parameters(), lr=cfg['lr'], weight_decay=cfg['weightDecay'], foreach=True)
src = torch.tensor(cfg['src'], dtype=torch.long).view(B, S)
tgt_in = torch.tensor(cfg['tgtIn'], dtype=torch.long).view(B, T)
tgt_out = torch.tensor(cfg['tgtOut'], dtype=torch.long).view(B * T)


def step():
    opt.zero_grad(set_to_none=True)
    logits = model(src, tgt_in)
    loss = F.cross_entropy(logits.reshape(-1, V), tgt_out, ignore_index=cfg['pad'], label_smoothing=cfg['labelSmoothing'])
    loss.backward()
    opt.step()
    return loss.item()


time_steps(step, cfg, model)
