"""nn.utils.fusion against torch.nn.utils.fusion. Until ember's Conv/BatchNorm modules land,
small local modules stand in for them (fusion only reads weight/bias and the batch norm's
running statistics, eps and affine parameters); torch uses its real modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional as F

from .util import close, raises_like

R = np.random.RandomState(0)


class Conv(ember.nn.Module):
    def __init__(self, weight, bias, transposed=False):
        super().__init__()
        self.weight = ember.nn.Parameter(ember.tensor(weight))
        self.bias = None if bias is None else ember.nn.Parameter(ember.tensor(bias))
        self.transposed = transposed

    def forward(self, x):
        fn = F.conv_transpose2d if self.transposed else F.conv2d
        return fn(x, self.weight, self.bias)


class BN(ember.nn.Module):
    """Eval-mode batch norm over dim 1 (the attributes nn.BatchNorm*d has)."""

    def __init__(self, tbn):
        super().__init__()
        self.num_features, self.eps = tbn.num_features, tbn.eps
        self.register_buffer("running_mean", ember.tensor(tbn.running_mean.numpy()))
        self.register_buffer("running_var", ember.tensor(tbn.running_var.numpy()))
        self.weight = self.bias = None
        if tbn.affine:
            self.weight = ember.nn.Parameter(ember.tensor(tbn.weight.detach().numpy()))
            self.bias = ember.nn.Parameter(ember.tensor(tbn.bias.detach().numpy()))

    def forward(self, x):
        shape = [1, -1] + [1] * (x.dim() - 2)
        y = (x - self.running_mean.reshape(shape)) / (self.running_var + self.eps).sqrt().reshape(
            shape)
        return y if self.weight is None else y * self.weight.reshape(shape) + self.bias.reshape(
            shape)


def torch_bn(kind, c, affine=True, dtype=torch.float32):
    bn = kind(c, affine=affine, eps=1e-3).to(dtype)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor(R.randn(c)))
        bn.running_var.copy_(torch.tensor(R.rand(c) + 0.5))
        if affine:
            bn.weight.copy_(torch.tensor(R.randn(c)))
            bn.bias.copy_(torch.tensor(R.randn(c)))
    return bn.eval()


@pytest.mark.parametrize("bias,affine,transpose", [(True, True, False), (False, False, False),
                                                   (True, True, True), (False, True, True)])
def test_fuse_conv_bn_eval(bias, affine, transpose):
    cin, cout = 3, 4
    kind = torch.nn.ConvTranspose2d if transpose else torch.nn.Conv2d
    tconv = kind(cin, cout, 2, bias=bias).eval()
    tbn = torch_bn(torch.nn.BatchNorm2d, cout, affine)
    econv = Conv(tconv.weight.detach().numpy(),
                 tconv.bias.detach().numpy() if bias else None, transpose).eval()
    ebn = BN(tbn).eval()
    tf = torch.nn.utils.fuse_conv_bn_eval(tconv, tbn, transpose=transpose)
    ef = ember.nn.utils.fuse_conv_bn_eval(econv, ebn, transpose=transpose)
    assert type(ef) is Conv and ef is not econv and ef.weight is not econv.weight
    assert isinstance(ef.weight, ember.nn.Parameter) and isinstance(ef.bias, ember.nn.Parameter)
    assert ef.weight.requires_grad and ef.bias.requires_grad == bias
    close(tf.weight, ef.weight)
    close(tf.bias, ef.bias)
    x = R.randn(2, cin, 5, 5).astype(np.float32)
    close(tf(torch.tensor(x)), ef(ember.tensor(x)), 1e-4, 1e-5)
    close(ebn(econv(ember.tensor(x))), ef(ember.tensor(x)), 1e-4, 1e-5)
    if bias:
        assert econv.bias is not None
    else:
        assert econv.bias is None


def test_fuse_conv_bn_weights_keeps_dtypes():
    w = torch.tensor(R.randn(4, 2, 3, 3))
    bn = torch_bn(torch.nn.BatchNorm2d, 4)
    args_t = (w, None, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    args_e = [None if a is None else a if isinstance(a, float) else
              ember.tensor(a.detach().numpy()) for a in args_t]
    tw, tb = torch.nn.utils.fuse_conv_bn_weights(*args_t)
    ew, eb = ember.nn.utils.fuse_conv_bn_weights(*args_e)
    assert ew.dtype == ember.float64 and eb.dtype == ember.float64
    assert not ew.requires_grad and not eb.requires_grad
    close(tw, ew)
    close(tb, eb)


@pytest.mark.parametrize("features,bias", [(3, True), (1, True), (3, False)])
def test_fuse_linear_bn_eval(features, bias):
    tlin = torch.nn.Linear(5, 3, bias=bias).eval()
    tbn = torch_bn(torch.nn.BatchNorm1d, features)
    elin = ember.nn.Linear(5, 3, bias=bias).eval()
    elin.weight = ember.nn.Parameter(ember.tensor(tlin.weight.detach().numpy()))
    if bias:
        elin.bias = ember.nn.Parameter(ember.tensor(tlin.bias.detach().numpy()))
    ebn = BN(tbn).eval()
    tf = torch.nn.utils.fuse_linear_bn_eval(tlin, tbn)
    ef = ember.nn.utils.fuse_linear_bn_eval(elin, ebn)
    assert type(ef) is ember.nn.Linear and ef is not elin
    close(tf.weight, ef.weight)
    close(tf.bias, ef.bias)
    x = R.randn(4, 5).astype(np.float32)
    close(tf(torch.tensor(x)), ef(ember.tensor(x)), 1e-5, 1e-5)
    close(ebn(elin(ember.tensor(x))), ef(ember.tensor(x)), 1e-5, 1e-5)


def test_fusion_errors():
    tconv, tbn = torch.nn.Conv2d(2, 3, 1), torch_bn(torch.nn.BatchNorm2d, 3)
    econv, ebn = Conv(tconv.weight.detach().numpy(), None), BN(tbn)
    raises_like(lambda: torch.nn.utils.fuse_conv_bn_eval(tconv, tbn),
                lambda: ember.nn.utils.fuse_conv_bn_eval(econv, ebn))
    tlin, tbn4 = torch.nn.Linear(2, 3).eval(), torch_bn(torch.nn.BatchNorm1d, 4)
    elin, ebn4 = ember.nn.Linear(2, 3).eval(), BN(tbn4).eval()
    raises_like(lambda: torch.nn.utils.fuse_linear_bn_eval(tlin, tbn4),
                lambda: ember.nn.utils.fuse_linear_bn_eval(elin, ebn4))
    tbn3 = torch.nn.BatchNorm1d(3, track_running_stats=False).eval()
    ebn3 = BN(torch_bn(torch.nn.BatchNorm1d, 3)).eval()
    ebn3.running_mean = ebn3.running_var = None
    raises_like(lambda: torch.nn.utils.fuse_linear_bn_eval(tlin, tbn3),
                lambda: ember.nn.utils.fuse_linear_bn_eval(elin, ebn3))
