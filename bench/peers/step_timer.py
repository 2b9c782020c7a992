"""The timing loop of the PyTorch training-step peers (train_torch.py, train_classifier_torch.py).

time_steps(step, cfg, model): one step for the starting loss, cfg['warm'] warm-up steps, then up to
cfg['reps'] timed steps (stopping after cfg['budgetMs'] once 3 are timed); prints the one JSON line
the TypeScript side parses: {"version", "threads", "ms" (median ms/step), "n", "loss0", "loss1", "params"}.
"""
import json
import statistics
import time

import torch


def time_steps(step, cfg, model):
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
