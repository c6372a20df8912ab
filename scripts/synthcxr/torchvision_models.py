"""torchvision's ResNet-18 and DenseNet-121 for one-channel images and two classes (:mod:`synthcxr.classifiers`).

A module of its own because importing torchvision costs about a second: a study of the study CNN alone
(the default) never imports it; :func:`synthcxr.classifiers.build_architecture` does, for these architectures.
"""

import torch
import torchvision
from torch import nn

N_CLASSES = 2


class GlobalMeanPool(nn.Module):
    """Mean over height and width, keeping them as 1 x 1: ``nn.AdaptiveAvgPool2d((1, 1))`` with a
    deterministic backward on CUDA."""

    def forward(self, x):
        return x.mean(dim=(2, 3), keepdim=True)


class DenseNet(torchvision.models.DenseNet):
    """torchvision's DenseNet (same modules, same state-dict keys) with :class:`GlobalMeanPool`'s mean."""

    def forward(self, x):
        out = torch.relu(self.features(x))
        return self.classifier(torch.flatten(out.mean(dim=(2, 3)), 1))


def one_channel_conv(conv):
    """A copy of ``conv`` (its geometry) that takes one input channel; weights set by the caller."""
    return nn.Conv2d(
        1,
        conv.out_channels,
        kernel_size=conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        bias=conv.bias is not None,
    )


def resnet18():
    """torchvision's ResNet-18, one input channel, two classes; the new first convolution gets the
    init ResNet gives every convolution (Kaiming normal, fan-out)."""
    model = torchvision.models.resnet18(weights=None, num_classes=N_CLASSES)
    model.conv1 = one_channel_conv(model.conv1)
    nn.init.kaiming_normal_(model.conv1.weight, mode="fan_out", nonlinearity="relu")
    model.avgpool = GlobalMeanPool()
    return model


def densenet121():
    """torchvision's DenseNet-121 (as ``torchvision.models.densenet121``), one input channel, two classes;
    the new first convolution gets DenseNet's init (Kaiming normal, fan-in)."""
    model = DenseNet(growth_rate=32, block_config=(6, 12, 24, 16), num_init_features=64, num_classes=N_CLASSES)
    model.features.conv0 = one_channel_conv(model.features.conv0)
    nn.init.kaiming_normal_(model.features.conv0.weight)
    return model


BUILDERS = {"resnet18": resnet18, "densenet121": densenet121}
