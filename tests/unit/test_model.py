import torch
from torch import nn

from synthcxr.model import StudyCNN, count_parameters


def test_layer_structure_is_three_conv_relu_pool_blocks_then_linear():
    model = StudyCNN()
    kinds = [type(layer) for layer in model.features]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.MaxPool2d] * 3
    convs = [layer for layer in model.features if isinstance(layer, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [32, 64, 128]
    assert all(c.kernel_size == (3, 3) and c.padding == (1, 1) for c in convs)
    assert isinstance(model.classifier, nn.Linear)
    assert (model.classifier.in_features, model.classifier.out_features) == (128 * 16 * 16, 2)
    # No regularisation layers anywhere.
    assert not any(isinstance(m, (nn.Dropout, nn.BatchNorm2d)) for m in model.modules())


def test_parameter_count_matches_hand_count():
    conv = lambda cin, cout: cin * cout * 9 + cout  # noqa: E731
    expected = conv(1, 32) + conv(32, 64) + conv(64, 128) + 128 * 16 * 16 * 2 + 2
    assert count_parameters(StudyCNN()) == expected == 158_210


def test_forward_gives_two_logits_per_image_and_widths_are_configurable():
    model = StudyCNN(widths=(4, 8, 16), image_size=64)
    assert model(torch.zeros(3, 1, 64, 64)).shape == (3, 2)


def test_channels_last_changes_the_memory_layout_not_the_function():
    torch.manual_seed(0)
    nchw = StudyCNN(widths=(4, 8, 16), image_size=64, channels_last=False)
    nhwc = StudyCNN(widths=(4, 8, 16), image_size=64)
    nhwc.load_state_dict(nchw.state_dict())
    assert nhwc.features[3].weight.is_contiguous(memory_format=torch.channels_last)
    assert not nchw.features[3].weight.is_contiguous(memory_format=torch.channels_last)
    # A state dict saved by either loads into the other: the checkpoints hold the same values.
    assert all(torch.equal(a, b) for a, b in zip(nchw.state_dict().values(), nhwc.state_dict().values()))
    x = torch.rand(5, 1, 64, 64)
    torch.testing.assert_close(nhwc(x), nchw(x), rtol=1e-5, atol=1e-6)
