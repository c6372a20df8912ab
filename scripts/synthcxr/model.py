"""The study's lightweight CNN.

Three blocks of Conv(3x3, padding 1) -> ReLU -> MaxPool(2x2), then one fully connected layer to two
logits. No dropout, batch-norm or weight decay: differences between training domains must come from
the data, not from regularisation.
"""

import torch
from torch import nn


class StudyCNN(nn.Module):
    """Conv-ReLU-MaxPool x3 followed by a linear layer to ``n_classes`` logits.

    ``channels_last`` stores conv weights and activations as NHWC, which oneDNN's convolutions run
    faster on CPU (tools/benchmark/throughput.py: about 10% per training step). It changes the memory layout,
    not the model: the same seed gives the same numbers on every run, not the same bits as NCHW.
    """

    def __init__(self, widths=(32, 64, 128), image_size=128, n_classes=2, channels_last=True):
        super().__init__()
        if image_size % 8:
            raise ValueError(f"image_size must be divisible by 8 (three 2x2 pools), got {image_size}")
        layers = []
        in_channels = 1
        for width in widths:
            layers += [
                nn.Conv2d(in_channels, width, kernel_size=3, padding=1),
                nn.ReLU(),
                nn.MaxPool2d(2),
            ]
            in_channels = width
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        self.classifier = nn.Linear(in_channels * side * side, n_classes)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.to(memory_format=self.memory_format)

    def forward(self, x):
        x = x.contiguous(memory_format=self.memory_format)
        return self.classifier(torch.flatten(self.features(x), 1))


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def to_input(images_uint8):
    """uint8 images (N, H, W) -> float tensor (N, 1, H, W) in [0, 1]."""
    return images_uint8.unsqueeze(1).float().div_(255.0)
