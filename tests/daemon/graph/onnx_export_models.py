#!/usr/bin/python3
"""Exports the PyTorch models the ONNX import tests use (Debian's python3-torch and
python3-onnx), with a random input and PyTorch's evaluation-mode output for it.

    onnx_export_models.py OUTDIR

writes OUTDIR/cnn.onnx (Conv, BatchNormalization, Relu, MaxPool, Tanh, AveragePool,
GlobalAveragePool, shape arithmetic + Reshape, MatMul, Transpose, Softmax, Sigmoid, Concat,
Flatten, Gemm, Dropout, Gelu as Erf, LeakyRelu, Clip, ReduceMean), cnn_input.bin (5x1x28x28 float32), cnn_output.bin
(5x10 float32, PyTorch's output in evaluation mode) and cumsum.onnx (a model with an
operator the importer does not support: CumSum).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1, stride=2)
        self.drop = nn.Dropout(0.25)
        self.fc1 = nn.Linear(32 * 49 + 16 + 16 * 9, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn(self.c1(x))), 2)         # (N, 8, 14, 14)
        x = torch.tanh(self.c2(x))                               # (N, 16, 7, 7)
        pooled = torch.flatten(F.avg_pool2d(x, 2), 1)            # (N, 16 * 9)
        gap = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)      # (N, 16)
        a = x.reshape(x.size(0), 16, 49)                          # shape arithmetic
        att = torch.softmax(torch.matmul(a, a.transpose(1, 2)) / 7.0, dim=-1)
        b = torch.sigmoid(torch.matmul(att, a))
        feats = torch.cat([torch.flatten(torch.cat([a, b], dim=1), 1), gap, pooled], dim=1)
        h = F.gelu(self.fc1(self.drop(feats)))
        h = F.leaky_relu(h, 0.1) + torch.clamp(h, -0.5, 0.5) + h.mean(dim=1, keepdim=True)
        return self.fc2(h)


class CumSum(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)

    def forward(self, x):
        return torch.cumsum(self.fc(torch.flatten(x, 1)), dim=1)


def export(model, path, example):
    torch.onnx.export(model, example, path, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, opset_version=14,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    cnn = Cnn()
    cnn.train()
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        for _ in range(3):
            cnn(torch.randn(16, 1, 28, 28) * 2 + 0.5)
    cnn.eval()
    x = torch.randn(5, 1, 28, 28)
    with torch.no_grad():
        y = cnn(x)
    export(cnn, os.path.join(out, "cnn.onnx"), x)
    x.numpy().astype(np.float32).tofile(os.path.join(out, "cnn_input.bin"))
    y.numpy().astype(np.float32).tofile(os.path.join(out, "cnn_output.bin"))
    export(CumSum().eval(), os.path.join(out, "cumsum.onnx"), x)
    print("exported to", out)


if __name__ == "__main__":
    main()
